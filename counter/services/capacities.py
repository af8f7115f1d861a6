"""School places, as the town's family system counts them.

The counter books places locally inside its confirming transaction (so that
two agents never take the last one twice); the figures it books against come
from the family system (``GET /v1/capacities``), synchronised before each
registration period — and, in training, from the emulated system at first start.
The crèches' waiting lists come from the same answer (contract 1.2) and are
synchronised again each time the app connects to the family system: the
counter's provisional ranks build on them (counter.services.visits).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import text

from counter.clock import utc_now
from counter.domain.schooling import coming_school_year

from counter.store.engine import Store


@dataclass(frozen=True)
class SyncReport:
    school_year: int
    levels: int  # rows written or updated
    unknown_schools: tuple[str, ...]  # UAIs the counter does not know


async def sync_capacities(store: Store, city, school_year: int) -> SyncReport:
    """Copy capacity and enrolled counts for ``school_year`` from the family system,
    and the crèches' waiting lists."""
    body = await city.capacities(school_year)
    write_waiting_lists(store, body.get("creches", []))
    return write_capacities(store, school_year, body.get("schools", []))


async def sync_waiting_lists(store: Store, city, today: date) -> int:
    """Only the crèches' waiting lists (safe at any time: the counter's own applications
    not yet delivered are counted on top of them). Returns the crèches updated."""
    body = await city.capacities(coming_school_year(today))
    return write_waiting_lists(store, body.get("creches", []))


def write_waiting_lists(store: Store, creches: list[dict], now: datetime | None = None) -> int:
    """Each crèche's list (contract 1.2 ``waiting_list``: id and length), by the crèche's
    code; a 1.1 answer without lists changes nothing."""
    moment = now or utc_now()
    updated = 0
    with store.write_connection() as connection:
        for creche in creches:
            waiting_list = creche.get("waiting_list")
            if not isinstance(waiting_list, dict) or not isinstance(creche.get("id"), str):
                continue
            updated += connection.execute(text(
                "UPDATE creche SET waiting_list = :list, waiting_list_length = :n, waiting_list_as_of = :at "
                "WHERE code = :code"),
                {"list": str(waiting_list["id"])[:20], "n": max(0, int(waiting_list["length"])), "at": moment,
                 "code": creche["id"]}).rowcount
    return updated


def write_capacities(store: Store, school_year: int, schools: list[dict]) -> SyncReport:
    written, unknown = 0, []
    with store.write_connection() as connection:
        ids = dict(connection.execute(text("SELECT uai, id FROM school")).all())
        for school in schools:
            school_id = ids.get(school.get("uai"))
            if school_id is None:
                unknown.append(str(school.get("uai")))
                continue
            for level in school.get("levels", []):
                capacity, enrolled = int(level["capacity"]), int(level["enrolled"])
                params = {"s": school_id, "y": school_year, "l": level["level"],
                          "c": capacity, "b": min(enrolled, capacity)}
                updated = connection.execute(text(
                    "UPDATE school_capacity SET capacity = :c, booked = :b "
                    "WHERE school_id = :s AND school_year = :y AND level = :l"), params).rowcount
                if not updated:
                    connection.execute(text(
                        "INSERT INTO school_capacity (school_id, school_year, level, capacity, booked) "
                        "VALUES (:s, :y, :l, :c, :b)"), params)
                written += 1
    return SyncReport(school_year, written, tuple(unknown))
