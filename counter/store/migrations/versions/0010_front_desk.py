"""The front desk and the supervisor's statistics (issue 16): tickets, each visit's
reasons and times, the agencies' calls.

- ``ticket``: a ticket the reception issues (number per site and day, reasons,
  a language or accessibility need, appointment or walk-in), called by an agent,
  served by a visit;
- ``visit`` gains where and when: ``site``, ``ticket_id``, ``arrived_at`` (the
  ticket's issue, else none), ``ended_at`` (the reasons recorded at its end),
  ``reasons`` (comma-separated reason codes), ``outcome`` (done | redirected |
  come_back) and ``outcome_detail`` (where to, from a list: never a name);
- ``agency_call``: one row per answer an agency gave a dossier (source, section,
  status, elapsed), for the answer rates and latencies — no person, no subject.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ticket",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("site", sa.String(40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.String(64), nullable=False),
        sa.Column("reasons", sa.String(200), nullable=False, server_default=""),
        sa.Column("need", sa.String(40), nullable=True),
        sa.Column("appointment", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("state", sa.String(12), nullable=False, server_default="waiting"),
        sa.Column("called_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("called_by", sa.String(64), nullable=True),
        sa.Column("visit_id", sa.Integer(), sa.ForeignKey("visit.id"), nullable=True),
        sa.UniqueConstraint("site", "day", "number", name="ux_ticket_number"),
    )
    op.create_index("ix_ticket_state", "ticket", ["site", "state"])
    with op.batch_alter_table("visit") as batch:
        batch.add_column(sa.Column("site", sa.String(40), nullable=False, server_default=""))
        batch.add_column(sa.Column("ticket_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("reasons", sa.String(200), nullable=False, server_default=""))
        batch.add_column(sa.Column("outcome", sa.String(20), nullable=True))
        batch.add_column(sa.Column("outcome_detail", sa.String(120), nullable=True))
    op.create_index("ix_visit_ended_at", "visit", ["ended_at"])
    op.create_table(
        "agency_call",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("site", sa.String(40), nullable=False, server_default=""),
        sa.Column("source", sa.String(60), nullable=False),
        sa.Column("section", sa.String(60), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("elapsed_ms", sa.Float(), nullable=False),
        sa.Column("cached", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_agency_call_at", "agency_call", ["at"])


def downgrade() -> None:
    op.drop_index("ix_agency_call_at", table_name="agency_call")
    op.drop_table("agency_call")
    op.drop_index("ix_visit_ended_at", table_name="visit")
    with op.batch_alter_table("visit") as batch:
        for column in ("outcome_detail", "outcome", "reasons", "ended_at", "arrived_at", "ticket_id", "site"):
            batch.drop_column(column)
    op.drop_index("ix_ticket_state", table_name="ticket")
    op.drop_table("ticket")
