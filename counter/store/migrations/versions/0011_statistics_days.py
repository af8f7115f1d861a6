"""The statistics' days (issue 16): a year of visits and agency answers summed from
kept days instead of read again at each opening of the supervisor's screen.

- ``stats_day``: one row per local day, kind (``visits`` | ``agency``) and time zone,
  holding the day's tallies (counter.services.stats_days);
- ``stats_generation``: a counter per kind, bumped at each write a day depends on
  (on PostgreSQL, sequences ``stats_generation_<kind>`` instead: no row for every
  writer to queue on; the table stays, unused there);
- triggers on ``visit`` (insert, delete, and updates of what the statistics read)
  and on ``agency_call`` (insert, delete) delete the kept days the written row may
  fall in — its UTC date and the days either side, which hold its local day in any
  time zone — and bump the generation. The days are thus never stale, whatever
  writes (the counter, a tour's sync, an import, a hand-made SQL fix).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# What the visits' tallies read: an update of another column (a draft typed) fires nothing.
VISIT_COLUMNS = "created_at, arrived_at, ended_at, reasons, outcome, site, agent_login"


def _sqlite_forget(kind: str, row: str, column: str) -> str:
    return (f"DELETE FROM stats_day WHERE kind = '{kind}' AND day BETWEEN date({row}.{column}, '-1 day') "
            f"AND date({row}.{column}, '+1 day'); ")


def _sqlite_bump(kind: str) -> str:
    return f"UPDATE stats_generation SET value = value + 1 WHERE kind = '{kind}'; "


def _sqlite() -> list[str]:
    visits, agency = "visits", "agency"
    return [
        f"CREATE TRIGGER stats_visit_insert AFTER INSERT ON visit WHEN NEW.ended_at IS NOT NULL BEGIN "
        f"{_sqlite_forget(visits, 'NEW', 'ended_at')}{_sqlite_bump(visits)}END",
        f"CREATE TRIGGER stats_visit_update AFTER UPDATE OF {VISIT_COLUMNS} ON visit "
        f"WHEN NEW.ended_at IS NOT NULL OR OLD.ended_at IS NOT NULL BEGIN "
        f"{_sqlite_forget(visits, 'OLD', 'ended_at')}{_sqlite_forget(visits, 'NEW', 'ended_at')}"
        f"{_sqlite_bump(visits)}END",
        f"CREATE TRIGGER stats_visit_delete AFTER DELETE ON visit WHEN OLD.ended_at IS NOT NULL BEGIN "
        f"{_sqlite_forget(visits, 'OLD', 'ended_at')}{_sqlite_bump(visits)}END",
        f"CREATE TRIGGER stats_agency_insert AFTER INSERT ON agency_call BEGIN "
        f"{_sqlite_forget(agency, 'NEW', 'at')}{_sqlite_bump(agency)}END",
        f"CREATE TRIGGER stats_agency_delete AFTER DELETE ON agency_call BEGIN "
        f"{_sqlite_forget(agency, 'OLD', 'at')}{_sqlite_bump(agency)}END",
    ]


def _pg_function(name: str, kind: str, column: str) -> str:
    # The generation is a sequence (no lock: writers never queue on it nor deadlock),
    # bumped *before* the deletes: a keeper that checked it before the bump sees its
    # rows deleted by them, each statement of the function reading what committed
    # before it (READ COMMITTED) — see counter.services.stats_days.KeptDays._keep.
    def forget(row: str) -> str:
        moment = f"({row}.{column} AT TIME ZONE 'UTC')::date"
        return f"DELETE FROM stats_day WHERE kind = '{kind}' AND day BETWEEN {moment} - 1 AND {moment} + 1;"

    return f"""
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (TG_OP <> 'INSERT' AND OLD.{column} IS NOT NULL) OR (TG_OP <> 'DELETE' AND NEW.{column} IS NOT NULL) THEN
        PERFORM nextval('stats_generation_{kind}');
    END IF;
    IF TG_OP <> 'INSERT' AND OLD.{column} IS NOT NULL THEN {forget('OLD')} END IF;
    IF TG_OP <> 'DELETE' AND NEW.{column} IS NOT NULL THEN {forget('NEW')} END IF;
    RETURN NULL;
END $$"""


def _postgresql() -> list[str]:
    return [
        "CREATE SEQUENCE stats_generation_visits",
        "CREATE SEQUENCE stats_generation_agency",
        _pg_function("stats_visit_changed", "visits", "ended_at"),
        _pg_function("stats_agency_changed", "agency", "at"),
        f"CREATE TRIGGER stats_visit_changed AFTER INSERT OR DELETE OR UPDATE OF {VISIT_COLUMNS} ON visit "
        "FOR EACH ROW EXECUTE FUNCTION stats_visit_changed()",
        "CREATE TRIGGER stats_agency_changed AFTER INSERT OR DELETE ON agency_call "
        "FOR EACH ROW EXECUTE FUNCTION stats_agency_changed()",
    ]


def upgrade() -> None:
    op.create_table(
        "stats_day",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("zone", sa.String(80), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.UniqueConstraint("day", "kind", "zone", name="ux_stats_day"),
    )
    generation = op.create_table(
        "stats_generation",
        sa.Column("kind", sa.String(12), primary_key=True),
        sa.Column("value", sa.Integer(), nullable=False),
    )
    op.bulk_insert(generation, [{"kind": "visits", "value": 0}, {"kind": "agency", "value": 0}])
    statements = _sqlite() if op.get_bind().dialect.name == "sqlite" else _postgresql()
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("stats_visit_insert", "stats_visit_update", "stats_visit_delete", "stats_agency_insert",
                     "stats_agency_delete"):
            op.execute(f"DROP TRIGGER {name}")
    else:
        op.execute("DROP TRIGGER stats_visit_changed ON visit")
        op.execute("DROP TRIGGER stats_agency_changed ON agency_call")
        op.execute("DROP FUNCTION stats_visit_changed()")
        op.execute("DROP FUNCTION stats_agency_changed()")
        op.execute("DROP SEQUENCE stats_generation_visits")
        op.execute("DROP SEQUENCE stats_generation_agency")
    op.drop_table("stats_generation")
    op.drop_table("stats_day")
