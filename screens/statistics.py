"""The statistics screen (issue 16): the figures the service computed, as bar charts
in the terminal (textual-plotext, loaded when the screen opens), every value written
beside its bar. A supervisor sees everyone's figures and filters by site and agent;
an agent sees their own (the service decides: this screen only hides the agent filter).

Keys: m / s / a — the month, week or year; p — a period typed « du jj/mm/aaaa au
jj/mm/aaaa » (read by counter.domain.periods); ← / → — the period before or after;
l — the site; g — the agent (supervisors); v or 1…9 — the chart; ↑ / ↓, PgUp / PgDn,
Home / End — the chart's rows when they do not all fit; Échap — back.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, Static
from textual_plotext import PlotextPlot

from counter.domain import statistics as st
from counter.domain.periods import PeriodError, parse_period, period_heading, period_of, shifted, shifted_days
from screens.base import CounterScreen, service_worker
from screens.registrations import supervises
from screens.widgets import SafeInput, StatusLine

if TYPE_CHECKING:
    from counter.domain.statistics import Bars, Statistics

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
        # Not in the footer (it would push « Quitter » out at 80 columns): the status line says it.
        Binding("p", "typed_period", "Dates", id="statistics.dates",
                tooltip="Saisir une période : du jj/mm/aaaa au jj/mm/aaaa.", show=False),
        Binding("l", "site", "Site", id="statistics.site", tooltip="Tous les sites, ou un seul (à tour de rôle)."),
        Binding("g", "agent", "Agent", id="statistics.agent",
                tooltip="Tous les agents, ou un seul (à tour de rôle ; superviseur)."),
        *(Binding(str(n), f"chart({n - 1})", str(n), id=f"statistics.chart{n}", show=False) for n in range(1, 10)),
        # The chart's rows when they do not all fit (a year's 53 weeks at 80x24).
        Binding("down", "scroll_chart('down')", "Défiler", id="statistics.down", show=False),
        Binding("up", "scroll_chart('up')", "Défiler", id="statistics.up", show=False),
        Binding("pagedown", "scroll_chart('page_down')", "Page suiv.", id="statistics.page_down", show=False),
        Binding("pageup", "scroll_chart('page_up')", "Page préc.", id="statistics.page_up", show=False),
        Binding("home", "scroll_chart('home')", "Début", id="statistics.top", show=False),
        Binding("end", "scroll_chart('end')", "Fin", id="statistics.bottom", show=False),
    ]

    def __init__(self, today: date | None = None) -> None:
        super().__init__()
        self._kind = "month"
        self._anchor = today
        self._days: tuple[date, date] | None = None  # the typed period ("days")
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
                with VerticalScroll(id="chart-scroll", can_focus=False):
                    yield ChartPlot(id="chart")
            yield Static("", id="summary", markup=False)

    def on_mount(self) -> None:
        if self._anchor is None:
            session = self.app.session
            self._anchor = session.today if session is not None else date.today()
        self.watch(self.query_one("#chart-scroll"), "scroll_y", self._title, init=False)
        self.load()

    def on_resize(self) -> None:
        self.call_after_refresh(self._title)

    # -- filters --------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "agent":
            return supervises(self.app)
        return True

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_period(self, kind: str) -> None:
        if self._kind == "days" and self._days is not None:
            self._anchor = self._days[0]  # the month, week or year the typed period starts in
        self._kind = kind
        self.load()

    def action_shift(self, step: int) -> None:
        if self._kind == "days" and self._days is not None:
            self._days = shifted_days(*self._days, step)
            self._anchor = self._days[0]
        else:
            self._anchor = shifted(self._kind, self._anchor, step)
        self.load()

    def action_typed_period(self) -> None:
        self.app.push_screen(TypedPeriod(*self._period()), self._typed)

    def _typed(self, period: tuple[date, date] | None) -> None:
        if period is None:
            return  # Échap: the period shown stays
        self._kind, self._days, self._anchor = "days", period, period[0]
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

    def action_scroll_chart(self, where: str) -> None:
        getattr(self.query_one("#chart-scroll", VerticalScroll), f"scroll_{where}")(animate=False)

    # -- the service's figures ------------------------------------------------------------

    def _period(self) -> tuple[date, date]:
        if self._kind == "days" and self._days is not None:
            return self._days
        return period_of(self._kind, self._anchor)

    def _query(self) -> st.StatsQuery:
        since, until = self._period()
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
            f"{period_heading(self._kind, q.since, q.until)} · {site} · {who}\n"
            f"m/s/a période · p dates · ←/→ avant/après · l site{' · g agent' if stats.scope == st.ALL else ''}"
            f" · v graphique")
        self.query_one("#summary", Static).update("\n".join(st.summary_lines(stats)))
        self._draw()

    def _draw(self) -> None:
        if not self._charts:
            return
        self.query_one(ChartPlot).show(self._charts[self._chart])
        self.query_one("#chart-scroll", VerticalScroll).scroll_home(animate=False)
        self._title()
        self.call_after_refresh(self._title)  # once the chart's new height is laid out

    def _title(self) -> None:
        """The chart's title, and which of its rows are in view when they do not all fit."""
        if not self._charts:
            return
        bars = self._charts[self._chart]
        title = f"{self._chart + 1}/{len(self._charts)} · {bars.title}"
        scroll = self.query_one("#chart-scroll", VerticalScroll)
        rows, height = len(bars.labels), scroll.scrollable_content_region.height
        if 0 < height < rows:
            first = min(round(scroll.scroll_y), rows - height) + 1
            title += f"\nlignes {first}–{first + height - 1} sur {rows} · ↑/↓ PgUp/PgDn défiler"
        self.query_one("#chart-title", Static).update(title)


