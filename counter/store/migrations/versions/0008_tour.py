"""The roaming bus (docs/tour.md): what central applied of each bus, and what each bus heard back.

``tour_applied`` lives in the town's database: one row per item a bus sent (a
household, a person, a visit, an audit entry), written in the transaction that
applied it, so that an item sent twice is applied once. ``tour_synced`` lives in
the bus's replica: what came back for each item. Both databases get both tables
(one schema for every counter database). ``duplicate_review.source`` already
holds 20 characters: "tour" fits, nothing widens.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-12
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tour_applied",
        sa.Column("key", sa.String(120), primary_key=True),
        sa.Column("bus", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("local_id", sa.Integer(), nullable=False),
        sa.Column("central_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_tour_applied_bus", "tour_applied", ["bus", "kind"])
    op.create_table(
        "tour_synced",
        sa.Column("key", sa.String(120), primary_key=True),
        sa.Column("central_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("tour_synced")
    op.drop_index("ix_tour_applied_bus", table_name="tour_applied")
    op.drop_table("tour_applied")
