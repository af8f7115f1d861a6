"""Go-live: BAN addresses, the family system's ids, the change feed's state, duplicates to review.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("street") as batch:
        batch.add_column(sa.Column("ban_key", sa.String(40), nullable=True))
        batch.add_column(sa.Column("insee_code", sa.String(5), nullable=True))
        batch.add_column(sa.Column("lieu_dit", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("retired", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_index("ux_street_ban_key", "street", ["ban_key"], unique=True)
    op.create_table(
        "town_address",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ban_id", sa.String(60), nullable=False),
        sa.Column("street_id", sa.Integer(), sa.ForeignKey("street.id"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column("suffix", sa.String(10), nullable=True),
        sa.Column("postal_code", sa.String(10), nullable=False),
        sa.Column("retired", sa.Boolean(), nullable=False),
    )
    op.create_index("ux_town_address_ban_id", "town_address", ["ban_id"], unique=True)
    op.create_index("ix_town_address_street", "town_address", ["street_id", "number"])
    with op.batch_alter_table("address") as batch:
        batch.add_column(sa.Column("ban_id", sa.String(60), nullable=True))
    op.create_index("ix_address_ban_id", "address", ["ban_id"])
    with op.batch_alter_table("person") as batch:
        batch.add_column(sa.Column("source_id", sa.String(40), nullable=True))
        batch.add_column(sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ux_person_source_id", "person", ["source_id"], unique=True)
    with op.batch_alter_table("household") as batch:
        batch.add_column(sa.Column("source_id", sa.String(40), nullable=True))
        batch.add_column(sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ux_household_source_id", "household", ["source_id"], unique=True)
    op.create_table(
        "sync_state",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("cursor", sa.String(200), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(300), nullable=True),
        sa.Column("holder", sa.String(120), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "duplicate_review",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=False),
        sa.Column("candidate_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=False),
        sa.Column("reasons", sa.String(120), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ux_duplicate_review_pair", "duplicate_review", ["person_id", "candidate_id"], unique=True)
    op.create_index("ix_duplicate_review_candidate_id", "duplicate_review", ["candidate_id"])
    op.create_index("ix_duplicate_review_state", "duplicate_review", ["state"])


def downgrade() -> None:
    op.drop_table("duplicate_review")
    op.drop_table("sync_state")
    op.drop_index("ux_household_source_id", table_name="household")
    with op.batch_alter_table("household") as batch:
        batch.drop_column("removed_at")
        batch.drop_column("source_id")
    op.drop_index("ux_person_source_id", table_name="person")
    with op.batch_alter_table("person") as batch:
        batch.drop_column("removed_at")
        batch.drop_column("source_id")
    op.drop_index("ix_address_ban_id", table_name="address")
    with op.batch_alter_table("address") as batch:
        batch.drop_column("ban_id")
    op.drop_table("town_address")
    op.drop_index("ux_street_ban_key", table_name="street")
    with op.batch_alter_table("street") as batch:
        batch.drop_column("retired")
        batch.drop_column("lieu_dit")
        batch.drop_column("insee_code")
        batch.drop_column("ban_key")
