"""The dossiers of the day's appointments travel with the roaming bus (docs/tour.md).

Before the bus leaves, ``counter tour prepare --appointments FILE`` asks every
agency, through the same DossierService fan-out as a counter, for the dossier of
each person of each household that has an appointment on the tour; each
consultation is audited on the town's database as an agent's is (action
``dossier.consult``, the person, the sources), with the purpose
``rendez-vous de tournée`` and the bus, by the account that ran the prepare.
The answers (an agency's answer: ``ok`` or ``not_found``; a failure is not kept)
are written into the replica's ``tour_dossier`` table, with when the agency gave
them and when the prepare stored them. Never logged.

On board, when an agency cannot be reached (the link is down, or it fails), the
dossier answers that section from the stored answer, marked as cached with the
agency's date (« en cache, au jj/mm à hh:mm »), never as fresh. A stored answer
is shown on the day it was stored and the next one (``KEPT_DAYS``), never after;
``counter tour purge-dossiers`` deletes them all (``purge``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import bindparam, text

from counter.domain.facts import Provenance, SectionAnswer, Status
from counter.store.engine import Store

# The statuses that are an agency's answer, worth taking along.
KEPT_STATUSES = frozenset({Status.OK, Status.NOT_FOUND})
# A stored answer is shown on the day the prepare stored it and the next one (a tour that
# ends late, a bus that comes back the next morning), never after.
KEPT_DAYS = 1
STORED_MESSAGE = "Réponse de l'organisme emportée pour la tournée : l'organisme n'a pas pu être joint."
MAX_APPOINTMENTS = 2_000  # a day's tour is a few dozen families
MAX_FILE_BYTES = 64 * 1024
MAX_ID = 2**63 - 1


class AppointmentsError(ValueError):
    """The appointments file cannot be taken (English, for administrators): every bad
    line is named, nothing is asked or written."""


@dataclass(frozen=True)
class StoredAnswer:
    person_id: int
    household_id: int
    source: str
    section: str
    status: str
    fetched_at: datetime
    answer: str  # JSON


# -- the appointments file ------------------------------------------------------------------


def parse_appointments(content: str, name: str = "the appointments file") -> tuple[int, ...]:
    """Household ids, one a line; ``#`` starts a comment; blank lines are skipped; an id
    given twice counts once. AppointmentsError names every bad line (at most 10)."""
    ids: dict[int, None] = {}
    problems: list[str] = []
    for number, line in enumerate(content.splitlines(), start=1):
        value = line.split("#", 1)[0].strip()
        if not value:
            continue
        if not (value.isascii() and value.isdigit()) or int(value) == 0 or int(value) > MAX_ID:
            shown = value[:30].encode("ascii", "backslashreplace").decode()
            problems.append(f"line {number}: {shown!r} is not a household id (a whole number above 0)")
            continue
        ids[int(value)] = None
    if problems:
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise AppointmentsError(f"{name}: " + "; ".join(problems[:10]) + more)
    if not ids:
        raise AppointmentsError(f"{name}: no household id in it (one a line; '#' starts a comment)")
    if len(ids) > MAX_APPOINTMENTS:
        raise AppointmentsError(f"{name}: {len(ids)} households, more than a tour takes ({MAX_APPOINTMENTS})")
    return tuple(ids)


def check_appointments(central: Store, households: Sequence[int], route: Sequence[int] | None) -> None:
    """AppointmentsError unless every household exists and lives on the route's streets
    (``route``: street ids; None: the whole town travels)."""
    sql = text("SELECT h.id, a.street_id FROM household h LEFT JOIN address a ON a.id = h.address_id "
               "WHERE h.id IN :ids").bindparams(bindparam("ids", expanding=True))
    with central.engine.connect() as connection:
        streets = {row.id: row.street_id for row in connection.execute(sql, {"ids": list(households)})}
    unknown = [h for h in households if h not in streets]
    if unknown:
        raise AppointmentsError(f"unknown household id(s) in the appointments: {_ids(unknown)}")
    if route is not None:
        away = [h for h in households if streets[h] not in set(route)]
        if away:
            raise AppointmentsError(f"household(s) {_ids(away)} do not live on the tour's route (--street): "
                                    "their dossiers stay at the town hall")


def _ids(ids: Sequence[int]) -> str:
    return ", ".join(str(i) for i in ids[:10]) + (" …" if len(ids) > 10 else "")


# -- at prepare time: asking the agencies ----------------------------------------------------


def members(central: Store, households: Sequence[int]) -> list[tuple[int, int]]:
    """(household id, person id) of every member of ``households``, each person once."""
    sql = text("SELECT household_id, person_id FROM household_member WHERE household_id IN :ids "
               "ORDER BY household_id, id").bindparams(bindparam("ids", expanding=True))
    with central.engine.connect() as connection:
        rows = connection.execute(sql, {"ids": list(households)}).all()
    seen: set[int] = set()
    out = []
    for household_id, person_id in rows:
        if person_id not in seen:
            seen.add(person_id)
            out.append((household_id, person_id))
    return out


async def fetch_answers(dossier, actor, households: Sequence[int], bus: str) -> list[StoredAnswer]:
    """Each member's dossier, every section, through ``dossier`` (a DossierService over
    the town's database); each consultation audited first (``dossier.consult``, purpose
    TOUR_PURPOSE, the bus). Only the agencies' answers are kept (KEPT_STATUSES)."""
    from counter.wire import codec
    from counter.wire.api import dossier as _wire  # noqa: F401 — registers the facts' tags

    refs = dossier.sections()
    kept: list[StoredAnswer] = []
    if not refs:
        return kept
    for household_id, person_id in await asyncio.to_thread(members, dossier.store, households):
        subject = await asyncio.to_thread(dossier.subject, person_id)
        if subject is None:
            continue
        await asyncio.to_thread(dossier.record_tour_consultation, actor, person_id, refs, bus)
        async for answer in dossier.consult(subject, refs):
            provenance = answer.provenance
            if provenance.status not in KEPT_STATUSES:
                continue
            kept.append(StoredAnswer(person_id, household_id, provenance.source, provenance.section,
                                     provenance.status.value, _aware(provenance.fetched_at),
                                     codec.encode(answer).decode()))
    return kept