def _charts_for(stats: Statistics) -> tuple[Bars, ...]:
    """The charts of the screen: the PDF's, less the agencies' for an agent (none computed)."""
    return tuple(c for c in st.charts(stats) if c.labels or not c.title.startswith("Organismes"))


class TypedPeriod(ModalScreen[tuple[date, date] | None]):
    """A period typed « du jj/mm/aaaa au jj/mm/aaaa » (read and checked by
    counter.domain.periods); Entrée applies it, Échap leaves the period shown as it is."""

    DEFAULT_CSS = """
    TypedPeriod { align: center middle; }
    TypedPeriod > VerticalScroll {
        width: 66; max-width: 100%; height: auto; border: thick $primary; background: $surface; padding: 0 1;
    }
    TypedPeriod Label { width: 100%; }
    TypedPeriod #period-title { text-style: bold; }
    TypedPeriod #period-fields { height: 1; margin: 1 0; }
    TypedPeriod #period-fields Label { width: auto; padding: 0 1 0 0; }
    TypedPeriod #period-fields Input { width: 13; margin: 0 1 0 0; }
    TypedPeriod #period-error { color: $error; text-style: bold; }
    """
    AUTO_FOCUS = "#since"
    BINDINGS = [
        # Not a priority binding: in a field, Enter is the field's own (Input.Submitted, below), so
        # that it comes after the keys typed before it — a priority binding runs as soon as the
        # app reads the key, before the field has taken a burst of keys (a paste, a fast link).
        Binding("enter", "apply", "Appliquer", id="stats_period.apply",
                tooltip="Afficher les statistiques de cette période."),
        Binding("escape", "cancel", "Annuler", id="stats_period.cancel",
                tooltip="Revenir sans changer de période."),
    ]

    def __init__(self, since: date, until: date) -> None:
        super().__init__()
        self.since, self.until = since, until

    def compose(self) -> ComposeResult:
        with VerticalScroll(can_focus=False):
            yield Label("Période des statistiques", id="period-title", markup=False)
            with Horizontal(id="period-fields"):
                yield Label("du", markup=False)
                yield SafeInput(st.day_text(self.since), id="since", max_length=10, placeholder="jj/mm/aaaa",
                                compact=True)
                yield Label("au", markup=False)
                yield SafeInput(st.day_text(self.until), id="until", max_length=10, placeholder="jj/mm/aaaa",
                                compact=True)
            yield Label(f"Jours jj/mm/aaaa (ou jj/mm/aa), tous deux inclus ; {st.MAX_DAYS} jours au plus.",
                        markup=False)
            yield Label("Entrée : appliquer · Tab : l'autre date · Échap : annuler", markup=False)
            yield Label("", id="period-error", markup=False)
        yield Footer(compact=True)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_apply()

    def action_apply(self) -> None:
        try:
            period = parse_period(self.query_one("#since", SafeInput).value, self.query_one("#until", SafeInput).value)
        except PeriodError as refused:
            self.query_one("#period-error", Label).update(f"⚠ {refused}")
            self.query_one(f"#{refused.field}", SafeInput).focus()
            return
        self.dismiss(period)

    def action_cancel(self) -> None:
        self.dismiss(None)


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
