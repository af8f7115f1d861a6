"""The statistics screen (issue 16): the figures the service computed, as bar charts
in the terminal (textual-plotext, loaded when the screen opens), every value written
beside its bar. A supervisor sees everyone's figures and filters by site and agent;
an agent sees their own (the service decides: this screen only hides the agent filter).

Keys: m / s / a — the month, week or year; ← / → — the period before or after;
l — the site; g — the agent (supervisors); v or 1…9 — the chart; Échap — back.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Static
from textual_plotext import PlotextPlot

from counter.domain import statistics as st
from screens.base import CounterScreen, service_worker
from screens.registrations import supervises
from screens.widgets import StatusLine

if TYPE_CHECKING:
    from counter.domain.statistics import Bars, Statistics

PERIODS = {"month": "mois", "week": "semaine", "year": "année"}
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")


def period_of(kind: str, anchor: date) -> tuple[date, date]:
    """The month, week (Monday to Sunday) or calendar year holding ``anchor``."""
    if kind == "week":
        monday = anchor - timedelta(days=anchor.weekday())
        return monday, monday + timedelta(days=6)
    if kind == "year":
        return date(anchor.year, 1, 1), date(anchor.year, 12, 31)
    first = anchor.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def shifted(kind: str, anchor: date, step: int) -> date:
    if kind == "week":
        return anchor + timedelta(days=7 * step)
    if kind == "year":
        return date(anchor.year + step, 1, 1)
    month = anchor.year * 12 + anchor.month - 1 + step
    return date(month // 12, month % 12 + 1, 1)


def period_words(kind: str, since: date, until: date) -> str:
    if kind == "month":
        return f"{MONTHS[since.month - 1]} {since.year}"
    if kind == "year":
        return str(since.year)
    return f"semaine du {st.day_text(since)} au {st.day_text(until)}"


class StatisticsScreen(CounterScreen[None]):
    CSS_PATH = "statistics.tcss"
    SUB_TITLE = "Statistiques"
    BINDINGS = [
        Binding("escape", "back", "Retour", id="statistics.back", tooltip="Revenir à l'écran précédent."),
        Binding("v", "next_chart", "Graphique", id="statistics.next",
                tooltip="Le graphique suivant (aussi : 1 à 9)."),
        Binding("left", "shift(-1)", "Préc.", id="statistics.previous", tooltip="La période précédente."),
        Binding("right", "shift(1)", "Suiv.", id="statistics.following", tooltip="La période suivante."),
        Binding("m", "period('month')", "Mois", id="statistics.month", tooltip="Un mois.", show=False),
        Binding("s", "period('week')", "Sem.", id="statistics.week", tooltip="Une semaine (lundi à dimanche).",
                show=False),
        Binding("a", "period('year')", "Année", id="statistics.year", tooltip="Une année civile.", show=False),
        Binding("l", "site", "Site", id="statistics.site", tooltip="Tous les sites, ou un seul (à tour de rôle)."),
        Binding("g", "agent", "Agent", id="statistics.agent",
                tooltip="Tous les agents, ou un seul (à tour de rôle ; superviseur)."),
        *(Binding(str(n), f"chart({n - 1})", str(n), id=f"statistics.chart{n}", show=False) for n in range(1, 10)),
    ]

    def __init__(self, today: date | None = None) -> None:
        super().__init__()
        self._kind = "month"
        self._anchor = today
        self._site: str | None = None
        self._agent: str | None = None
        self._chart = 0
        self._stats: Statistics | None = None
        self._charts: tuple[Bars, ...] = ()

    def compose_body(self) -> ComposeResult:
        yield StatusLine("Calcul des statistiques…", id="status")
        with Horizontal(id="stats-body"):
            with Vertical(id="chart-box"):
                yield Static("", id="chart-title", markup=False)
                yield ChartPlot(id="chart")
            yield Static("", id="summary", markup=False)

    def on_mount(self) -> None:
        if self._anchor is None:
            session = self.app.session
            self._anchor = session.today if session is not None else date.today()
        self.load()

    # -- filters --------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "agent":
            return supervises(self.app)
        return True

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_period(self, kind: str) -> None:
        self._kind = kind
        self.load()

    def action_shift(self, step: int) -> None:
        self._anchor = shifted(self._kind, self._anchor, step)
        self.load()

    def action_site(self) -> None:
        sites = list(self._stats.sites) if self._stats else []
        self._site = _next(self._site, sites)
        self.load()

    def action_agent(self) -> None:
        agents = list(self._stats.agents) if self._stats else []
        self._agent = _next(self._agent, agents)
        self.load()

    def action_next_chart(self) -> None:
        if self._charts:
            self.action_chart((self._chart + 1) % len(self._charts))

    def action_chart(self, index: int) -> None:
        if 0 <= index < len(self._charts):
            self._chart = index
            self._draw()

    # -- the service's figures ------------------------------------------------------------

    def _query(self) -> st.StatsQuery:
        since, until = period_of(self._kind, self._anchor)
        return st.StatsQuery(since, until, self._site, self._agent)

    @service_worker(group="statistics", unreachable="Statistiques indisponibles : service du guichet injoignable.")
    def load(self) -> None:
        query = self._query()
        self.app.call_from_thread(self.query_one(StatusLine).say, "Calcul des statistiques…")
        stats = self.app.counter.statistics(query)
        self.app.call_from_thread(self._show, query, stats)

    def _show(self, query: st.StatsQuery, stats: Statistics) -> None:
        if query != self._query():
            return  # another period or filter was asked meanwhile
        self._stats = stats
        self._charts = _charts_for(stats)
        self._chart = min(self._chart, len(self._charts) - 1)
        q = stats.query
        site = f"site {q.site}" if q.site else "tous les sites"
        who = ("vos visites" if stats.scope == st.OWN
               else f"agent {q.agent}" if q.agent else "tous les agents")
        self.query_one(StatusLine).say(
            f"{period_words(self._kind, q.since, q.until).capitalize()} ({st.period_text(q)}) · {site} · {who}\n"
            f"m/s/a période · ←/→ avant/après · l site{' · g agent' if stats.scope == st.ALL else ''}"
            f" · v graphique")
        self.query_one("#summary", Static).update("\n".join(st.summary_lines(stats)))
        self._draw()

    def _draw(self) -> None:
        if not self._charts:
            return
        bars = self._charts[self._chart]
        self.query_one("#chart-title", Static).update(f"{self._chart + 1}/{len(self._charts)} · {bars.title}")
        self.query_one(ChartPlot).show(bars)


def _charts_for(stats: Statistics) -> tuple[Bars, ...]:
    """The charts of the screen: the PDF's, less the agencies' for an agent (none computed)."""
    return tuple(c for c in st.charts(stats) if c.labels or not c.title.startswith("Organismes"))





def _next(current: str | None, choices: list[str]) -> str | None:
    """None (all), then each choice in turn, then None again."""
    if not choices:
        return None
    if current not in choices:
        return choices[0]
    index = choices.index(current) + 1
    return choices[index] if index < len(choices) else None


class ChartPlot(PlotextPlot):
    """One horizontal bar chart; each bar's label carries its value, so that nothing is
    said by colour alone (the 16-colour console, a monochrome terminal)."""

    def show(self, bars: Bars) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        if not bars.labels:
            self.styles.height = 1
            self.refresh()
            return
        width = max(len(label) for label in bars.labels)
        text_width = max(len(text) for text in bars.texts)
        labels = [f"{label:<{width}} {text:>{text_width}}" for label, text in zip(bars.labels, bars.texts, strict=True)]
        values = list(bars.values)
        if len(labels) == 1:  # plotext needs two rows to place one
            labels, values = [*labels, ""], [*values, 0.0]
        # One row a bar: bar i on row i exactly (y from 1 to n, top to bottom).
        self.styles.height = len(labels)
        rows = list(range(len(labels), 0, -1))
        plt.bar(rows, values, orientation="horizontal", width=0.8, marker="█")
        plt.yticks(rows, labels)
        plt.ylim(1, len(labels))
        plt.xticks([])
        plt.frame(False)
        self.refresh()
