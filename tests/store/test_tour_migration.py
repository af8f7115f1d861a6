"""Migration 0008: the roaming bus's tables on both databases, over a database that
already holds data (docs/tour.md)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from counter.store import migrate
from counter.store.engine import Store

AT = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def test_the_tour_tables_arrive_and_keys_are_unique(database_url):
    store = Store(database_url)
    try:
        migrate.upgrade(store, "0007")
        with store.write_connection() as connection:
            connection.execute(text(
                "INSERT INTO visit (agent_login, state, draft, created_at, updated_at) "
                "VALUES ('agent', 'confirmed', '{}', :at, :at)"), {"at": AT})
        migrate.upgrade(store, "0008")
        assert migrate.current_revision(store) == "0008"
        with store.write_connection() as connection:
            connection.execute(text(
                "INSERT INTO tour_applied (key, bus, kind, local_id, central_id, outcome, applied_at) "
                "VALUES ('bus-1:visit:RCP-AAAA-BBBB', 'bus-1', 'visit', 7, 1, '{}', :at)"), {"at": AT})
            connection.execute(text(
                "INSERT INTO tour_synced (key, central_id, outcome, synced_at) "
                "VALUES ('bus-1:visit:RCP-AAAA-BBBB', 1, '{}', :at)"), {"at": AT})
        with pytest.raises(IntegrityError), store.write_connection() as connection:
            connection.execute(text(
                "INSERT INTO tour_applied (key, bus, kind, local_id, outcome, applied_at) "
                "VALUES ('bus-1:visit:RCP-AAAA-BBBB', 'bus-1', 'visit', 8, '{}', :at)"), {"at": AT})
        with store.engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM visit")).scalar() == 1
            assert connection.execute(text("SELECT local_id FROM tour_applied")).scalar() == 7
    finally:
        store.dispose()
