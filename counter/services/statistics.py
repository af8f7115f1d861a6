"""The statistics (issue 16): aggregates over the visits, the registrations, the
agencies' answers and the outbox, for a period, a site and an agent.

What counts (the front desk's contract, docs/statistics.md): a visit counts once its
``ended_at`` is set, in the period its end falls in; its hour and weekday are those
it began (``created_at``, local time); handling time is ``ended_at − created_at``,
waiting time ``created_at − arrived_at`` when the family came with a ticket.

Privacy is decided here, whatever the client asks: aggregates only, no name; an
agent (role ``agent``) gets their own figures — ``agent`` is replaced by their login
— and none of the site's agency or outbox figures; supervisors (and trainers in
training) get everyone's. The database returns numbers (epoch seconds computed in
SQL), so a year of visits is read without building a datetime per row.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time

import math
import threading

from sqlalchemy import Float, and_, cast, extract, func, select

from counter.domain import statistics as st
from counter.domain.front_desk import FrontDesk, codes
from counter.domain.permissions import allowed
from counter.store.engine import Store
from counter.store.models import AgencyCall, OutboxMessage, Registration, Visit


class StatisticsError(ValueError):
    """A query the counter does not answer: French for the agent, English for the CLI."""

    def __init__(self, message: str, english: str) -> None:
        super().__init__(message)
        self._english = english

    def english(self) -> str:
        return self._english


def check_query(query: st.StatsQuery) -> None:
    if query.until < query.since:
        raise StatisticsError("Période invalide : la date de fin précède la date de début.",
                              "invalid period: --until is before --since")
    if (query.until - query.since).days >= st.MAX_DAYS:
        raise StatisticsError(f"Période trop longue : {st.MAX_DAYS} jours au plus.",
                              f"period too long: {st.MAX_DAYS} days at most")
    for value, limit, what in ((query.site, 40, "site"), (query.agent, 64, "agent")):
        if value is not None and (not value.strip() or len(value) > limit or not value.isprintable()):
            raise StatisticsError(f"Filtre invalide ({what}).", f"invalid --{what}")


def instants(query: st.StatsQuery) -> tuple[datetime, datetime]:
    """The period's first and last instants (local midnights), in UTC."""
    start = datetime.combine(query.since, day_time()).astimezone().astimezone(UTC)
    end = datetime.combine(query.until + timedelta(days=1), day_time()).astimezone().astimezone(UTC)
    return start, end


def _epoch(store: Store, column):
    """Seconds since 1970 (UTC) computed by the database: a float, no datetime built."""
    if store.is_sqlite:
        return (func.julianday(column) - 2440587.5) * 86400.0
    return cast(extract("epoch", column), Float)


def compute(store: Store, actor, query: st.StatsQuery, desk: FrontDesk | None = None,
            today: date | None = None) -> st.Statistics:
    """Every figure for ``query`` as ``actor`` may see it."""
    from counter.services import audit

    check_query(query)
    if allowed(actor.role, "statistics.all", training=actor.training):
        scope = st.ALL
    else:
        audit.require(store, actor, "statistics")  # Forbidden (audited) without a role
        query, scope = st.StatsQuery(query.since, query.until, query.site, actor.login), st.OWN
    return aggregate(store, query, scope, desk or FrontDesk(), today)


def aggregate(store: Store, query: st.StatsQuery, scope: str, desk: FrontDesk,
              today: date | None = None) -> st.Statistics:
    """The figures for ``query`` as given (no role: callers decide, see ``compute``).

    The visits are read and counted here while another thread reads the rest
    (registrations, sites and agents when filtered, agencies, outbox) on its own
    connection: the database works on one while Python counts the other."""
    from concurrent.futures import ThreadPoolExecutor

    start, end = instants(query)
    visit_filter = [Visit.ended_at.is_not(None), Visit.ended_at >= start, Visit.ended_at < end]
    if query.site is not None:
        visit_filter.append(Visit.site == query.site)
    if query.agent is not None:
        visit_filter.append(Visit.agent_login == query.agent)
    unfiltered = query.site is None and query.agent is None
    visits_sql = select(_epoch(store, Visit.created_at), _epoch(store, Visit.arrived_at),
                        _epoch(store, Visit.ended_at), Visit.reasons, Visit.outcome, Visit.site,
                        Visit.agent_login).where(and_(*visit_filter))
    with ThreadPoolExecutor(1, thread_name_prefix="statistics") as pool:
        others = pool.submit(_others, store, query, scope, start, end, unfiltered, today or date.today())
        with store.engine.connect() as connection:
            visit_rows = _fetch(connection, visits_sql)
        figures, seen = _visits(visit_rows, desk, query)
        reg_rows, pairs, agency, outbox_pending = others.result()
    if unfiltered:
        pairs = seen
    sites = tuple(sorted({site for site, _ in pairs if site}))
    agents = tuple(sorted({agent for _, agent in pairs if agent})) if scope == st.ALL else ()
    return st.Statistics(
        query=query, scope=scope, visits=len(visit_rows), **figures,
        registrations=_registrations(reg_rows), agencies=agency[0], agency_hours=agency[1],
        outbox_pending=outbox_pending, sites=sites, agents=agents,
    )


