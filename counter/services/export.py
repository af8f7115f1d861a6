"""Registrations for the town's services, as CSV or JSON, streamed row by row.

The export carries the person's birth name, given names and birth date (the
services match on them) but never the NIR. Text is made printable (it may be
printed on a terminal), and a CSV cell never starts a spreadsheet formula.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from typing import Any, TextIO

from sqlalchemy import select

from counter.exports import REGISTRATION_COLUMNS as COLUMNS  # noqa: F401 (re-exported)
from counter.exports import write_registrations_csv as write_csv
from counter.exports import write_registrations_json as write_json
from counter.store.engine import Store
from counter.store.models import Creche, Person, Registration, School, Visit

FORMATS = ("csv", "json")
BATCH = 500


def since_instant(since: date) -> datetime:
    """Midnight of ``since`` on this machine's clock, as UTC (timestamps are stored in UTC)."""
    return datetime.combine(since, time()).astimezone().astimezone(UTC)


def iter_registrations(store: Store, since: date) -> Iterator[dict[str, Any]]:
    """Registrations created on or after ``since``, oldest first, fetched in batches."""
    query = (
        select(Registration.id, Registration.created_at, Visit.code, Registration.kind, Registration.state,
               Registration.person_id, Person.birth_name, Person.given_names, Person.birth_year,
               Person.birth_month, Person.birth_day, Registration.school_year, School.uai,
               Registration.level, Creche.code, Registration.rank, Registration.town_rank,
               Registration.delivery, Registration.cancelled_at)
        .select_from(Registration)
        .join(Visit, Visit.id == Registration.visit_id)
        .outerjoin(Person, Person.id == Registration.person_id)
        .outerjoin(School, School.id == Registration.school_id)
        .outerjoin(Creche, Creche.id == Registration.creche_id)
        .where(Registration.created_at >= since_instant(since))
        .order_by(Registration.id)
        .execution_options(yield_per=BATCH)  # server-side cursor on PostgreSQL
    )
    with store.read() as session:
        for row in session.execute(query):
            (reg_id, created, code, kind, state, person_id, birth_name, given, year, month, day,
             school_year, uai, level, creche_code, rank, town_rank, delivery, cancelled) = row
            yield {
                "registration_id": reg_id,
                "created_at": _iso(created),
                "visit_code": code,
                "kind": kind,
                "state": state,
                "person_id": person_id,
                "birth_name": birth_name,
                "given_names": given,
                "birth_date": _birth(year, month, day),
                "school_year": school_year,
                "school_uai": uai,
                "level": level,
                "creche_code": creche_code,
                # The town's rank once it gave one; until then the counter's provisional one.
                "rank": town_rank if town_rank is not None else rank,
                "rank_confirmed": town_rank is not None if rank is not None or town_rank is not None else None,
                "delivery": delivery,
                "cancelled_at": _iso(cancelled),
            }


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    # SQLite hands back naive datetimes; they were written in UTC.
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.isoformat()


def _birth(year: int | None, month: int | None, day: int | None) -> str | None:
    """ISO 8601 at the precision civil status gives: 2018-11-25, 1987-06 or 1987."""
    if year is None:
        return None
    if month is None:
        return f"{year:04d}"
    if day is None:
        return f"{year:04d}-{month:02d}"
    return f"{year:04d}-{month:02d}-{day:02d}"


def export_registrations(store: Store, since: date, fmt: str, out: TextIO) -> int:
    """Write the registrations since ``since`` to ``out``; returns how many."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r} (expected one of {', '.join(FORMATS)})")
    rows = iter_registrations(store, since)
    return write_csv(rows, out) if fmt == "csv" else write_json(rows, out)
