"""The statistics screen over the generated month (fixtures/activity.py) at 80x24 and
120x40, and in the console's 16-colour theme; times on UTC so that every machine draws
the same hours."""

from __future__ import annotations

import time

import pytest

from screens.statistics import StatisticsScreen
from tests.pilot.helpers import until


@pytest.fixture(autouse=True)
def utc_clock(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    from counter.services.statistics import AGENCY_DAYS

    AGENCY_DAYS.clear()
    yield
    monkeypatch.undo()
    time.tzset()
    AGENCY_DAYS.clear()


@pytest.fixture
def month_store(tmp_path):
    from counter.store import migrate
    from counter.store.engine import Store
    from fixtures.activity import MONTH, load

    store = Store(f"sqlite:///{tmp_path / 'activity.sqlite3'}")
    migrate.upgrade(store)
    load(store, MONTH)
    yield store
    store.dispose()


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
