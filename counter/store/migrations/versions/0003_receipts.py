"""Receipts kept with their visit, the town's crèche waiting lists, the town's rank.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The receipt as handed over (JSON), written by the confirming transaction:
    # its files can always be written again, identical.
    with op.batch_alter_table("visit") as batch:
        batch.add_column(sa.Column("receipt", sa.String(), nullable=True))
    # The town's waiting list each crèche's applications join (crèches sharing
    # one list give the same id), its length and when the town said so.
    with op.batch_alter_table("creche") as batch:
        batch.add_column(sa.Column("waiting_list", sa.String(20), nullable=True))
        batch.add_column(sa.Column("waiting_list_length", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("waiting_list_as_of", sa.DateTime(timezone=True), nullable=True))
    # ``rank`` stays the provisional rank the counter gave; the town's own rank
    # arrives with the delivery. Before 0003 delivery overwrote ``rank``.
    with op.batch_alter_table("registration") as batch:
        batch.add_column(sa.Column("town_rank", sa.Integer(), nullable=True))
    op.execute("UPDATE registration SET town_rank = rank "
               "WHERE kind = 'creche' AND delivery = 'delivered' AND rank IS NOT NULL")
    # Sectors are matched by name when the carte scolaire is imported again.
    op.create_index("ux_school_sector_name", "school_sector", ["name"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_school_sector_name", table_name="school_sector")
    with op.batch_alter_table("registration") as batch:
        batch.drop_column("town_rank")
    with op.batch_alter_table("creche") as batch:
        batch.drop_column("waiting_list_as_of")
        batch.drop_column("waiting_list_length")
        batch.drop_column("waiting_list")
    with op.batch_alter_table("visit") as batch:
        batch.drop_column("receipt")
