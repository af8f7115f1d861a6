"""The store on real SQLite and real PostgreSQL: schema, writes, search index."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import text
from sqlmodel import select

from counter.store import migrate
from counter.store.models import Address, Person, SearchToken
from tests.factories import add_household, person


def test_migrations_reach_the_head_the_code_expects(store):
    assert migrate.current_revision(store) == migrate.HEAD == migrate.script_head()
    migrate.upgrade(store)  # a second upgrade is a no-op
    assert migrate.current_revision(store) == migrate.HEAD


def test_models_and_migrations_describe_the_same_schema(store):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    import counter.store.models  # noqa: F401

    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        diff = compare_metadata(context, SQLModel.metadata)
    # The search machinery (FTS5 table, tsvector column) exists only in migrations.
    relevant = [
        d for d in diff
        if "person_fts" not in str(d) and "search_vector" not in str(d) and "alembic_version" not in str(d)
    ]
    assert relevant == []


def test_a_person_written_through_the_orm_is_indexed(store):
    add_household(store, "rue des Lilas", 3, [(person("LEFEBVRE", "Alexis, Gérôme, Jean-Philippe", (1982, 12, 27)), "parent")])
    with store.read() as session:
        saved = session.exec(select(Person)).one()
        assert saved.search_text == "lefebvre alexis gerome jean philippe jeanphilippe"
        tokens = {t.token for t in session.exec(select(SearchToken))}
    assert {"lefebvre", "gerome", "jeanphilippe"} <= tokens


def test_write_transaction_rolls_back_entirely(store):
    with pytest.raises(RuntimeError), store.write() as session:
        session.add(person("DURAND", "Lucas", (1999, 3, 12), sex="M"))
        session.flush()
        raise RuntimeError("power cut")
    with store.read() as session:
        assert session.exec(select(Person)).first() is None


def test_unique_nir_is_enforced(store):
    from sqlalchemy.exc import IntegrityError

    add_household(store, "rue des Lilas", 1, [(person("A", "Anne", (1955, 8, 14), nir="255081416802538"), "parent")])
    with pytest.raises(IntegrityError):
        add_household(store, "rue des Lilas", 2, [(person("B", "Béa", (1955, 8, 14), nir="255081416802538"), "parent")])


def test_sqlite_runs_in_wal_with_foreign_keys_and_immediate_writes(tmp_path):
    from counter.store.engine import Store

    path = tmp_path / "w.sqlite3"
    store = Store(f"sqlite:///{path}")
    migrate.upgrade(store)
    with store.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
    with store.write() as session:
        # BEGIN IMMEDIATE took the write lock before any write: another writer must wait.
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.close()
        session.add(Address(postal_code="45999", city="Bellerive-sur-Loire"))
    with store.write() as session, pytest.raises(Exception, match="FOREIGN KEY"):
        session.add(Address(street_id=999, postal_code="45999", city="X"))
        session.flush()
    store.dispose()


def test_a_logged_database_error_carries_no_personal_data(store, tmp_path):
    # PostgreSQL quotes the refused key in its message: the log must not.
    import logging

    from sqlalchemy.exc import IntegrityError

    from counter.logs import setup_logging

    path = setup_logging(tmp_path / "logs")
    # Built at run time, so that the traceback's source lines cannot quote them.
    nir, name = "2550814" + "16802538", "SECRET" + "NAME"
    add_household(store, "rue des Lilas", 1, [(person("A", "Anne", (1955, 8, 14), nir=nir), "parent")])
    try:
        add_household(store, "rue des Lilas", 2, [(person(name, "Béa", (1955, 8, 14), nir=nir), "parent")])
    except IntegrityError:
        logging.getLogger("counter").exception("saving a person failed")
    for handler in logging.getLogger("counter").handlers:
        handler.flush()
    logged = path.read_text(encoding="utf-8")
    assert "saving a person failed" in logged and "IntegrityError: (message withheld)" in logged
    assert name not in logged and nir not in logged
