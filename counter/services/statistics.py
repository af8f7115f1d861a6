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
SQL), so a day of visits is read without building a datetime per row, and the days
that are over are summed from their kept tallies (counter.services.stats_days).
"""

from __future__ import annotations

import math
from array import array
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from functools import partial
from itertools import chain

from sqlalchemy import Float, and_, cast, extract, func, select

from counter.domain import statistics as st
from counter.domain.front_desk import FrontDesk, codes
from counter.domain.permissions import allowed
from counter.services.stats_days import (AGENCY, VISITS, AgencyHour, AgencyTotals, KeptDays, VisitTotals,
                                         kept_days, tally_agency, tally_visits)
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

    The days over are summed from their kept tallies (counter.services.stats_days),
    today read afresh. The registrations (their states change any day) and the outbox
    are counted by the database in another thread, on its own connection."""
    from concurrent.futures import ThreadPoolExecutor

    today = today or date.today()
    with ThreadPoolExecutor(1, thread_name_prefix="statistics") as pool:
        others = pool.submit(_others, store, query, scope)
        visits = VISIT_DAYS.sum(store, query.since, query.until, today, read=partial(_read_visits, store),
                                keep=_visit_filter(query), filters=(query.site, query.agent))
        figures = _visits(visits, desk, query)
        agency: tuple[tuple, tuple] = ((), ())
        if scope == st.ALL:
            totals = AGENCY_DAYS.sum(store, query.since, query.until, today, read=partial(_read_agency, store),
                                     keep=_agency_filter(query), filters=(query.site,))
            agency = _agency_figures(totals)
        reg_rows, outbox_pending = others.result()
    pairs = visits.pairs  # the whole period's, whatever the filters: the screen lists them
    sites = tuple(sorted({site for site, _ in pairs if site}))
    agents = tuple(sorted({agent for _, agent in pairs if agent})) if scope == st.ALL else ()
    return st.Statistics(
        query=query, scope=scope, visits=visits.count, **figures,
        registrations=_registrations(reg_rows), agencies=agency[0], agency_hours=agency[1],
        outbox_pending=outbox_pending, sites=sites, agents=agents,
    )


def _everything(_tally) -> bool:
    return True


def _visit_filter(query: st.StatsQuery):
    site, agent = query.site, query.agent
    if site is None and agent is None:
        return _everything
    return lambda t: (site is None or t.site == site) and (agent is None or t.agent == agent)


def _agency_filter(query: st.StatsQuery):
    site = query.site
    return _everything if site is None else (lambda t: t.site == site)


def _read_visits(store: Store, first: date, last: date) -> dict[int, list]:
    """The visits ended from ``first`` to ``last`` (local days), tallied per day."""
    start, end = instants(st.StatsQuery(first, last))
    statement = select(_epoch(store, Visit.created_at), _epoch(store, Visit.arrived_at), _epoch(store, Visit.ended_at),
                       Visit.reasons, Visit.outcome, Visit.site, Visit.agent_login
                       ).where(Visit.ended_at.is_not(None), Visit.ended_at >= start, Visit.ended_at < end)
    with store.engine.connect() as connection:
        return tally_visits(_fetch(connection, statement))


def _read_agency(store: Store, first: date, last: date) -> dict[int, list]:
    """The agencies' answers from ``first`` to ``last`` (local days), tallied per day."""
    start, end = instants(st.StatsQuery(first, last))
    statement = select(AgencyCall.source, AgencyCall.status, AgencyCall.elapsed_ms, _epoch(store, AgencyCall.at),
                       AgencyCall.cached, AgencyCall.site).where(AgencyCall.at >= start, AgencyCall.at < end)
    with store.engine.connect() as connection:
        return tally_agency(_fetch(connection, statement), st.ANSWERED, _bucket)


def _others(store: Store, query: st.StatsQuery, scope: str):
    start, end = instants(query)
    reg_filter = [Registration.created_at >= start, Registration.created_at < end]
    if query.site is not None:
        reg_filter.append(Visit.site == query.site)
    if query.agent is not None:
        reg_filter.append(Visit.agent_login == query.agent)
    regs_sql = (select(Registration.kind, Registration.state, func.count())
                .join(Visit, Visit.id == Registration.visit_id).where(and_(*reg_filter))
                .group_by(Registration.kind, Registration.state))
    outbox_pending = None
    with store.engine.connect() as connection:
        reg_rows = _fetch(connection, regs_sql)
        if scope == st.ALL:
            outbox_pending = connection.execute(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.state == "pending")).scalar_one()
    return reg_rows, outbox_pending


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


