"""Visits, registrations, school capacities, the outbox and the audit trail.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer(), primary_key=True)


def _at(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    # A crèche's id in the town's family system (the city contract names crèches so).
    with op.batch_alter_table("creche") as batch:
        batch.add_column(sa.Column("code", sa.String(20), nullable=True))
    op.execute("UPDATE creche SET code = 'CR' || substr('0' || CAST(id AS VARCHAR(8)), -2)"
               if op.get_bind().dialect.name == "sqlite"
               else "UPDATE creche SET code = 'CR' || lpad(id::text, 2, '0')")
    op.create_table(
        "visit",
        _id(),
        sa.Column("code", sa.String(20), nullable=True, unique=True),
        sa.Column("household_id", sa.Integer(), sa.ForeignKey("household.id"), nullable=True),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=True),
        sa.Column("agent_login", sa.String(64), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("draft", sa.String(), nullable=False),
        _at("created_at"),
        _at("updated_at"),
        _at("confirmed_at", nullable=True),
    )
    op.create_index("ix_visit_household_id", "visit", ["household_id"])
    op.create_index("ix_visit_agent_login", "visit", ["agent_login"])
    op.create_table(
        "registration",
        _id(),
        sa.Column("visit_id", sa.Integer(), sa.ForeignKey("visit.id"), nullable=False),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("school_year", sa.Integer(), nullable=True),
        sa.Column("school_id", sa.Integer(), sa.ForeignKey("school.id"), nullable=True),
        sa.Column("level", sa.String(4), nullable=True),
        sa.Column("creche_id", sa.Integer(), sa.ForeignKey("creche.id"), nullable=True),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("details", sa.String(), nullable=False),
        sa.Column("price", sa.String(), nullable=False),
        sa.Column("delivery", sa.String(12), nullable=False),
        sa.Column("external_ref", sa.String(64), nullable=True),
        _at("created_at"),
        _at("cancelled_at", nullable=True),
        sa.Column("cancelled_by", sa.String(64), nullable=True),
        sa.Column("cancel_reason", sa.String(300), nullable=True),
    )
    op.create_index("ix_registration_visit_id", "registration", ["visit_id"])
    op.create_index("ix_registration_person", "registration", ["person_id", "kind", "school_year"])
    op.create_index("ix_registration_creche_waiting", "registration", ["creche_id", "state"])
    # The same child cannot hold two live school registrations for one year,
    # whatever two agents do at once (a partial unique index, on both databases).
    op.create_index(
        "ux_registration_school_once", "registration", ["person_id", "school_year"], unique=True,
        sqlite_where=sa.text("kind = 'school' AND state != 'cancelled'"),
        postgresql_where=sa.text("kind = 'school' AND state != 'cancelled'"),
    )
    op.create_table(
        "school_capacity",
        _id(),
        sa.Column("school_id", sa.Integer(), sa.ForeignKey("school.id"), nullable=False),
        sa.Column("school_year", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(4), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("booked", sa.Integer(), nullable=False),
        sa.UniqueConstraint("school_id", "school_year", "level"),
        sa.CheckConstraint("booked <= capacity", name="ck_school_capacity_not_overbooked"),
    )
    op.create_table(
        "outbox",
        _id(),
        sa.Column("registration_id", sa.Integer(), sa.ForeignKey("registration.id"), nullable=False),
        sa.Column("target", sa.String(64), nullable=False),
        sa.Column("operation", sa.String(32), nullable=False),
        sa.Column("payload", sa.String(), nullable=False),
        sa.Column("idempotency_key", sa.String(64), nullable=False, unique=True),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _at("next_attempt_at"),
        _at("lease_until", nullable=True),
        sa.Column("last_error", sa.String(300), nullable=True),
        _at("delivered_at", nullable=True),
        sa.Column("external_ref", sa.String(64), nullable=True),
        _at("created_at"),
    )
    op.create_index("ix_outbox_registration_id", "outbox", ["registration_id"])
    op.create_index("ix_outbox_state", "outbox", ["state"])
    op.create_table(
        "audit_entry",
        _id(),
        _at("at"),
        sa.Column("agent", sa.String(64), nullable=False),
        sa.Column("host", sa.String(120), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("target_type", sa.String(40), nullable=False),
        sa.Column("target_id", sa.String(64), nullable=False),
        sa.Column("details", sa.String(), nullable=False),
    )


def downgrade() -> None:
    for table in ("audit_entry", "outbox", "school_capacity", "registration", "visit"):
        op.drop_table(table)
    with op.batch_alter_table("creche") as batch:
        batch.drop_column("code")
