"""`counter tour prepare`: the roaming bus's replica, made from the town's database (docs/tour.md).

The replica is a complete counter database (SQLite, migrated to HEAD, the same
search index) holding the town's reference tables in full and the families of
the day's route (or all of them), with their live registrations. Ids are
copied as they are, so that every row made on board has an id above the
``tour.max.<table>`` the replica records, and the sync back knows what is new.

Copied with Core, a batch at a time, from one consistent read of central into
one write transaction of a file built beside its final name: a failure leaves
no replica at all, and a replica is never half made. The file is ``0600`` in a
``0700`` directory: it holds personal data and travels on a laptop.
"""

from __future__ import annotations

import json
import os
import re
import socket
import stat
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, bindparam, text
from sqlalchemy.engine import make_url

from counter.clock import utc_now
from counter.store import migrate
from counter.store.engine import Store, StoreError, normalise_url
from counter.services.tour_dossiers import AppointmentsError, StoredAnswer, check_appointments, write_answers
from counter.store.indexing import add_tokens, compact_search_index

BUS_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,19}$")  # as [mobile] bus (counter.settings.MobileSettings)
BATCH = 5_000
META_MAX = 200  # store_meta.value
# The tables whose highest copied id tells the sync what was made on board.
TRACKED = ("person", "household", "household_member", "address", "visit", "registration")
# Reference tables copied in full, in foreign-key order (address comes first: see _copy).
REFERENCE = ("street", "town_address", "school", "school_sector", "sector_rule", "creche", "library_branch",
             "agent", "school_capacity")
# What is never copied: the outbox (the bus never delivers), the audit chain (the bus
# starts its own), drafts and receipts (visit rows go without them), the change feed's
# state, duplicate reviews, and another tour's bookkeeping. The dossiers of the day's
# appointments (tour_dossier) are no copy: the agencies are asked for them (--appointments).


class PrepareError(Exception):
    """The replica cannot be made; nothing was written. The message is for administrators (English);
    ``usage``: what they gave is the cause (a name, a street, a path), not the system."""

    def __init__(self, message: str, usage: bool = True) -> None:
        super().__init__(message)
        self.usage = usage


@dataclass(frozen=True)
class PrepareReport:
    bus: str
    path: Path
    route: tuple[int, ...] | None  # None: the whole town
    counts: dict[str, int] = field(default_factory=dict)  # rows copied, by table
    highest: dict[str, int] = field(default_factory=dict)  # tour.max.<table>
    seconds: float = 0.0


