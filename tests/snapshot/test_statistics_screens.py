"""The statistics screen over the generated month (fixtures/activity.py) at 80x24 and
120x40, and in the console's 16-colour theme; a year's weekly chart (53 rows, scrolled
by keys) and the typed period's form; times on UTC so that every machine draws the
same hours."""

from __future__ import annotations


import pytest

from screens.statistics import StatisticsScreen
from tests.activity import month_store, utc, year_store  # noqa: F401 — fixtures
from tests.pilot.helpers import until


pytestmark = pytest.mark.usefixtures("utc")


def statistics(chart: str | None = None, *keys: str):
    async def run_before(pilot):
        app = pilot.app
        await until(pilot, lambda: app.ready, "services")
        await app.push_screen(StatisticsScreen())
        await until(pilot, lambda: isinstance(app.screen, StatisticsScreen) and app.screen._stats is not None,
                    "the figures")
        for key in keys:  # before the chart: a period's keys load other figures
            shown = app.screen._stats
            await pilot.press(key)
            await until(pilot, lambda: app.screen._stats is not shown and not app.screen.workers, key)
        if chart:
            await pilot.press(chart)
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@pytest.mark.parametrize("chart", [None, "3", "8", "9"], ids=["hours", "reasons", "agencies", "agency_hours"])
def test_statistics_screen(snap_compare, month_store, make_app, size, chart):
    assert snap_compare(make_app(month_store), terminal_size=size, run_before=statistics(chart))


def test_statistics_in_the_console_theme(snap_compare, month_store, make_app, monkeypatch):
    monkeypatch.setenv("TERM", "linux")
    monkeypatch.delenv("COLORTERM", raising=False)
    app = make_app(month_store)
    assert app.theme == "ansi-dark"
    assert snap_compare(app, terminal_size=(80, 24), run_before=statistics())


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_a_years_waiting_by_week(snap_compare, year_store, make_app, size):
    """53 weeks: the rows in view said above the chart, the others a key away."""
    assert snap_compare(make_app(year_store), terminal_size=size, run_before=statistics("5", "a"))


def test_a_years_waiting_by_week_scrolled_to_its_end(snap_compare, year_store, make_app):
    assert snap_compare(make_app(year_store), terminal_size=(80, 24), press=["end"],
                        run_before=statistics("5", "a"))


def test_a_typed_period_refused(snap_compare, month_store, make_app):
    async def typed(pilot):
        await statistics()(pilot)
        await pilot.press("p", *"31/02/2026", "enter")
        await pilot.pause()

    assert snap_compare(make_app(month_store), terminal_size=(80, 24), run_before=typed)
