"""The statistics screen over the generated month (fixtures/activity.py) at 80x24 and
120x40, and in the console's 16-colour theme; times on UTC so that every machine draws
the same hours."""

from __future__ import annotations


import pytest

from screens.statistics import StatisticsScreen
from tests.activity import month_store, utc  # noqa: F401 — fixtures
from tests.pilot.helpers import until


pytestmark = pytest.mark.usefixtures("utc")


def statistics(chart: str | None = None):
    async def run_before(pilot):
        app = pilot.app
        await until(pilot, lambda: app.ready, "services")
        await app.push_screen(StatisticsScreen())
        await until(pilot, lambda: isinstance(app.screen, StatisticsScreen) and app.screen._stats is not None,
                    "the figures")
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