def prepare_replica(central: Store, replica_url: str, *, bus: str, streets: Sequence[int] | None = None,
                    clock=None, agent: str = "tour", host: str | None = None,
                    appointments: Sequence[int] | None = None,
                    dossiers: Callable[[Sequence[int]], list[StoredAnswer]] | None = None) -> PrepareReport:
    """Make the bus's replica at ``replica_url`` (a new SQLite file) from ``central``.

    ``streets``: only the households living on these streets (the day's route), with
    their members, persons and addresses; None: all of them. ``clock`` is unused
    beyond symmetry with the sync (the times recorded are UTC instants). The copy
    is recorded in central's audit trail (``tour.prepare``: the bus, the route and
    counts, no personal data). Raises PrepareError, leaving nothing behind.

    ``appointments``: the households with an appointment on the tour (each must be on
    the route); ``dossiers(appointments)`` asks the agencies for their dossiers
    (counter.services.tour_dossiers.take_along) and its answers are written into the
    replica's ``tour_dossier`` in the transaction that records the tour."""
    del clock
    started = time.perf_counter()
    if not BUS_NAME.match(bus or ""):
        raise PrepareError(f"invalid bus name {bus!r}: 1 to 20 lowercase letters, digits or '-', "
                           "starting with a letter or digit")
    path = _replica_path(replica_url)
    if migrate.current_revision(central) != migrate.HEAD:
        raise PrepareError("the town's database schema is not current: run 'counter db upgrade' first", usage=False)
    route = None if streets is None else tuple(sorted(set(int(s) for s in streets)))
    if route is not None:
        if not route:
            raise PrepareError("no street given for the route")
        _check_streets(central, route)
    if appointments is not None:
        try:
            check_appointments(central, appointments, route)
        except AppointmentsError as exc:
            raise PrepareError(str(exc)) from None
    _check_directory(path.parent)
    partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
    _remove_sqlite_files(partial)
    try:
        _create_private_file(partial)
        replica = Store(f"sqlite:///{partial}")
        try:
            migrate.upgrade(replica)
            counts, highest = _copy(central, replica, route)
            answers = dossiers(appointments) if appointments and dossiers is not None else []
            with replica.write_connection() as connection:
                _record_meta(connection, central, bus, route, highest)
                counts["tour_dossier"] = write_answers(connection, answers, utc_now())
            if appointments is not None:
                counts["appointments"] = len(appointments)
            with replica.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            replica.dispose()
        _remove_sqlite_files(partial, keep_main=True)
        try:
            os.link(partial, path)  # never replaces a file that appeared meanwhile
        except FileExistsError:
            raise PrepareError(f"{path} exists already: refused (a replica may hold work not sent back)") from None
    except PrepareError:
        raise
    except OSError as exc:
        raise PrepareError(f"cannot write the replica in {path.parent}: {exc.strerror or type(exc).__name__}",
                           usage=False) from None
    finally:
        _remove_sqlite_files(partial)
    try:
        _audit_prepare(central, bus, route, counts, agent, host)
    except Exception:
        _remove_sqlite_files(path)  # a copy of personal data the audit trail does not show: none
        raise
    return PrepareReport(bus, path, route, counts, highest, time.perf_counter() - started)


# -- checks -------------------------------------------------------------------------------------


def _replica_path(replica_url: str) -> Path:
    try:
        url = normalise_url(make_url(replica_url))
    except StoreError as exc:
        raise PrepareError(str(exc)) from None
    except Exception:  # noqa: BLE001 — not a URL at all
        raise PrepareError(f"not a database URL: {replica_url[:80]!r}") from None
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise PrepareError("the replica is a SQLite file: give its path (sqlite:///PATH)")
    path = Path(url.database).expanduser().absolute()
    if os.path.lexists(path):
        raise PrepareError(f"{path} exists already: refused (a replica may hold work not sent back; "
                           "purge it as docs/administration.md says before preparing again)")
    return path


def _check_streets(central: Store, route: tuple[int, ...]) -> None:
    sql = text("SELECT id FROM street WHERE id IN :ids").bindparams(bindparam("ids", expanding=True))
    with central.engine.connect() as connection:
        known = set(connection.execute(sql, {"ids": list(route)}).scalars())
    unknown = [s for s in route if s not in known]
    if unknown:
        shown = ", ".join(str(s) for s in unknown[:10]) + (" …" if len(unknown) > 10 else "")
        raise PrepareError(f"unknown street id(s): {shown}")


def _check_directory(folder: Path) -> None:
    """The replica's directory: created 0700, or an existing one no other account can enter."""
    missing = []
    probe = folder
    while not os.path.lexists(probe) and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    try:
        for step in reversed(missing):
            os.mkdir(step, 0o700)
            os.chmod(step, 0o700)  # whatever the umask
        info = folder.stat()
    except OSError as exc:
        raise PrepareError(f"cannot create the directory {folder}: {exc.strerror or type(exc).__name__}",
                           usage=False) from None
    if not stat.S_ISDIR(info.st_mode):
        raise PrepareError(f"{folder} is not a directory")
    if info.st_mode & 0o077:
        raise PrepareError(f"the directory {folder} is open to other accounts (mode {stat.S_IMODE(info.st_mode):o}): "
                           "the replica holds personal data; use a private directory (chmod 700)")


