"""The statistics' days: each local day's tallies of visits and agency answers, kept in
the database once the day is over (``stats_day``, migration 0011), so that a year is
summed from 365 small rows instead of ~100,000 visits and ~300,000 answers read again.

Correctness rests on the database, not on this process:
- triggers delete the kept days a write to ``visit`` or ``agency_call`` may touch, and
  bump ``stats_generation``;
- a day is kept only if the generation read *before* its rows is still the same when
  it is written (``KeptDays._keep``): a tally read while someone wrote is used once
  and not kept;
- today, and any later day, is never kept: it is read every time.
A process also remembers the last sums it made of kept days, valid while the kept
rows' ids are the same (a day deleted and kept again gets a new id).

A day's tally is split by (site, agent) for the visits and by site for the agencies:
filters are applied when summing, and the screen's lists of sites and agents come for
free. Times are epoch seconds computed by the database; the local day, hour and
weekday are cut in this process's time zone (``zone``), which is part of the key.
"""

from __future__ import annotations

import logging
import operator
import sys
import threading
import time
from array import array
from collections import Counter, defaultdict
from collections import _count_elements  # type: ignore[attr-defined] — Counter's own C helper
from collections.abc import Callable, Iterable
from datetime import date, timedelta

import msgspec
from sqlalchemy import and_, delete, func, insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from counter.store.engine import Store
from counter.store.models import StatsDay, StatsGeneration

log = logging.getLogger(__name__)
VISITS, AGENCY = "visits", "agency"
_BIG_ENDIAN = sys.byteorder == "big"
MAX_REMEMBERED = 32  # sums of kept days remembered per process (periods x filters)


class VisitTally(msgspec.Struct, array_like=True):
    """The visits of one (site, agent) ended on one local day."""

    site: str
    agent: str
    count: int = 0
    hours: list[int] = msgspec.field(default_factory=lambda: [0] * 24)  # local hour it began
    weekdays: list[int] = msgspec.field(default_factory=lambda: [0] * 7)
    reasons: dict[str, int] = {}  # the visit's reasons as stored ("qf,caf") -> visits
    outcomes: dict[str, int] = {}
    # The Monday (ordinal) of the week it began -> seconds, as little-endian doubles
    # (``seconds()``): a year of them decodes and adds up at the speed of memory.
    waiting: dict[int, bytes] = {}
    handling: dict[int, bytes] = {}


class AgencyTally(msgspec.Struct, array_like=True):
    """One source's answers on one site in one local hour of one day."""

    site: str
    source: str
    hour: int
    calls: int = 0  # asked of the agency
    answered: int = 0
    cached: int = 0  # answered from the counter's cache
    latency: list[int] = []  # each answer's latency bucket (counter.services.statistics)


_encode = msgspec.msgpack.Encoder().encode
_DECODERS = {VISITS: msgspec.msgpack.Decoder(list[VisitTally]), AGENCY: msgspec.msgpack.Decoder(list[AgencyTally])}


def zone() -> str:
    """This process's time zone, as the days are cut (names and offsets)."""
    return f"{'/'.join(time.tzname)} {time.timezone} {time.altzone}"[:80]


