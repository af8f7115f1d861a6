"""`counter stats`: the statistics for a period as CSV or JSON, or a month's PDF report
(English messages; the figures and the report speak French).

    counter stats --since YYYY-MM-DD --until YYYY-MM-DD [--site S] [--agent L] [--format csv|json] [--output FILE]
    counter stats --pdf FILE --month YYYY-MM [--site S] [--agent L]

Through the counter service like the other supervisors' commands (an agent gets their
own figures there too), or direct on the database with a configuration file.
Wired into counter.cli.parser by ``register(subparsers)`` and ``run(runtime, args)``.
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import date
from pathlib import Path

from counter.terminal import echo, first_line

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
OUTPUT_MODE = 0o640


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    stats = subparsers.add_parser(
        "stats", help="the counter's statistics for a period (aggregates only), or a month's PDF report")
    stats.add_argument("--since", metavar="DATE", help="YYYY-MM-DD, first day (local time)")
    stats.add_argument("--until", metavar="DATE", help="YYYY-MM-DD, last day, included")
    stats.add_argument("--month", metavar="YYYY-MM", help="with --pdf: the month of the report")
    stats.add_argument("--site", help="one site only")
    stats.add_argument("--agent", metavar="LOGIN", help="one agent only (an agent always gets their own)")
    stats.add_argument("--format", choices=("csv", "json"), default="csv", help="default: csv")
    stats.add_argument("--output", metavar="FILE", help="write to FILE (mode 0640) instead of standard output")
    stats.add_argument("--pdf", metavar="FILE", help="write the month's report as a PDF (with --month)")
    return stats


def check(args: argparse.Namespace):
    """The query from the arguments, or an exit status (the message said)."""
    from counter.domain.statistics import MAX_DAYS, StatsQuery

    def usage(message: str) -> int:
        echo(f"counter: {message} (see 'counter stats --help')", err=True)
        return EXIT_USAGE

    def day(value: str, option: str):
        try:
            parsed = date.fromisoformat(value)
            if not 1970 <= parsed.year <= 9998 or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                raise ValueError
            return parsed
        except (TypeError, ValueError):
            return usage(f"invalid {option} date {value[:40]!r}: expected YYYY-MM-DD")

    if args.pdf is not None:
        if args.since or args.until:
            return usage("--pdf takes --month, not --since/--until")
        if not args.month or not re.fullmatch(r"\d{4}-\d{2}", args.month):
            return usage(f"--pdf needs --month YYYY-MM{' (got ' + repr(args.month[:40]) + ')' if args.month else ''}")
        year, month = int(args.month[:4]), int(args.month[5:])
        if not 1 <= month <= 12 or not 1970 <= year <= 9998:
            return usage(f"invalid --month {args.month!r}: expected YYYY-MM")
        if not args.pdf.strip():
            return usage("--pdf needs a file name")
        from counter.domain.periods import period_of

        since, until = period_of("month", date(year, month, 1))
    else:
        if args.month:
            return usage("--month goes with --pdf; give --since and --until for the figures")
        if not args.since or not args.until:
            return usage("give --since and --until (or --pdf FILE --month YYYY-MM)")
        since, until = day(args.since, "--since"), day(args.until, "--until")
        for value in (since, until):
            if isinstance(value, int):
                return value
        if until < since:
            return usage("--until is before --since")
        if (until - since).days >= MAX_DAYS:
            return usage(f"the period is too long: {MAX_DAYS} days at most")
    for value, what, limit in ((args.site, "--site", 40), (args.agent, "--agent", 64)):
        if value is not None and (not value.strip() or len(value) > limit or not value.isprintable()):
            return usage(f"invalid {what}")
    target = args.pdf if args.pdf is not None else args.output
    if target is not None:
        if not target.strip():
            return usage("--output needs a file name")
        from counter.files import NotRegularFile, check_output

        try:
            check_output(Path(target))
        except NotRegularFile as exc:
            echo(f"counter: cannot write {target}: {exc.strerror}", err=True)
            return EXIT_FAILED
    return StatsQuery(since, until, args.site, args.agent)


def run(runtime, args: argparse.Namespace) -> int:
    """Direct, on the database of the configuration (the service's account)."""
    query = check(args)
    if isinstance(query, int):
        return query
    from counter.cli.common import open_current_store

    store = open_current_store(runtime)
    if store is None:
        return EXIT_FAILED
    try:
        from counter.services import audit
        from counter.services.statistics import StatisticsError, compute

        try:
            actor = audit.actor_for(store, runtime.agent_login, runtime.training)
            stats = compute(store, actor, query, runtime.desk(), today=runtime.clock.today())
        except (audit.Forbidden, StatisticsError) as exc:
            echo(f"counter: {exc.english()}", err=True)
            return EXIT_USAGE
        audit.record(store, actor, "statistics.export", "statistics", "",
                     {"since": query.since.isoformat(), "until": query.until.isoformat(),
                      "site": stats.query.site or "", "agent": stats.query.agent or ""})
    except Exception as exc:  # noqa: BLE001 — one line, never a traceback
        echo(f"counter: database error: {type(exc).__name__}: {first_line(exc)}", err=True)
        return EXIT_FAILED
    finally:
        store.dispose()
    return _write(stats, args, getattr(runtime, "town_name", ""))


def remote(client, args: argparse.Namespace) -> int:
    """The same through the counter service, which decides whose figures (and records the
    export in the audit trail); the file is written here. Refusals go to the caller."""
    query = check(args)
    if isinstance(query, int):
        return query
    stats = client.statistics(query, export=True)
    return _write(stats, args, "")


def _write(stats, args: argparse.Namespace, town: str) -> int:
    from counter.files import atomic_file

    try:
        if args.pdf is not None:
            from counter.services.statistics_report import render

            data = render(stats, town)
            with atomic_file(Path(args.pdf), OUTPUT_MODE) as handle:
                handle.write(data)
            echo(f"report for {stats.query.since:%Y-%m} written to {args.pdf} ({stats.visits} visits)", err=True)
            return EXIT_OK
        if args.output is None:
            _rows(stats, args.format, sys.stdout)
            sys.stdout.flush()
            return EXIT_OK
        with atomic_file(Path(args.output), OUTPUT_MODE, text=True) as handle:
            count = _rows(stats, args.format, handle)
        echo(f"{count} figure(s) written to {args.output}", err=True)
        return EXIT_OK
    except OSError as exc:
        if args.output is None and args.pdf is None:  # standard output: counter.cli.main says it, once
            raise
        echo(f"counter: cannot write {args.pdf or args.output}: {exc.strerror or type(exc).__name__}", err=True)
        return EXIT_FAILED


def _rows(stats, fmt: str, handle) -> int:
    """The figures as CSV (figure,key,label,value) or a JSON list of the same objects."""
    from dataclasses import asdict

    from counter.domain.statistics import ROW_FIELDS, rows

    items = list(rows(stats))
    if fmt == "json":
        import json

        json.dump([asdict(r) for r in items], handle, ensure_ascii=False, indent=1)
        handle.write("\n")
    else:
        import csv

        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(ROW_FIELDS)
        for r in items:
            writer.writerow(["" if v is None else v for v in (r.figure, r.key, r.label, r.value)])
    return len(items)
