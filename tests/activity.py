"""What the statistics' tests share: the local time zone pinned to UTC (the figures
count local hours and weekdays) with the agencies' kept days forgotten around each
test, and a database holding the generated month of activity (fixtures.activity), or a
lighter calendar year (2026) for the screen's long charts."""

from __future__ import annotations

import time

import pytest


@pytest.fixture
def utc(monkeypatch):
    from counter.services.statistics import forget_remembered

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    forget_remembered()
    yield
    monkeypatch.undo()
    time.tzset()
    forget_remembered()


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


@pytest.fixture
def year_store(tmp_path):
    """The calendar year 2026 at a few visits a day (~4,000 visits, under a second): a year's
    53 weeks for the screen, without fixtures.activity.YEAR's 100,000 visits (seconds)."""
    from datetime import date

    from counter.store import migrate
    from counter.store.engine import Store
    from fixtures.activity import Activity, load

    store = Store(f"sqlite:///{tmp_path / 'year.sqlite3'}")
    migrate.upgrade(store)
    load(store, Activity(date(2026, 1, 1), 365, visits_per_day=15.0))
    yield store
    store.dispose()
