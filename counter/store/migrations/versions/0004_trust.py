"""Trust: the audit chain, its head, agents' PINs, the dataset claim.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from counter.store.audit_chain import GENESIS, entry_hash

    with op.batch_alter_table("audit_entry") as batch:
        batch.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("prev_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("hash", sa.String(64), nullable=True))
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    # The entries written before the chain existed are chained in their order.
    connection = op.get_bind()
    rows = connection.execute(sa.text(
        "SELECT id, at, agent, host, action, target_type, target_id, details FROM audit_entry ORDER BY id"
    )).all()
    previous, seq = GENESIS, 0
    for row in rows:
        seq += 1
        at = row.at
        if isinstance(at, str):  # SQLite without type information
            from datetime import datetime

            at = datetime.fromisoformat(at)
        digest = entry_hash(seq=seq, at=at, agent=row.agent, host=row.host, action=row.action,
                            target_type=row.target_type, target_id=row.target_id, details=row.details,
                            prev_hash=previous)
        connection.execute(sa.text("UPDATE audit_entry SET seq = :seq, prev_hash = :prev, hash = :hash "
                                   "WHERE id = :id"), {"seq": seq, "prev": previous, "hash": digest, "id": row.id})
        previous = digest
    connection.execute(sa.text("INSERT INTO audit_head (id, seq, hash) VALUES (1, :seq, :hash)"),
                       {"seq": seq, "hash": previous})
    op.create_index("ux_audit_entry_seq", "audit_entry", ["seq"], unique=True)

    with op.batch_alter_table("agent") as batch:
        batch.add_column(sa.Column("pin_hash", sa.String(200), nullable=True))
        batch.add_column(sa.Column("pin_failures", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("pin_retry_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("locked", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "store_meta",
        sa.Column("key", sa.String(40), primary_key=True),
        sa.Column("value", sa.String(200), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("store_meta")
    with op.batch_alter_table("agent") as batch:
        batch.drop_column("locked")
        batch.drop_column("pin_retry_at")
        batch.drop_column("pin_failures")
        batch.drop_column("pin_hash")
    op.drop_index("ux_audit_entry_seq", table_name="audit_entry")
    op.drop_table("audit_head")
    with op.batch_alter_table("audit_entry") as batch:
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
        batch.drop_column("seq")