class LocalTime:
    """Local hour, weekday, Monday's ordinal and day's ordinal of an epoch second, cached
    per quarter of an hour (every time zone's offset is a whole number of quarters)."""

    def __init__(self) -> None:
        self.seen: dict[int, tuple[int, int, int, int]] = {}

    def __call__(self, epoch: float) -> tuple[int, int, int, int]:
        key = int(epoch // 900)
        found = self.seen.get(key)
        if found is None:
            moment = time.localtime(key * 900)
            day = date(moment.tm_year, moment.tm_mon, moment.tm_mday).toordinal()
            found = self.seen[key] = (moment.tm_hour, moment.tm_wday, day - moment.tm_wday, day)
        return found


def tally_visits(rows: Iterable[tuple]) -> dict[int, list[VisitTally]]:
    """Rows (created, arrived, ended — epoch seconds —, reasons, outcome, site, agent)
    per local day of their end."""
    days: dict[int, dict[tuple[str, str], VisitTally]] = defaultdict(dict)
    tallies: list[VisitTally] = []
    local = LocalTime()
    seen = local.seen
    for created, arrived, ended, reasons, outcome, site, agent in rows:
        begun = seen.get(int(created // 900)) or local(created)
        day = (seen.get(int(ended // 900)) or local(ended))[3]
        key = (site or "", agent or "")
        tally = days[day].get(key)
        if tally is None:
            tally = days[day][key] = VisitTally(key[0], key[1], reasons={}, outcomes={}, waiting={}, handling={})
            tallies.append(tally)
        tally.count += 1
        tally.hours[begun[0]] += 1
        tally.weekdays[begun[1]] += 1
        monday = begun[2]
        handling = tally.handling.get(monday)
        if handling is None:
            handling = tally.handling[monday] = []
        handling.append(ended - created if ended > created else 0.0)
        if arrived is not None:
            waiting = tally.waiting.get(monday)
            if waiting is None:
                waiting = tally.waiting[monday] = []
            waiting.append(created - arrived if created > arrived else 0.0)
        reasons = reasons or ""
        tally.reasons[reasons] = tally.reasons.get(reasons, 0) + 1
        outcome = outcome or ""
        tally.outcomes[outcome] = tally.outcomes.get(outcome, 0) + 1
    for tally in tallies:
        tally.waiting = {monday: _packed(values) for monday, values in tally.waiting.items()}
        tally.handling = {monday: _packed(values) for monday, values in tally.handling.items()}
    return {day: list(day_tallies.values()) for day, day_tallies in days.items()}


def _packed(values) -> bytes:
    packed = array("d", values)
    if _BIG_ENDIAN:
        packed.byteswap()
    return packed.tobytes()


def seconds(packed: bytes) -> array:
    """The doubles ``_packed`` wrote."""
    values = array("d")
    values.frombytes(packed)
    if _BIG_ENDIAN:
        values.byteswap()
    return values


def tally_agency(rows: Iterable[tuple], answered: frozenset[str], bucket: Callable[[float], int]
                 ) -> dict[int, list[AgencyTally]]:
    """Rows (source, status, elapsed ms, at — epoch seconds —, cached, site) per local day."""
    days: dict[int, dict[tuple[str, str, int], AgencyTally]] = defaultdict(dict)
    local = LocalTime()
    for source, status, elapsed, at, cached, site in rows:
        hour, _, _, day = local(at)
        key = (site or "", source, hour)
        tally = days[day].get(key)
        if tally is None:
            tally = days[day][key] = AgencyTally(key[0], source, hour, latency=[])
        if cached:
            tally.cached += 1
            continue
        tally.calls += 1
        if status in answered:
            tally.answered += 1
        tally.latency.append(bucket(elapsed))
    return {day: list(tallies.values()) for day, tallies in days.items()}


class VisitTotals:
    """The sum of visit tallies: what the statistics' visit figures are computed from."""

    def __init__(self) -> None:
        self.count = 0
        self.hours = [0] * 24
        self.weekdays = [0] * 7
        self.reasons: Counter[str] = Counter()
        self.outcomes: Counter[str] = Counter()
        self.waiting: dict[int, array] = {}  # Monday's ordinal -> seconds
        self.handling: dict[int, array] = {}
        # (site, agent) of every tally of the period, filtered out or not: the screen's filters.
        self.pairs: set[tuple[str, str]] = set()

    def saw(self, t: VisitTally) -> None:
        self.pairs.add((t.site, t.agent))

    def add(self, t: VisitTally) -> None:
        self._add(t.count, t.hours, t.weekdays, t.reasons, t.outcomes, t.waiting, t.handling)

    def merge(self, other: VisitTotals) -> None:
        self._add(other.count, other.hours, other.weekdays, other.reasons, other.outcomes, other.waiting,
                  other.handling)
        self.pairs |= other.pairs

    def _add(self, count, hours, weekdays, reasons, outcomes, waiting, handling) -> None:
        self.count += count
        self.hours = list(map(operator.add, self.hours, hours))
        self.weekdays = list(map(operator.add, self.weekdays, weekdays))
        for mine, theirs in ((self.reasons, reasons), (self.outcomes, outcomes)):
            get = mine.get
            for key, n in theirs.items():
                mine[key] = get(key, 0) + n
        for mine, theirs in ((self.waiting, waiting), (self.handling, handling)):
            for monday, values in theirs.items():
                kept = mine.get(monday)
                if kept is None:
                    kept = mine[monday] = array("d")
                if isinstance(values, bytes):
                    if _BIG_ENDIAN:
                        kept.extend(seconds(values))
                    else:
                        kept.frombytes(values)
                else:
                    kept.extend(values)


class AgencyHour:
    """One source's answers in one local hour (summed over days and sites)."""

    __slots__ = ("calls", "answered", "cached", "latency")

    def __init__(self) -> None:
        self.calls = self.answered = self.cached = 0
        self.latency: dict[int, int] = {}

    def add(self, calls: int, answered: int, cached: int, latency: list[int] | dict[int, int]) -> None:
        """Add answers: their buckets one by one (a tally), or a histogram (another hour)."""
        self.calls += calls
        self.answered += answered
        self.cached += cached
        mine = self.latency
        if isinstance(latency, list):
            _count_elements(mine, latency)  # C: a year's answers in milliseconds
        else:
            for bucket, n in latency.items():
                mine[bucket] = mine.get(bucket, 0) + n


class AgencyTotals:
    """The sum of agency tallies, per (source, hour)."""

    def __init__(self) -> None:
        self.hours: dict[tuple[str, int], AgencyHour] = {}

    def _hour(self, key: tuple[str, int]) -> AgencyHour:
        found = self.hours.get(key)
        if found is None:
            found = self.hours[key] = AgencyHour()
        return found

    def saw(self, t: AgencyTally) -> None:
        pass  # the sites' list comes from the visits

    def add(self, t: AgencyTally) -> None:
        self._hour((t.source, t.hour)).add(t.calls, t.answered, t.cached, t.latency)

    def merge(self, other: AgencyTotals) -> None:
        for key, h in other.hours.items():
            self._hour(key).add(h.calls, h.answered, h.cached, h.latency)


class KeptDays:
    """Reads, keeps and sums the days of one kind (``VISITS`` or ``AGENCY``)."""

    def __init__(self, kind: str, totals: Callable[[], VisitTotals | AgencyTotals]) -> None:
        self.kind = kind
        self._totals = totals
        self._remembered: dict[tuple, tuple[tuple, object]] = {}
        self._lock = threading.Lock()

    def forget(self) -> None:
        """Forget the sums remembered in this process (the kept rows stay)."""
        with self._lock:
            self._remembered.clear()

    def sum(self, store: Store, first: date, last: date, today: date, read: Callable[[date, date], dict[int, list]],
            keep: Callable[[object], bool], filters: tuple):
        """The totals over the days from ``first`` to ``last`` of the tallies ``keep``
        passes (every tally ``saw``): the days over from their kept rows (kept now when missing), today and
        later from ``read(first, last)`` — the tallies of those days read afresh, per
        day ordinal. ``filters`` names what ``keep`` keeps (the remembered sums' key)."""
        total = self._totals()
        closed = min(last, today - timedelta(days=1))
        if first <= closed:
            total.merge(self._closed(store, first, closed, read, keep, filters))
        if last > closed:
            _fold(total, read(max(first, closed + timedelta(days=1)), last).values(), keep)
        return total

    def _closed(self, store: Store, first: date, last: date, read, keep, filters):
        kind, here = self.kind, zone()
        key = (str(store.url), kind, here, first, last, filters)
        with store.engine.connect() as connection:
            # The generation first: rows read after it hold at least what it counts.
            generation = generation_now(connection, kind)
            where = and_(StatsDay.kind == kind, StatsDay.zone == here, StatsDay.day >= first, StatsDay.day <= last)
            ids = tuple(connection.execute(select(StatsDay.id).where(where).order_by(StatsDay.day)).scalars())
            complete = len(ids) == (last - first).days + 1
            with self._lock:
                remembered = self._remembered.get(key)
            if complete and remembered is not None and remembered[0] == ids:
                return remembered[1]
            kept = connection.execute(select(StatsDay.day, StatsDay.data).where(where)).all()
        decode = _DECODERS[kind].decode
        days = {day.toordinal(): decode(data) for day, data in kept}
        missing = [o for o in range(first.toordinal(), last.toordinal() + 1) if o not in days]
        if missing:
            fresh = read(date.fromordinal(missing[0]), date.fromordinal(missing[-1]))
            built = {o: fresh.get(o, []) for o in missing}
            self._keep(store, generation, built, here)
            days.update(built)
        subtotal = self._totals()
        _fold(subtotal, days.values(), keep)
        if not missing:  # remembered under the ids it was summed from
            with self._lock:
                if len(self._remembered) >= MAX_REMEMBERED:
                    self._remembered.pop(next(iter(self._remembered)))
                self._remembered[key] = (ids, subtotal)
        return subtotal

    def _keep(self, store: Store, generation: int, built: dict[int, list], here: str) -> None:
        """Keep the days just read, unless a write happened since their rows were read.

        SQLite: the check and the insert in one ``BEGIN IMMEDIATE`` transaction, which
        holds every writer off: exact. PostgreSQL: writers bump a sequence (no lock)
        then delete the days; the generation is checked before the insert commits and
        again after: a write that bumped it before the second check is seen (the rows
        just kept are deleted again), one that bumped it after deletes them itself,
        its delete reading what committed before it."""
        kind = self.kind
        rows = [{"day": date.fromordinal(o), "kind": kind, "zone": here, "data": _encode(tallies)}
                for o, tallies in built.items()]
        try:
            with store.write_connection() as connection:
                if generation_now(connection, kind) != generation:
                    return
                connection.execute(delete(StatsDay).where(StatsDay.kind == kind, StatsDay.zone == here,
                                                          StatsDay.day.in_([r["day"] for r in rows])))
                if store.is_sqlite:
                    connection.execute(insert(StatsDay.__table__), rows)
                    return
                ids = connection.execute(insert(StatsDay.__table__).returning(StatsDay.id), rows).scalars().all()
            with store.write_connection() as connection:
                if generation_now(connection, kind) != generation:
                    connection.execute(delete(StatsDay).where(StatsDay.id.in_(ids)))
        except IntegrityError:  # another process kept the same days at the same moment
            return
        except DBAPIError as exc:
            # Busy, or an account that may only read: the figures just read are right;
            # keeping their days must never fail them.
            log.warning("statistics' days not kept: %s", type(exc.orig).__name__)


def _fold(total, days: Iterable[list], keep: Callable[[object], bool]) -> None:
    """Every tally of ``days`` seen by ``total``; those ``keep`` passes added to it."""
    for tallies in days:
        for t in tallies:
            total.saw(t)
            if keep(t):
                total.add(t)


def generation_now(connection, kind: str) -> int:
    """How many writes the days of ``kind`` have seen (``stats_generation``; on
    PostgreSQL its sequence, which sees a write as soon as it is made, committed or not)."""
    if connection.dialect.name == "sqlite":
        return connection.execute(select(StatsGeneration.value).where(StatsGeneration.kind == kind)).scalar_one()
    value, called = connection.execute(text(f"SELECT last_value, is_called FROM stats_generation_{kind}")).one()
    return value if called else 0


def kept_days(store: Store, kind: str) -> int:
    """How many days of ``kind`` are kept (any zone): for `counter doctor` and the tests."""
    with store.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(StatsDay).where(StatsDay.kind == kind)).scalar_one()
