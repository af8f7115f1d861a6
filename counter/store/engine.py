"""Engines and sessions for SQLite (one counter server) and PostgreSQL (shared).

SQLite runs in WAL mode with foreign keys on and a busy timeout; reads open a
deferred transaction, writes open ``BEGIN IMMEDIATE`` so that two agents
writing at once queue on the lock instead of failing half-way through.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlmodel import Session

from counter.store.audit_chain import HEAD_KEY

BUSY_TIMEOUT_MS = 10_000
_WRITE = "counter_write"

SUPPORTED_DRIVERS = ("sqlite", "sqlite+pysqlite", "postgresql", "postgresql+psycopg")


class StoreError(Exception):
    """The database cannot be used; the message is for administrators."""


class EmptyDatabaseFile(StoreError):
    """An existing SQLite file of 0 bytes where a database is expected.

    SQLite would read it as a new, empty database; a database file that was
    truncated (a full disk, a failed copy) must not be quietly replaced by one.
    """

    def __init__(self, path: Path) -> None:
        super().__init__(
            f"the database file {path} is empty (0 bytes), probably truncated: restore the last backup "
            "(to create a new database on purpose, delete the empty file, then run 'counter db upgrade')")
        self.path = path


def normalise_url(url: str | URL) -> URL:
    """Parse and check a database URL; ``postgresql://`` means psycopg 3."""
    parsed = make_url(url) if isinstance(url, str) else url
    if parsed.drivername not in SUPPORTED_DRIVERS:
        raise StoreError(
            f"unsupported database URL scheme {parsed.drivername!r}: "
            "use sqlite:///PATH or postgresql://USER@HOST/DB"
        )
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _sqlite_connect(dbapi_connection, _record) -> None:
    # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own implicit
    # BEGIN would be DEFERRED and would not precede DDL).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection) -> None:
    write = connection.get_execution_options().get(_WRITE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def make_engine(url: str | URL) -> Engine:
    # hide_parameters: a database error must never carry names or NIRs into a log.
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            path = Path(parsed.database).expanduser()
            try:
                empty = path.stat().st_size == 0 and path.is_file()
            except OSError:  # missing (a new database) or unreadable (SQLite will say so)
                empty = False
            if empty:
                raise EmptyDatabaseFile(path)
            folder = path.parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:  # COUNTER_HOME under /proc, or a file's path
                raise StoreError(f"cannot create the database's directory {folder}: {exc.strerror}") from None
        engine = create_engine(parsed, hide_parameters=True, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(parsed, hide_parameters=True, pool_pre_ping=True, connect_args={"connect_timeout": 5})


class Store:
    """One database: an engine, read sessions and write sessions."""

    def __init__(self, url: str | URL) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url)
        self._write_engine = self.engine.execution_options(**{_WRITE: True})
        self.anchor = None  # counter.store.anchor.Anchor: set by counter.service.composition.open_store

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    def describe(self) -> str:
        """The URL without its password, for messages and `counter doctor`."""
        return self.url.render_as_string(hide_password=True)

    @contextmanager
    def read(self) -> Iterator[Session]:
        with Session(self.engine) as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction: committed on success, rolled back on any error.

        Once committed, a transaction that appended audit entries publishes the
        chain's new head to ``anchor`` (counter.store.anchor), when there is one.
        """
        with Session(self._write_engine) as session:
            with session.begin():
                # Start the transaction now (BEGIN IMMEDIATE on SQLite): what the
                # transaction reads stays true until it commits its writes.
                session.connection()
                yield session
            chained = session.info.get(HEAD_KEY)
            if chained is not None and self.anchor is not None:
                self.anchor.after_commit(self, chained)

    @contextmanager
    def write_connection(self):
        """A Core connection in a write transaction (bulk loads, migrations)."""
        with self._write_engine.begin() as connection:
            yield connection

    def dispose(self) -> None:
        self.engine.dispose()