def _create_private_file(path: Path) -> None:
    """The database file, 0600 before anything is in it (SQLite gives its -wal and -shm the
    database's mode), made non-empty at once (an empty file is refused as truncated)."""
    import sqlite3

    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.fchmod(fd, 0o600)
    os.close(fd)
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
    finally:
        connection.close()


def _remove_sqlite_files(path: Path, keep_main: bool = False) -> None:
    for suffix in ("-wal", "-shm", "-journal") + (() if keep_main else ("",)):
        try:
            os.unlink(f"{path}{suffix}")
        except FileNotFoundError:
            pass


# -- the copy ---------------------------------------------------------------------------------


def _selections(route: tuple[int, ...] | None) -> dict[str, str | None]:
    """Each table's WHERE over central (None: every row); street ids are bound as :streets."""
    if route is None:
        households = persons = None
    else:
        households = ("SELECT h.id FROM household h JOIN address a ON a.id = h.address_id "
                      "WHERE a.street_id IN :streets")
        persons = f"SELECT person_id FROM household_member WHERE household_id IN ({households})"
    live = "state != 'cancelled'"
    if persons is None:
        registrations = live
    else:
        registrations = (f"{live} AND (person_id IN ({persons}) OR (person_id IS NULL AND visit_id IN "
                         f"(SELECT id FROM visit WHERE household_id IN ({households}))))")
    addresses = None
    if households is not None:
        addresses = " OR ".join(f"id IN (SELECT address_id FROM {source})" for source in (
            f"household WHERE id IN ({households})",
            f"household_member WHERE household_id IN ({households})",
            "school", "creche", "library_branch"))
    return {
        "address": addresses,
        "person": None if persons is None else f"id IN ({persons})",
        "household": None if households is None else f"id IN ({households})",
        "household_member": None if households is None else f"household_id IN ({households})",
        "registration": registrations,
        "visit": f"id IN (SELECT visit_id FROM registration WHERE {registrations})",
    }


def _copy(central: Store, replica: Store, route: tuple[int, ...] | None) -> tuple[dict[str, int], dict[str, int]]:
    from sqlmodel import SQLModel

    import counter.store.models  # noqa: F401  (the tables)

    tables = SQLModel.metadata.tables
    where = _selections(route)
    params = {"streets": list(route)} if route is not None else {}
    counts: dict[str, int] = {}
    highest: dict[str, int] = {name: 0 for name in TRACKED}
    order = ("street", "town_address", "address", *REFERENCE[2:], "person", "household", "household_member",
             "visit", "registration")
    with _snapshot(central) as source, replica.write_connection() as target:
        for name in order:
            table = tables[name]
            columns = [c.name for c in table.columns]
            selected = _visit_columns(columns, where, route) if name == "visit" else ", ".join(columns)
            sql = f"SELECT {selected} FROM {name}"
            if where.get(name):
                sql += f" WHERE {where[name]}"
            # Typed results: SQLite hands back its datetimes as text otherwise.
            statement = text(sql + " ORDER BY " + ", ".join(c.name for c in table.primary_key.columns)).columns(
                **{c.name: c.type for c in table.columns})
            if "streets" in sql:
                statement = statement.bindparams(bindparam("streets", expanding=True))
            result = source.execute(statement, params if "streets" in sql else {})
            count = 0
            while rows := result.fetchmany(BATCH):
                batch = [dict(row._mapping) for row in rows]
                target.execute(table.insert(), batch)
                count += len(batch)
                if name in highest:
                    highest[name] = max(highest[name], max(r["id"] for r in batch))
            counts[name] = count
        _copy_vocabulary(source, target, route, counts)
        dataset = source.execute(text("SELECT value FROM store_meta WHERE key = 'dataset'")).scalar()
        if dataset is not None:
            target.execute(text("INSERT INTO store_meta (key, value) VALUES ('dataset', :v)"), {"v": dataset})
        compact_search_index(target)
    return counts, highest