def _others(store: Store, query: st.StatsQuery, scope: str, start: datetime, end: datetime, unfiltered: bool,
            today: date):
    reg_filter = [Registration.created_at >= start, Registration.created_at < end]
    if query.site is not None:
        reg_filter.append(Visit.site == query.site)
    if query.agent is not None:
        reg_filter.append(Visit.agent_login == query.agent)
    regs_sql = (select(Registration.kind, Registration.state, func.count())
                .join(Visit, Visit.id == Registration.visit_id).where(and_(*reg_filter))
                .group_by(Registration.kind, Registration.state))
    in_period = [Visit.ended_at.is_not(None), Visit.ended_at >= start, Visit.ended_at < end]
    pairs: set = set()
    agency: tuple[tuple, tuple] = ((), ())
    outbox_pending = None
    with store.engine.connect() as connection:
        reg_rows = _fetch(connection, regs_sql)
        if not unfiltered:  # the sites and agents of the whole period, for the screen's filters
            pairs = set(_fetch(connection, select(Visit.site, Visit.agent_login).distinct().where(and_(*in_period))))
        if scope == st.ALL:
            agency = AGENCY_DAYS.figures(store, connection, query, today)
            outbox_pending = connection.execute(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.state == "pending")).scalar_one()
    return reg_rows, pairs, agency, outbox_pending


def _fetch(connection, statement) -> list[tuple]:
    """Plain tuples from the driver's cursor: a year of visits without building a row
    object (nor a datetime) per row. Datetime parameters are passed as the store writes them."""
    compiled = statement.compile(dialect=connection.dialect)
    params = compiled.construct_params()
    sqlite = connection.dialect.name == "sqlite"
    for name, value in params.items():
        if isinstance(value, datetime):
            moment = value.astimezone(UTC)
            params[name] = moment.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else moment
    args = tuple(params[name] for name in compiled.positiontup) if compiled.positional else params
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        cursor.execute(str(compiled), args)
        return cursor.fetchall()
    finally:
        cursor.close()