def take_along(make_dossier: Callable[[], object], actor, households: Sequence[int], bus: str) -> list[StoredAnswer]:
    """``fetch_answers`` from a command (no event loop running): the DossierService (over
    the town's database) is made by ``make_dossier`` inside the loop that uses its
    backends, and closed after."""

    async def run() -> list[StoredAnswer]:
        dossier = make_dossier()
        try:
            return await fetch_answers(dossier, actor, households, bus)
        finally:
            await dossier.aclose()

    return asyncio.run(run())


def write_answers(connection, answers: Iterable[StoredAnswer], stored_at: datetime) -> int:
    """Into the replica's tour_dossier, in the caller's transaction."""
    rows = [{"person_id": a.person_id, "household_id": a.household_id, "source": a.source, "section": a.section,
             "status": a.status, "fetched_at": a.fetched_at, "stored_at": stored_at, "answer": a.answer}
            for a in answers]
    if rows:
        connection.execute(text(
            "INSERT INTO tour_dossier (person_id, household_id, source, section, status, fetched_at, stored_at, "
            "answer) VALUES (:person_id, :household_id, :source, :section, :status, :fetched_at, :stored_at, "
            ":answer)"), rows)
    return len(rows)


# -- on board ---------------------------------------------------------------------------------


def stored_answer(store: Store, person_id: int, source: str, section: str, today: date) -> SectionAnswer | None:
    """The answer taken along for this person's section, as a cached one (its date the
    agency's), or None: none taken, or too old (stored before ``today - KEPT_DAYS``)."""
    from counter.wire import codec
    from counter.wire.api import dossier as _wire  # noqa: F401 — registers the facts' tags

    sql = text("SELECT answer, fetched_at, stored_at FROM tour_dossier "
               "WHERE person_id = :p AND source = :s AND section = :k")
    with store.engine.connect() as connection:
        row = connection.execute(sql, {"p": person_id, "s": source, "k": section}).first()
    if row is None:
        return None
    if _local_day(row.stored_at) < today - timedelta(days=KEPT_DAYS):
        return None
    try:
        kept = codec.decode(row.answer, SectionAnswer)
    except codec.WireFormatError:  # written by another version's wire form: not shown rather than misread
        return None
    provenance: Provenance = replace(kept.provenance, cached=True, offline=False, retry_in=None,
                                     fetched_at=_aware(_as_datetime(row.fetched_at)), message=STORED_MESSAGE)
    return SectionAnswer(provenance, kept.facts)


def count(store: Store) -> int:
    with store.engine.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM tour_dossier")).scalar_one()


def purge(store: Store) -> int:
    """Delete every answer taken along; on SQLite their pages are overwritten (secure_delete)
    and the write-ahead log emptied into the file, so the deleted answers stay in neither.
    Returns how many were deleted."""
    with store.write_connection() as connection:
        if store.is_sqlite:
            connection.exec_driver_sql("PRAGMA secure_delete = ON")
        deleted = connection.execute(text("DELETE FROM tour_dossier")).rowcount
    if store.is_sqlite:
        with store.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return deleted


def _as_datetime(value) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _local_day(value) -> date:
    return _aware(_as_datetime(value)).astimezone().date()
