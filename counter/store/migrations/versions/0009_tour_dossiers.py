"""The roaming bus takes the dossiers of the day's appointments along (docs/tour.md).

``tour_dossier`` holds, in a bus's replica, the agencies' answers for the persons
of the households that have an appointment on the tour, as ``counter tour
prepare --appointments`` fetched them: one row per person, source and section,
the answer as JSON, when the agency gave it and when the prepare stored it. The
town's database has the table too (one schema for every counter database) and
never writes to it. Deleted by ``counter tour purge-dossiers``.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-14
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tour_dossier",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(60), nullable=False),
        sa.Column("section", sa.String(60), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answer", sa.String(), nullable=False),
    )
    op.create_index("ux_tour_dossier_section", "tour_dossier", ["person_id", "source", "section"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_tour_dossier_section", table_name="tour_dossier")
    op.drop_table("tour_dossier")