class _LocalTime:
    """Local hour, weekday and Monday of an epoch second, cached per quarter of an hour
    (every time zone's offset is a whole number of quarters)."""

    def __init__(self) -> None:
        self.seen: dict[int, tuple[int, int, int, int]] = {}

    def __call__(self, epoch: float) -> tuple[int, int, int, int]:
        """(hour, weekday, Monday's ordinal, day's ordinal)."""
        key = int(epoch // 900)
        found = self.seen.get(key)
        if found is None:
            moment = time.localtime(key * 900)
            day = date(moment.tm_year, moment.tm_mon, moment.tm_mday).toordinal()
            found = self.seen[key] = (moment.tm_hour, moment.tm_wday, day - moment.tm_wday, day)
        return found


def _visits(rows, desk: FrontDesk, query: st.StatsQuery) -> dict:
    by_hour = [0] * 24
    by_weekday = [0] * 7
    waiting: dict[int, list[float]] = defaultdict(list)  # Monday's ordinal -> seconds
    handling: dict[int, list[float]] = defaultdict(list)
    reason_texts: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    local = _LocalTime()
    seen = local.seen
    who: Counter[tuple[str, str]] = Counter()
    for created, arrived, ended, reason_text, outcome, site, agent in rows:
        quarter = int(created // 900)
        when = seen.get(quarter) or local(created)
        by_hour[when[0]] += 1
        by_weekday[when[1]] += 1
        handling[when[2]].append(ended - created if ended > created else 0.0)
        if arrived is not None:
            waiting[when[2]].append(created - arrived if created > arrived else 0.0)
        reason_texts[reason_text] += 1
        outcomes[outcome] += 1
        who[site, agent] += 1
    reasons: Counter[str] = Counter()
    for text, count in reason_texts.items():
        for code in codes(text or ""):
            reasons[code] += count
    outcomes.pop(None, None)
    outcomes.pop("", None)
    seen = [h for h in range(24) if by_hour[h]]
    first = min([st.FIRST_HOUR, *seen])
    last = max([st.LAST_HOUR - 1, *seen])
    hours = tuple(st.Count(f"{h:02d}", st.hour_label(h), by_hour[h]) for h in range(first, last + 1))
    days = tuple(st.Count(str(d), st.WEEKDAYS[d], by_weekday[d]) for d in range(7) if d < 6 or by_weekday[d])
    reason_counts = [st.Count(c.code, c.label, reasons.pop(c.code, 0)) for c in desk.reasons]
    reason_counts += [st.Count(code, code, n) for code, n in sorted(reasons.items())]  # codes no longer listed
    outcome_counts = [st.Count(c.code, c.label, outcomes.pop(c.code, 0)) for c in desk.outcomes]
    outcome_counts += [st.Count(code, code, n) for code, n in sorted(outcomes.items())]
    return {
        "by_hour": hours, "by_weekday": days,
        "waiting": _weeks(waiting, query), "handling": _weeks(handling, query),
        "waiting_all": _overall(waiting, query), "handling_all": _overall(handling, query),
        "reasons": tuple(reason_counts), "outcomes": tuple(outcome_counts),
    }, set(who)


def _weeks(values: dict[int, list[float]], query: st.StatsQuery) -> tuple[st.WeekTimes, ...]:
    first = query.since.toordinal() - query.since.weekday()
    last = query.until.toordinal() - query.until.weekday()
    result = []
    for monday in range(first, last + 1, 7):
        ordered = values.get(monday, [])
        ordered.sort()  # in place: _overall then merges the sorted weeks
        result.append(st.WeekTimes(date.fromordinal(monday), len(ordered), _tenth(st.percentile(ordered, 0.5)),
                                   _tenth(st.percentile(ordered, 0.9))))
    return tuple(result)


def _overall(values: dict[int, list[float]], query: st.StatsQuery) -> st.WeekTimes:
    # The weeks are sorted already (_weeks runs first): sorting their concatenation merges runs.
    ordered = sorted([v for week in values.values() for v in week])
    return st.WeekTimes(query.since, len(ordered), _tenth(st.percentile(ordered, 0.5)),
                        _tenth(st.percentile(ordered, 0.9)))


def _tenth(seconds: float | None) -> float | None:
    """To a tenth of a second: what the database's date arithmetic is exact to."""
    return None if seconds is None else round(seconds, 1)


def _registrations(rows) -> tuple[st.RegistrationCount, ...]:
    from counter.domain.kinds import all_kinds
    from counter.domain.reg_states import STATE_LABELS, RegState

    kinds = {k.id: (k.order, k.label) for k in all_kinds()}
    states = {s.value: i for i, s in enumerate(RegState)}
    result = []
    for kind, state, count in rows:
        order, label = kinds.get(kind, (999, kind))
        try:
            state_label = STATE_LABELS[RegState(state)]
        except ValueError:
            state_label = state
        result.append((order, kind, states.get(state, 99),
                       st.RegistrationCount(kind, label, state, state_label, int(count))))
    return tuple(item[-1] for item in sorted(result, key=lambda i: i[:3]))


# -- the agencies: per day, cached once the day is over ----------------------------------------
#
# A year of dossiers is a few hundred thousand answers: reading them all at every
# opening of the screen would take most of a second. An ``agency_call`` row is written
# once, when the agency answers, never later for an earlier day: a day that is over
# never changes, so its figures are kept (per source and local hour: counts and a
# histogram of latencies), with their sum for each period asked; only the days not
# kept yet — today at least — are read.
# Latency percentiles come from the histograms: buckets of 2 % (BUCKETS_PER_E).

BUCKETS_PER_E = 50  # log-scale buckets: ms -> round(ln(1 + ms) * 50)
MAX_KEPT_DAYS = 5000
MAX_KEPT_RANGES = 32


def _bucket(ms: float) -> int:
    return int(round(math.log1p(ms if ms > 0 else 0.0) * BUCKETS_PER_E))


def _bucket_ms(bucket: int) -> float:
    return math.expm1(bucket / BUCKETS_PER_E)


class _Hour:
    __slots__ = ("calls", "answered", "cached", "latency")

    def __init__(self) -> None:
        self.calls = self.answered = self.cached = 0
        self.latency: Counter[int] = Counter()

    def add(self, other: _Hour) -> None:
        self.calls += other.calls
        self.answered += other.answered
        self.cached += other.cached
        self.latency.update(other.latency)


class AgencyDays:
    """The agencies' figures per (store, site filter, local day), days over kept."""

    def __init__(self) -> None:
        self._days: dict[tuple, dict[tuple[str, int], _Hour]] = {}
        self._ranges: dict[tuple, dict[tuple[str, int], _Hour]] = {}  # (owner, first, last day) -> sum
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._days.clear()
            self._ranges.clear()

    def figures(self, store: Store, connection, query: st.StatsQuery, today: date) -> tuple[tuple, tuple]:
        owner = (str(store.url), query.site)
        first, last = query.since.toordinal(), query.until.toordinal()
        last_closed = min(last, today.toordinal() - 1)
        per_hour: dict[tuple[str, int], _Hour] = defaultdict(_Hour)
        if first <= last_closed:  # the days that are over: kept, and their sum for this range too
            with self._lock:
                merged = self._ranges.get((owner, first, last_closed))
            if merged is None:
                merged = self._merged(store, connection, query, owner, first, last_closed)
                with self._lock:
                    if len(self._ranges) >= MAX_KEPT_RANGES:
                        self._ranges.pop(next(iter(self._ranges)))
                    self._ranges[(owner, first, last_closed)] = merged
            for key, figures in merged.items():
                per_hour[key].add(figures)
        if last > last_closed:  # today (and any later day asked): read every time
            since = max(first, last_closed + 1)
            for day in self._read(store, connection, query, date.fromordinal(since), query.until).values():
                for key, figures in day.items():
                    per_hour[key].add(figures)
        per_source: dict[str, _Hour] = defaultdict(_Hour)
        for (source, _), figures in per_hour.items():
            per_source[source].add(figures)
        totals = tuple(_figures(source, None, h) for source, h in sorted(per_source.items()))
        hours = tuple(_figures(source, hour, h) for (source, hour), h in sorted(per_hour.items()))
        return totals, hours

    def _merged(self, store: Store, connection, query: st.StatsQuery, owner, first: int, last: int) -> dict:
        with self._lock:
            kept = {o: self._days.get((owner, o)) for o in range(first, last + 1)}
        missing = [o for o, day in kept.items() if day is None]
        if missing:
            read = self._read(store, connection, query, date.fromordinal(missing[0]), date.fromordinal(missing[-1]))
            for o in missing:
                kept[o] = read.get(o, {})
            with self._lock:
                if len(self._days) + len(missing) > MAX_KEPT_DAYS:
                    self._days.clear()
                self._days.update({(owner, o): kept[o] for o in missing})
        merged: dict[tuple[str, int], _Hour] = defaultdict(_Hour)
        for day in kept.values():
            for key, figures in day.items():
                merged[key].add(figures)
        return dict(merged)

    @staticmethod
    def _read(store: Store, connection, query: st.StatsQuery, first: date, last: date) -> dict[int, dict]:
        start, end = instants(st.StatsQuery(first, last))
        where = [AgencyCall.at >= start, AgencyCall.at < end]
        if query.site is not None:
            where.append(AgencyCall.site == query.site)
        rows = _fetch(connection, select(AgencyCall.source, AgencyCall.status, AgencyCall.elapsed_ms,
                                         _epoch(store, AgencyCall.at), AgencyCall.cached).where(and_(*where)))
        days: dict[int, dict[tuple[str, int], _Hour]] = defaultdict(dict)
        local = _LocalTime()
        answered = st.ANSWERED
        for source, status, elapsed, at, cached in rows:
            hour, _, _, day = local(at)
            figures = days[day].get((source, hour))
            if figures is None:
                figures = days[day][(source, hour)] = _Hour()
            if cached:
                figures.cached += 1
                continue
            figures.calls += 1
            if status in answered:
                figures.answered += 1
            figures.latency[_bucket(elapsed)] += 1
        return days


def _figures(source: str, hour: int | None, h: _Hour) -> st.AgencyFigures:
    return st.AgencyFigures(source, hour, h.calls, h.answered, _quantile(h.latency, 0.5), _quantile(h.latency, 0.9),
                            h.cached)


def _quantile(histogram: Counter[int], q: float) -> float | None:
    count = sum(histogram.values())
    if not count:
        return None
    rank = q * (count - 1)
    seen = 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if seen > rank:
            return round(_bucket_ms(bucket), 1)
    return round(_bucket_ms(max(histogram)), 1)


AGENCY_DAYS = AgencyDays()