def _visits(totals: VisitTotals, desk: FrontDesk, query: st.StatsQuery) -> dict:
    by_hour, by_weekday = totals.hours, totals.weekdays
    reasons: Counter[str] = Counter()
    for text, count in totals.reasons.items():
        for code in codes(text or ""):
            reasons[code] += count
    outcomes = Counter(totals.outcomes)
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
    waiting, waiting_runs = _weeks(totals.waiting, query)
    handling, handling_runs = _weeks(totals.handling, query)
    return {
        "by_hour": hours, "by_weekday": days, "waiting": waiting, "handling": handling,
        "waiting_all": _overall(waiting_runs, query), "handling_all": _overall(handling_runs, query),
        "reasons": tuple(reason_counts), "outcomes": tuple(outcome_counts),
    }


def _weeks(values: dict[int, array], query: st.StatsQuery) -> tuple[tuple[st.WeekTimes, ...], list[list[float]]]:
    """Each week's figures, and its values sorted (for the period's)."""
    first = query.since.toordinal() - query.since.weekday()
    last = query.until.toordinal() - query.until.weekday()
    result, runs = [], []
    for monday in range(first, last + 1, 7):
        ordered = sorted(values.get(monday, ()))
        runs.append(ordered)
        result.append(st.WeekTimes(date.fromordinal(monday), len(ordered), _tenth(st.percentile(ordered, 0.5)),
                                   _tenth(st.percentile(ordered, 0.9))))
    return tuple(result), runs


def _overall(runs: list[list[float]], query: st.StatsQuery) -> st.WeekTimes:
    # Sorted weeks one after the other: sorting their concatenation merges runs.
    ordered = sorted(chain.from_iterable(runs))
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


# -- the agencies: answer rates and latencies -------------------------------------------------
#
# Latency percentiles come from histograms (kept per day and hour): buckets of 2 %.

BUCKETS_PER_E = 50  # log-scale buckets: ms -> round(ln(1 + ms) * 50)


def _bucket(ms: float) -> int:
    return int(round(math.log1p(ms if ms > 0 else 0.0) * BUCKETS_PER_E))


def _bucket_ms(bucket: int) -> float:
    return math.expm1(bucket / BUCKETS_PER_E)


def _agency_figures(totals: AgencyTotals) -> tuple[tuple, tuple]:
    per_source: dict[str, AgencyHour] = defaultdict(AgencyHour)
    for (source, _), h in totals.hours.items():
        per_source[source].add(h.calls, h.answered, h.cached, h.latency)
    return (tuple(_figures(source, None, h) for source, h in sorted(per_source.items())),
            tuple(_figures(source, hour, h) for (source, hour), h in sorted(totals.hours.items())))


def _figures(source: str, hour: int | None, h: AgencyHour) -> st.AgencyFigures:
    return st.AgencyFigures(source, hour, h.calls, h.answered, _quantile(h.latency, 0.5), _quantile(h.latency, 0.9),
                            h.cached)


def _quantile(histogram: dict[int, int], q: float) -> float | None:
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


VISIT_DAYS = KeptDays(VISITS, VisitTotals)
AGENCY_DAYS = KeptDays(AGENCY, AgencyTotals)


def keep_days(store: Store, today: date, days: int = 366) -> tuple[int, int]:
    """Keep the tallies of the ``days`` before ``today`` where missing (the service, at
    its start): (days already kept, days read and kept now), visits and agencies."""
    first, last = today - timedelta(days=days), today - timedelta(days=1)
    before = kept_days(store, VISITS) + kept_days(store, AGENCY)
    VISIT_DAYS.sum(store, first, last, today, read=partial(_read_visits, store), keep=_everything,
                   filters=(None, None))
    AGENCY_DAYS.sum(store, first, last, today, read=partial(_read_agency, store), keep=_everything, filters=(None,))
    after = kept_days(store, VISITS) + kept_days(store, AGENCY)
    return before, after - before


def forget_remembered() -> None:
    """Forget the sums of kept days this process remembers (tests, benches): the next
    figures sum the kept rows again."""
    VISIT_DAYS.forget()
    AGENCY_DAYS.forget()
