"""The supervisor's statistics (issue 16): what the core computes and both the screen
and the exports show — aggregates only, never a name, a person or a subject.

Plain data (it crosses the service's socket) and pure helpers: percentiles, the
French labels, the flat rows of the export (``rows``), which the CSV, the JSON, the
PDF and the screen's totals all read from the same :class:`Statistics`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date

# The hours of the day shown (local time); a visit outside them counts in the nearest.
FIRST_HOUR, LAST_HOUR = 8, 18
WEEKDAYS = ("Lun", "Mar", "Mer", "Jeu", "Ven", "Sam", "Dim")
WEEKDAY_NAMES = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
# An agency "answered" when it said something about the person (facts, unknown, not concerned).
ANSWERED = frozenset({"ok", "not_found", "not_applicable"})
# Export's limits: a period longer than this is refused (the screen's and the CLI's message).
MAX_DAYS = 366 * 2

OWN, ALL = "own", "all"  # whose figures: an agent's own, or everyone's (supervisors)


@dataclass(frozen=True, slots=True)
class StatsQuery:
    """What is asked: a period (``until`` included), a site, an agent's login.
    For an agent the core replaces ``agent`` with their own login, whatever is sent."""

    since: date
    until: date
    site: str | None = None
    agent: str | None = None


@dataclass(frozen=True, slots=True)
class Count:
    key: str  # a code, an hour ("09"), a weekday (0 = Monday)
    label: str  # French
    count: int


@dataclass(frozen=True, slots=True)
class WeekTimes:
    """Waiting or handling times of the visits of one week (seconds)."""

    week: date  # its Monday
    count: int
    median: float | None
    p90: float | None


@dataclass(frozen=True, slots=True)
class RegistrationCount:
    kind: str
    kind_label: str
    state: str
    state_label: str
    count: int


@dataclass(frozen=True, slots=True)
class AgencyFigures:
    """One agency (source), over the period or one hour of the day (``hour`` None: all)."""

    source: str
    hour: int | None
    calls: int  # asked of the agency (answers from a cache left out)
    answered: int
    median_ms: float | None
    p90_ms: float | None
    cached: int = 0  # answered from the counter's cache

    @property
    def rate(self) -> float | None:
        return self.answered / self.calls if self.calls else None


@dataclass(frozen=True, slots=True)
class Statistics:
    query: StatsQuery  # as applied: an agent's own login forced in ``agent``
    scope: str  # OWN | ALL
    visits: int  # ended in the period
    by_hour: tuple[Count, ...] = ()
    by_weekday: tuple[Count, ...] = ()
    waiting: tuple[WeekTimes, ...] = ()
    handling: tuple[WeekTimes, ...] = ()
    waiting_all: WeekTimes | None = None  # the whole period (``week``: its first day)
    handling_all: WeekTimes | None = None
    reasons: tuple[Count, ...] = ()
    outcomes: tuple[Count, ...] = ()
    registrations: tuple[RegistrationCount, ...] = ()
    agencies: tuple[AgencyFigures, ...] = ()  # per source, the whole period
    agency_hours: tuple[AgencyFigures, ...] = ()  # per source and hour of the day
    outbox_pending: int | None = None  # deliveries waiting in the outbox now (supervisors only)
    sites: tuple[str, ...] = field(default=())  # the sites seen (for the screen's filter)
    agents: tuple[str, ...] = field(default=())  # logins seen (supervisors only; empty for an agent)


def percentile(ordered: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile (0–1) of sorted values, by linear interpolation; None when empty."""
    if not ordered:
        return None
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def hour_label(hour: int) -> str:
    return f"{hour:02d}h"


def number(value: int) -> str:
    """French: « 2 910 » (a narrow no-break space between thousands)."""
    return f"{value:,}".replace(",", "\u202f")


def minutes(seconds: float | None) -> str:
    """French: « 12 min », « 1 h 05 », « — » for none."""
    if seconds is None:
        return "—"
    total = int(round(seconds / 60))
    if total < 60:
        return f"{total} min"
    return f"{total // 60} h {total % 60:02d}"


def milliseconds(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f} ms".replace(",", "\u202f")


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.0f} %"


def agency_text(a: AgencyFigures) -> str:
    """« 93 % 566/1 260 ms »: the answer rate, then the median and p90 latencies."""
    if not a.calls:
        return f"— ({a.cached} en cache)"
    median = "—" if a.median_ms is None else number(round(a.median_ms))
    p90 = "—" if a.p90_ms is None else number(round(a.p90_ms))
    return f"{percent(a.rate)} {median}/{p90} ms"


