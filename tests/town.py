"""The shipped fictional town in a database, built once per test session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from counter.store.engine import Store


@pytest.fixture(scope="session")
def town_database(tmp_path_factory) -> Path:
    from fixtures.training import prepare_training_store

    path = tmp_path_factory.mktemp("town") / "town.sqlite3"
    store = prepare_training_store(f"sqlite:///{path}")
    with store.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    store.dispose()
    return path


@pytest.fixture
def town_store(town_database: Path, tmp_path: Path):
    """A private copy of the town, so a test may write to it."""
    copy = tmp_path / "town.sqlite3"
    shutil.copyfile(town_database, copy)
    store = Store(f"sqlite:///{copy}")
    yield store
    store.dispose()
