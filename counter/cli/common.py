"""What the `counter` command's modules share: exit statuses, argument types, the
administrators' store, the refusal of an account without a name.

Imported by every command module and never importing one: the package's
modules form no cycle (tests/unit/test_import_cycles.py).
"""

from __future__ import annotations

import argparse

from counter.terminal import echo

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
MAX_ID = 2**63 - 1  # a database id (BIGINT)
CONFIG_MESSAGE_LIMIT = 2000
AGENT_COMMANDS = (None, "train", "replay")  # the agents' and trainers' commands speak French


def port(text: str) -> int:
    value = positive(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"not a port: {text!r}")
    return value


def positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text[:40]!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text[:40]!r}")
    return value


def at_most(limit: int):
    def whole(text: str) -> int:
        value = positive(text)
        if value > limit:
            raise argparse.ArgumentTypeError(f"must be at most {limit}: {text[:40]!r}")
        return value

    return whole


message_id = at_most(MAX_ID)


def unknown_account(exc, command: str | None) -> int:
    if command in AGENT_COMMANDS:
        echo(f"Le guichet refuse de démarrer : ce compte (uid {exc.uid}) n'a pas de nom dans la base "
             "des utilisateurs du système. Prévenez l'administrateur.", err=True)
    else:
        echo(f"counter: refused: this account (uid {exc.uid}) has no name in the system's user database; "
             "the counter acts as a named login (ask the administrator)", err=True)
    return EXIT_FAILED


def data_dir_problem(runtime) -> str | None:
    """Why the data directory cannot be created or written, or None."""
    import os

    from counter.files import private_dir

    try:
        private_dir(runtime.data_dir)
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    if not os.access(runtime.data_dir, os.W_OK):
        return "not writable"
    return None


def open_current_store(runtime):
    """The store for an administrators' command, or None after saying why (English)."""
    from counter.service.composition import NotMigrated, open_store
    from counter.store.dataset import MixedData

    try:
        return open_store(runtime)
    except NotMigrated:
        echo("counter: the database schema is not current: run 'counter db upgrade' first", err=True)
    except MixedData as exc:
        echo(f"counter: refused, training and production data would mix: {exc}", err=True)
    except Exception as exc:  # noqa: BLE001 — unreachable server, damaged file, bad credentials…
        from counter.store.failures import admin_message

        echo(f"counter: database error: {admin_message(exc)}", err=True)
    return None