def day_text(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def period_text(query: StatsQuery) -> str:
    return f"du {day_text(query.since)} au {day_text(query.until)}"


def week_label(monday: date, query: StatsQuery) -> str:
    """A week's bar, by its Monday: « 05/01 », or « 05/01/2026 » when the period runs over
    two calendar years (a typed period of up to two years would show « 05/01 » twice)."""
    return monday.strftime("%d/%m") if query.since.year == query.until.year else day_text(monday)


def total(counts: Sequence[Count]) -> int:
    return sum(c.count for c in counts)


# -- the export's rows: one list for the CSV, the JSON and the tests --------------------------

ROW_FIELDS = ("figure", "key", "label", "value")


@dataclass(frozen=True, slots=True)
class Row:
    figure: str  # visits, visits_by_hour, visits_by_weekday, waiting_median_s…
    key: str
    label: str
    value: float | int | None


def rows(stats: Statistics) -> Iterator[Row]:
    """Every figure as (figure, key, label, value): what `counter stats` writes."""
    q = stats.query
    yield Row("period", "since", "", q.since.isoformat())  # type: ignore[arg-type]
    yield Row("period", "until", "", q.until.isoformat())  # type: ignore[arg-type]
    yield Row("filter", "site", "", q.site or "")  # type: ignore[arg-type]
    yield Row("filter", "agent", "", q.agent or "")  # type: ignore[arg-type]
    yield Row("visits", "total", "Visites", stats.visits)
    for c in stats.by_hour:
        yield Row("visits_by_hour", c.key, c.label, c.count)
    for c in stats.by_weekday:
        yield Row("visits_by_weekday", c.key, c.label, c.count)
    for name, weeks, overall in (("waiting", stats.waiting, stats.waiting_all),
                                 ("handling", stats.handling, stats.handling_all)):
        if overall is not None:
            yield Row(f"{name}_count", "period", "", overall.count)
            yield Row(f"{name}_median_s", "period", "", _round(overall.median))
            yield Row(f"{name}_p90_s", "period", "", _round(overall.p90))
        for w in weeks:
            yield Row(f"{name}_count", w.week.isoformat(), "", w.count)
            yield Row(f"{name}_median_s", w.week.isoformat(), "", _round(w.median))
            yield Row(f"{name}_p90_s", w.week.isoformat(), "", _round(w.p90))
    for c in stats.reasons:
        yield Row("reasons", c.key, c.label, c.count)
    for c in stats.outcomes:
        yield Row("outcomes", c.key, c.label, c.count)
    for r in stats.registrations:
        yield Row("registrations", f"{r.kind}/{r.state}", f"{r.kind_label} — {r.state_label}", r.count)
    for a in stats.agencies:
        yield from _agency_rows(a, a.source)
    for a in stats.agency_hours:
        yield from _agency_rows(a, f"{a.source}/{a.hour:02d}")
    if stats.outbox_pending is not None:
        yield Row("outbox_pending", "total", "Envois en attente", stats.outbox_pending)


def _agency_rows(a: AgencyFigures, key: str) -> Iterator[Row]:
    yield Row("agency_calls", key, "", a.calls)
    yield Row("agency_answered", key, "", a.answered)
    yield Row("agency_cached", key, "", a.cached)
    yield Row("agency_median_ms", key, "", _round(a.median_ms))
    yield Row("agency_p90_ms", key, "", _round(a.p90_ms))


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def summary_lines(stats: Statistics) -> list[str]:
    """The side panel: totals, written out (what the export says too)."""
    lines = [f"Visites : {number(stats.visits)}"]
    if stats.waiting_all is not None and stats.waiting_all.count:
        tickets = "ticket" if stats.waiting_all.count < 2 else "tickets"  # French: « 1 ticket »
        lines.append(f"Attente ({number(stats.waiting_all.count)} {tickets})")
        lines.append(f"  méd. {minutes(stats.waiting_all.median)} · p90 {minutes(stats.waiting_all.p90)}")
    if stats.handling_all is not None and stats.handling_all.count:
        lines.append("Traitement")
        lines.append(f"  méd. {minutes(stats.handling_all.median)} · p90 {minutes(stats.handling_all.p90)}")
    lines.append(f"Inscriptions : {number(sum(r.count for r in stats.registrations))}")
    if stats.outbox_pending is not None:
        lines.append(f"Envois en attente : {number(stats.outbox_pending)}")
    return lines


# -- bars: what the screen and the PDF draw ---------------------------------------------------

@dataclass(frozen=True, slots=True)
class Bars:
    """One bar chart: a French title, labels, values and the text written beside each bar."""

    title: str
    labels: tuple[str, ...]
    values: tuple[float, ...]
    texts: tuple[str, ...]


def charts(stats: Statistics) -> tuple[Bars, ...]:
    """The charts of the screen and the PDF, in order."""

    def counts(title: str, items: Sequence[Count]) -> Bars:
        return Bars(title, tuple(c.label for c in items), tuple(float(c.count) for c in items),
                    tuple(number(c.count) for c in items))

    result = [
        counts("Visites par heure", stats.by_hour),
        counts("Visites par jour de la semaine", stats.by_weekday),
        counts("Motifs de visite", stats.reasons),
        counts("Issue des visites", stats.outcomes),
    ]
    for title, weeks in (("Attente médiane par semaine (min)", stats.waiting),
                         ("Durée médiane de traitement par semaine (min)", stats.handling)):
        result.append(Bars(title, tuple(week_label(w.week, stats.query) for w in weeks),
                           tuple((w.median or 0.0) / 60 for w in weeks),
                           tuple(f"{minutes(w.median)} (p90 {minutes(w.p90)})" for w in weeks)))
    result.append(Bars("Inscriptions par type et état",
                       tuple(f"{r.kind_label} {r.state_label}" for r in stats.registrations),
                       tuple(float(r.count) for r in stats.registrations),
                       tuple(number(r.count) for r in stats.registrations)))
    result.append(Bars("Organismes : taux de réponse, latence médiane/p90",
                       tuple(a.source for a in stats.agencies),
                       tuple((a.rate or 0.0) * 100 for a in stats.agencies),
                       tuple(agency_text(a) for a in stats.agencies)))
    for source in [a.source for a in stats.agencies]:
        hours = [a for a in stats.agency_hours if a.source == source]
        result.append(Bars(f"{source} par heure : réponses, latence médiane/p90",
                           tuple(hour_label(a.hour or 0) for a in hours),
                           tuple(a.median_ms or 0.0 for a in hours),
                           tuple(agency_text(a) for a in hours)))
    return tuple(result)
