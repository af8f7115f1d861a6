"""`counter doctor` and `counter db upgrade|status`: the site's checks and the
database schema (administrators, English)."""

from __future__ import annotations

import argparse

from counter.cli.common import EXIT_FAILED, EXIT_OK
from counter.terminal import echo


def register_doctor(commands: argparse._SubParsersAction) -> None:
    commands.add_parser("doctor", help="check mode, configuration, data directory, database and keyring")


def register(commands: argparse._SubParsersAction) -> None:
    db = commands.add_parser("db", help="database administration")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_commands.add_parser("upgrade", help="apply the schema migrations")
    db_commands.add_parser("status", help="show the schema revision")


def doctor(runtime, _args) -> int:
    from counter.doctor import run_checks

    checks = run_checks(runtime)
    width = max(len(c.name) for c in checks)
    for check in checks:
        echo(f"{check.name:<{width}}  [{check.label:>4}]  {check.detail}")
    failed = [c for c in checks if c.required and not c.ok]
    if failed:
        echo(f"\n{len(failed)} required check(s) failed.", err=True)
        return EXIT_FAILED
    return EXIT_OK


def _open_for_admin(runtime):
    from counter.store.engine import Store, StoreError

    try:
        return Store(runtime.database_url)
    except StoreError as exc:
        echo(f"counter: {exc}", err=True)
        return None


def run(runtime, args) -> int:
    from counter.store import migrate

    store = _open_for_admin(runtime)
    if store is None:
        return EXIT_FAILED
    try:
        before = migrate.current_revision(store)
        if args.db_command == "status":
            state = "current" if before == migrate.HEAD else f"behind (head is {migrate.HEAD})"
            echo(f"{store.describe()}: revision {before or 'none'}, {state}")
            return EXIT_OK if before == migrate.HEAD else EXIT_FAILED
        migrate.upgrade(store)
        after = migrate.current_revision(store)
        echo(f"{store.describe()}: revision {before or 'none'} -> {after}")
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001
        from counter.store.failures import admin_message

        echo(f"counter: database error: {admin_message(exc)}", err=True)
        return EXIT_FAILED
    finally:
        store.dispose()
