"""The audit trail is a hash chain on SQLite and PostgreSQL: tampering is named."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from counter.services import audit
from counter.store.engine import Store
from counter.store.models import AuditEntry

ACTOR = audit.Actor("agent", "agent", "poste-1")


def _append(store: Store, count: int, action: str = "dossier.consult", at: datetime | None = None) -> None:
    for index in range(count):
        with store.write() as session:
            entry = AuditEntry(agent="agent", host="poste-1", action=action, target_type="person",
                               target_id=str(index), details='{"purpose": "visite"}')
            if at is not None:
                entry.at = at
            session.add(entry)


def test_entries_are_chained_in_order(store):
    _append(store, 3)
    with store.read() as session:
        rows = session.execute(text("SELECT seq, prev_hash, hash FROM audit_entry ORDER BY seq")).all()
        head = session.execute(text("SELECT seq, hash FROM audit_head")).one()
    assert [r.seq for r in rows] == [1, 2, 3]
    assert rows[0].prev_hash == ""
    assert rows[1].prev_hash == rows[0].hash and rows[2].prev_hash == rows[1].hash
    assert tuple(head) == (3, rows[2].hash)
    assert audit.verify(store) == (None, 3)


def test_several_entries_in_one_transaction_and_services_writing_them(store):
    with store.write() as session:
        audit.record(store, ACTOR, "a", session=session)
        audit.record(store, ACTOR, "b", session=session)
        session.flush()
        audit.record(store, ACTOR, "c", session=session)
    audit.record(store, ACTOR, "d")
    assert audit.verify(store) == (None, 4)


def test_two_counters_appending_at_once_make_one_chain(database_url, store):
    other = Store(database_url)
    errors = []

    def run(which: Store) -> None:
        try:
            _append(which, 15)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(s,)) for s in (store, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    other.dispose()
    assert errors == []
    assert audit.verify(store) == (None, 30)


@pytest.mark.parametrize("column", ["agent", "action", "target_id", "details", "at", "host"])
def test_an_edited_row_is_named(store, column):
    _append(store, 5)
    value = "'2020-01-01 00:00:00'" if column == "at" else "'x'"
    with store.write_connection() as connection:
        connection.exec_driver_sql(f"UPDATE audit_entry SET {column} = {value} WHERE seq = 3")
    broken, _ = audit.verify(store)
    assert (broken.seq, broken.what) == (3, "changed")


@pytest.mark.parametrize("seq", [1, 3, 5])
def test_a_deleted_row_is_named(store, seq):
    _append(store, 5)
    with store.write_connection() as connection:
        connection.exec_driver_sql(f"DELETE FROM audit_entry WHERE seq = {seq}")
    broken, _ = audit.verify(store)
    assert broken is not None and broken.seq == seq and broken.what == "removed"


def test_an_inserted_row_is_named(store):
    _append(store, 3)
    with store.write_connection() as connection:
        connection.exec_driver_sql(
            "INSERT INTO audit_entry (at, agent, host, action, target_type, target_id, details) "
            "VALUES ('2026-12-01 10:00:00', 'x', '', 'forged', '', '', '{}')")
    broken, _ = audit.verify(store)
    assert broken is not None and "inserted" in broken.what and broken.action == "forged"


def test_a_row_inserted_with_a_valid_looking_hash_at_the_end_is_named(store):
    from counter.store.audit_chain import entry_hash

    _append(store, 3)
    with store.read() as session:
        last = session.execute(text("SELECT hash FROM audit_entry WHERE seq = 3")).scalar()
    at = datetime(2026, 12, 1, 10, tzinfo=UTC)
    forged = entry_hash(seq=4, at=at, agent="x", host="", action="forged", target_type="", target_id="",
                        details="{}", prev_hash=last)
    with store.write_connection() as connection:
        connection.execute(text(
            "INSERT INTO audit_entry (at, agent, host, action, target_type, target_id, details, seq, prev_hash, hash) "
            "VALUES (:at, 'x', '', 'forged', '', '', '{}', 4, :prev, :hash)"), {"at": at, "prev": last, "hash": forged})
    broken, _ = audit.verify(store)
    assert (broken.seq, broken.what) == (4, "inserted")


def test_purge_leaves_a_checkpoint_and_the_chain_verifies(store):
    old = datetime.now(UTC) - timedelta(days=400)
    _append(store, 4, at=old)
    _append(store, 2)
    report = audit.purge(store, ACTOR, datetime.now(UTC) - timedelta(days=365))
    assert report.audit_entries == 4
    with store.read() as session:
        seqs = [r[0] for r in session.execute(text("SELECT seq FROM audit_entry ORDER BY seq"))]
        actions = [r[0] for r in session.execute(text("SELECT action FROM audit_entry ORDER BY seq"))]
    assert seqs == [5, 6, 7] and actions[-1] == "audit.checkpoint"
    assert audit.verify(store) == (None, 3)
    # Removing the oldest kept entry after the purge is still caught.
    with store.write_connection() as connection:
        connection.exec_driver_sql("DELETE FROM audit_entry WHERE seq = 5")
    broken, _ = audit.verify(store)
    assert (broken.seq, broken.what) == (5, "removed")


def test_purge_twice_still_verifies(store):
    _append(store, 3, at=datetime.now(UTC) - timedelta(days=800))
    audit.purge(store, ACTOR, datetime.now(UTC) - timedelta(days=700))
    _append(store, 2)
    audit.purge(store, ACTOR, datetime.now(UTC) + timedelta(days=1))  # everything so far, checkpoint included
    broken, count = audit.verify(store)
    assert broken is None and count == 1


def test_purge_removes_old_drafts_only(store):
    from counter.store.models import Visit

    with store.write() as session:
        session.add(Visit(agent_login="agent", updated_at=datetime.now(UTC) - timedelta(days=60)))
        session.add(Visit(agent_login="agent"))
    report = audit.purge(store, ACTOR, datetime.now(UTC) - timedelta(days=365),
                         drafts_older_than=datetime.now(UTC) - timedelta(days=30))
    assert report.drafts == 1
    with store.read() as session:
        assert session.execute(text("SELECT count(*) FROM visit")).scalar() == 1


def test_migration_chains_the_entries_written_before_it(database_url):
    from counter.store import migrate

    store = Store(database_url)
    try:
        migrate.upgrade(store, "0003")
        with store.write_connection() as connection:
            for index in range(3):
                connection.execute(text(
                    "INSERT INTO audit_entry (at, agent, host, action, target_type, target_id, details) "
                    "VALUES (:at, 'agent', 'h', 'visit.confirm', 'visit', :id, '{}')"),
                    {"at": datetime(2026, 11, 20, 9, index, tzinfo=UTC), "id": str(index)})
        migrate.upgrade(store)
        assert audit.verify(store) == (None, 3)
        _append(store, 1)
        assert audit.verify(store) == (None, 4)
    finally:
        store.dispose()


def test_training_and_production_databases_do_not_mix(store):
    from counter.store import dataset

    dataset.ensure(store, "production")
    dataset.ensure(store, "production")  # the same claim: fine
    with pytest.raises(dataset.MixedData, match="production"):
        dataset.ensure(store, "training")
    from fixtures.loader import load_directory

    with pytest.raises(dataset.MixedData, match="ville fictive"):
        load_directory(store)
    with store.read() as session:
        assert session.execute(text("SELECT count(*) FROM person")).scalar() == 0
