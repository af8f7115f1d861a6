"""`counter export registrations`: the administrators' export (English messages).

Wired into counter.cli.parser by ``register(subparsers)`` and ``run(runtime, args)``.
Imports stay lazy: the parser is built for every command.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from counter.terminal import echo, first_line

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
OUTPUT_MODE = 0o640  # the export holds names and birth dates
MIN_SINCE, MAX_SINCE = 1970, 9998  # no registration predates the counter; 9999-12-31 overflows in UTC


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    export = subparsers.add_parser("export", help="export data for the town's services")
    actions = export.add_subparsers(dest="export_command", metavar="ACTION", required=True)
    registrations = actions.add_parser(
        "registrations", help="registrations created since a date (names and birth dates, never the NIR)")
    # Parsed in run(), so that a bad date gives our message and exit status 2.
    registrations.add_argument("--since", required=True, metavar="DATE", help="YYYY-MM-DD (local midnight)")
    registrations.add_argument("--format", choices=("csv", "json"), default="csv", help="default: csv")
    registrations.add_argument("--output", metavar="FILE", default=None,
                               help="write to FILE (mode 0640) instead of standard output")
    return export


def check(args: argparse.Namespace):
    """The arguments, before the database or the service is reached: the date, or an exit status."""
    from counter.services.export import since_instant

    try:
        since = date.fromisoformat(args.since)
        if not MIN_SINCE <= since.year <= MAX_SINCE:
            raise ValueError
        since_instant(since)  # local midnight must exist on this machine's clock
    except (TypeError, ValueError, OverflowError):
        echo(f"counter: invalid --since date {args.since[:40]!r}: expected YYYY-MM-DD "
             f"(years {MIN_SINCE} to {MAX_SINCE})", err=True)
        return EXIT_USAGE
    if args.output is not None and not args.output.strip():
        echo("counter: --output needs a file name", err=True)
        return EXIT_USAGE
    if args.output is not None:
        from counter.files import NotRegularFile, check_output

        try:
            check_output(Path(args.output))
        except NotRegularFile as exc:
            echo(f"counter: cannot write {args.output}: {exc.strerror}", err=True)
            return EXIT_FAILED
    return since


def run(runtime, args: argparse.Namespace) -> int:
    since = check(args)
    if isinstance(since, int):
        return since
    from counter.store import migrate
    from counter.store.engine import Store, StoreError

    try:
        store = Store(runtime.database_url)
    except StoreError as exc:
        echo(f"counter: {exc}", err=True)
        return EXIT_FAILED
    try:
        revision = migrate.current_revision(store)
        if revision != migrate.HEAD:
            echo(f"counter: the database schema is at {revision or 'none'}, expected {migrate.HEAD}: "
                 "run 'counter db upgrade' first", err=True)
            return EXIT_FAILED
        from counter.services import audit
        from counter.services.export import iter_registrations

        try:
            actor = audit.actor_for(store, runtime.agent_login, runtime.training)
            audit.require(store, actor, "export")
        except audit.Forbidden as exc:
            echo(f"counter: {exc.english()}", err=True)
            return EXIT_USAGE
        count = _export(iter_registrations(store, since), args.format, args.output)
        audit.record(store, actor, "registrations.export", "registrations", "",
                     {"since": since.isoformat(), "format": args.format, "count": count})
    except OSError as exc:
        if args.output is None:  # standard output: counter.cli.main says it, once
            raise
        echo(f"counter: cannot write {args.output}: {exc.strerror or type(exc).__name__}", err=True)
        return EXIT_FAILED
    except Exception as exc:  # noqa: BLE001 — report, never a traceback with personal data
        echo(f"counter: database error: {type(exc).__name__}: {first_line(exc)}", err=True)
        return EXIT_FAILED
    finally:
        store.dispose()
    _written(count, args.output)
    return EXIT_OK


def remote(client, args: argparse.Namespace) -> int:
    """The same through the counter service (which records the export in the audit
    trail); the file is written here, by the administrator's own process.
    Refusals (counter.client.Refused) go to the caller."""
    since = check(args)
    if isinstance(since, int):
        return since
    from dataclasses import asdict

    from counter.exports import started

    try:
        rows = started(asdict(row) for row in client.export_registrations(since, args.format))
        count = _export(rows, args.format, args.output)
    except OSError as exc:
        if args.output is None:  # standard output: counter.cli.main says it, once
            raise
        echo(f"counter: cannot write {args.output}: {exc.strerror or type(exc).__name__}", err=True)
        return EXIT_FAILED
    _written(count, args.output)
    return EXIT_OK


def _written(count: int, output: str | None) -> None:
    if output:
        echo(f"{count} registration(s) written to {output}", err=True)


def _export(rows, fmt: str, output: str | None) -> int:
    from counter.exports import write_registrations

    if output is None:
        count = write_registrations(rows, fmt, sys.stdout)
        sys.stdout.flush()
        return count
    # Written beside the target and renamed: a failed export leaves no half file.
    from counter.files import atomic_file

    with atomic_file(Path(output), OUTPUT_MODE, text=True) as handle:
        return write_registrations(rows, fmt, handle)
