"""Migration 0007: registrations written before kinds were plugins keep their kind, and a
kind's id may now be as long as counter.domain.kinds.MAX_KIND_ID (both databases)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from counter.domain.kinds import MAX_KIND_ID, kind
from counter.store import migrate
from counter.store.engine import Store

AT = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _registration(connection, kind_id: str) -> None:
    connection.execute(text(
        "INSERT INTO registration (visit_id, kind, state, details, price, delivery, created_at) "
        "VALUES (1, :kind, 'to_deliver', '{}', '{}', 'pending', :at)"), {"kind": kind_id, "at": AT})


def test_existing_registrations_keep_their_kind_and_longer_ids_fit(database_url):
    store = Store(database_url)
    try:
        migrate.upgrade(store, "0006")
        with store.write_connection() as connection:
            connection.execute(text(
                "INSERT INTO visit (agent_login, state, draft, created_at, updated_at) "
                "VALUES ('agent', 'confirmed', '{}', :at, :at)"), {"at": AT})
            for kind_id in ("school", "creche", "library"):
                _registration(connection, kind_id)
        migrate.upgrade(store)
        assert migrate.current_revision(store) == migrate.HEAD
        with store.engine.connect() as connection:
            kinds = connection.execute(text("SELECT kind FROM registration ORDER BY id")).scalars().all()
        assert kinds == ["school", "creche", "library"]
        assert [kind(k).label for k in kinds] == ["École", "Crèche", "Bibliothèque"]
        with store.write_connection() as connection:
            _registration(connection, "k" * MAX_KIND_ID)  # PostgreSQL refused more than 10 before
        with store.engine.connect() as connection:
            assert connection.execute(text("SELECT max(length(kind)) FROM registration")).scalar() == MAX_KIND_ID
    finally:
        store.dispose()
