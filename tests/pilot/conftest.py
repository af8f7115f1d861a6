from __future__ import annotations

import pytest



@pytest.fixture
def sqlite_store(tmp_path):
    from counter.store import migrate
    from counter.store.engine import Store

    store = Store(f"sqlite:///{tmp_path / 'pilot.sqlite3'}")
    migrate.upgrade(store)
    yield store
    store.dispose()


