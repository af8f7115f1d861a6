"""What the statistics' tests share: the local time zone pinned to UTC (the figures
count local hours and weekdays) with the agencies' kept days forgotten around each
test, and a database holding the generated month of activity (fixtures.activity)."""

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