def _visit_columns(columns: list[str], where: dict, route) -> str:
    """A visit's row without its draft or receipt (nor its code); in a route, the household and
    person only when copied (a visit may name another household of the child's)."""
    chosen = []
    for column in columns:
        if column == "draft":
            chosen.append("'{}' AS draft")
        elif column in ("receipt", "code"):
            chosen.append(f"NULL AS {column}")
        elif column in ("household_id", "person_id") and route is not None:
            table = "household" if column == "household_id" else "person"
            chosen.append(f"CASE WHEN {column} IN (SELECT id FROM {table} WHERE {where[table]}) "
                          f"THEN {column} END AS {column}")
        else:
            chosen.append(column)
    return ", ".join(chosen)


def _copy_vocabulary(source: Connection, target: Connection, route, counts: dict[str, int]) -> None:
    """The whole town: its vocabulary as it is. A route: the vocabulary of the persons
    copied only (the town's other names stay at the town hall)."""
    if route is None:
        for name, columns in (("search_token", "token, phonetic"), ("search_token_delete", "variant, token")):
            result = source.execute(text(f"SELECT {columns} FROM {name} ORDER BY {columns}"))
            count = 0
            while rows := result.fetchmany(BATCH * 4):
                target.execute(text(f"INSERT INTO {name} ({columns}) VALUES "
                                    f"({', '.join(':' + c.strip() for c in columns.split(','))})"),
                               [dict(r._mapping) for r in rows])
                count += len(rows)
            counts[name] = count
        return
    tokens: set[str] = set()
    for search_text in target.execute(text("SELECT search_text FROM person")).scalars():
        tokens.update(search_text.split())
    add_tokens(target, tokens)
    counts["search_token"] = len(tokens)


class _snapshot:
    """One consistent read of central (REPEATABLE READ on PostgreSQL; SQLite's read
    transaction holds its snapshot from the first read)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def __enter__(self) -> Connection:
        options = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True} if not self.store.is_sqlite \
            else {}
        self.connection = self.store.engine.connect().execution_options(stream_results=True, **options)
        self.transaction = self.connection.begin()
        return self.connection

    def __exit__(self, *exc) -> None:
        try:
            self.transaction.rollback()  # read only: nothing to keep
        finally:
            self.connection.close()


def _record_meta(connection: Connection, central: Store, bus: str, route, highest: dict[str, int]) -> None:
    route_text = "all" if route is None else ",".join(str(s) for s in route)
    if len(route_text) > META_MAX:  # the ids are in central's audit entry and the report
        route_text = f"{len(route)} streets"
    facts = {
        "tour.bus": bus,
        "tour.prepared_at": utc_now().isoformat(timespec="seconds"),
        "tour.central": central.describe()[:META_MAX],
        "tour.route": route_text,
        **{f"tour.max.{name}": str(highest[name]) for name in TRACKED},
    }
    connection.execute(text("INSERT INTO store_meta (key, value) VALUES (:k, :v)"),
                       [{"k": k, "v": v} for k, v in facts.items()])


def _audit_prepare(central: Store, bus: str, route, counts: dict[str, int], agent: str, host: str | None) -> None:
    from counter.store.models import AuditEntry

    details = {"bus": bus, "route": "all" if route is None else list(route),
               "persons": counts.get("person", 0), "households": counts.get("household", 0),
               "registrations": counts.get("registration", 0)}
    if "appointments" in counts:  # the dossiers taken along (each consultation has its own entry)
        details.update(appointments=counts["appointments"], dossier_answers=counts.get("tour_dossier", 0))
    with central.write() as session:
        session.add(AuditEntry(agent=agent, host=host or socket.gethostname(), action="tour.prepare",
                               target_type="tour", target_id=bus, details=json.dumps(details, sort_keys=True)))
