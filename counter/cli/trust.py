"""`counter audit verify|export` and `counter purge`: the audit trail for administrators.

Who runs the command is the operating-system login, with their role in the
agents table (counter.services.audit.actor_for). English messages, errors exit 2.
"""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, time
from pathlib import Path

from counter.cli import common
from counter.terminal import echo, first_line

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
OUTPUT_MODE = 0o640


def register(commands) -> None:
    audit = commands.add_parser("audit", help="the tamper-evident audit trail")
    actions = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = actions.add_parser("verify", help="check the whole hash chain; names the first broken entry")
    verify.add_argument("--anchor", metavar="FILE|journal", default=None,
                        help="also check the chain against the heads published there "
                             "(a file holding them, e.g. /var/log/syslog or the [audit] anchor file; "
                             "'journal': the systemd journal)")
    export = actions.add_parser("export", help="the entries since a date, for the data-protection officer")
    export.add_argument("--since", required=True, metavar="DATE", help="JJ/MM/AAAA or YYYY-MM-DD")
    export.add_argument("--format", choices=("csv", "json"), default="csv", help="default: csv")
    export.add_argument("--out", metavar="FILE", default=None, help="write to FILE (mode 0640) instead of stdout")
    purge = commands.add_parser("purge", help="remove expired audit entries, drafts and cached agency data")
    purge.add_argument("--older-than", metavar="DURATION", default=None,
                       help="audit entries older than this (30d, 12w, 6m, 1y; default [retention] audit)")
    purge.add_argument("--drafts-older-than", metavar="DURATION", default=None,
                       help="unfinished visits untouched for this long (default [retention] drafts)")


def parse_date(text: str) -> date:
    """JJ/MM/AAAA or YYYY-MM-DD."""
    text = (text or "").strip()
    try:
        if "/" in text:
            return datetime.strptime(text, "%d/%m/%Y").date()
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"invalid date {text[:40]!r}: expected JJ/MM/AAAA or YYYY-MM-DD") from None


def check(args, runtime=None):
    """The arguments, before the database or the service is reached (a typo never
    opens the database): (since, audit age, drafts age) as given, or an exit status.
    The durations default to ``runtime``'s [retention] (the service applies its own)."""
    from counter.domain.durations import parse_duration

    since = audit_age = drafts_age = None
    try:
        if args.command == "audit" and args.audit_command == "export":
            since = parse_date(args.since)
            if not 1900 <= since.year <= 9999:
                raise ValueError(f"invalid date {args.since[:40]!r}: years 1900 to 9999")
            if args.out is not None and not args.out.strip():
                raise ValueError("--out needs a file name")
        if args.command == "audit" and args.audit_command == "verify" and args.anchor is not None \
                and not args.anchor.strip():
            raise ValueError("--anchor needs a file name or 'journal'")
        if args.command == "purge":
            older = args.older_than or (runtime.retention_audit if runtime else None)
            drafts = args.drafts_older_than or (runtime.retention_drafts if runtime else None)
            audit_age = parse_duration(older) if older else None
            drafts_age = parse_duration(drafts) if drafts else None
    except ValueError as exc:
        echo(f"counter: {exc}", err=True)
        return EXIT_USAGE
    if args.command == "audit" and args.audit_command == "export" and args.out is not None:
        from counter.files import NotRegularFile, check_output

        try:
            check_output(Path(args.out))
        except NotRegularFile as exc:
            echo(f"counter: cannot write {args.out}: {exc.strerror}", err=True)
            return EXIT_FAILED
    return since, audit_age, drafts_age


def run(runtime, args) -> int:
    from counter.services import audit

    checked = check(args, runtime)
    if isinstance(checked, int):
        return checked
    since, audit_age, drafts_age = checked
    store = common.open_current_store(runtime)
    if store is None:
        return EXIT_FAILED
    try:
        actor = audit.actor_for(store, runtime.agent_login, runtime.training)
        if args.command == "purge":
            audit.require(store, actor, "audit.export")
            now = datetime.now(UTC)
            return print_purged(audit.purge(store, actor, now - audit_age, now - drafts_age))
        if args.audit_command == "verify":
            audit.require(store, actor, "audit.view")
            return _verify(store, args.anchor)
        audit.require(store, actor, "audit.export")
        return _export(lambda: audit.iter_entries(store, _midnight(since)), args.format, args.out)
    except audit.Forbidden as exc:
        echo(f"counter: {exc.english()}", err=True)
        return EXIT_USAGE
    except OSError as exc:
        if getattr(args, "out", None) is None:  # standard output: counter.cli.main says it, once
            raise
        echo(f"counter: cannot write {args.out}: {exc.strerror or type(exc).__name__}", err=True)
        return EXIT_FAILED
    except Exception as exc:  # noqa: BLE001 — never a traceback
        echo(f"counter: database error: {type(exc).__name__}: {first_line(exc)}", err=True)
        return EXIT_FAILED
    finally:
        store.dispose()


def remote(client, args) -> int:
    """The same through the counter service; files are written here, by the
    administrator's own process. Refusals (counter.client.Refused) go to the caller."""
    checked = check(args)
    if isinstance(checked, int):
        return checked
    since, _, _ = checked
    if args.command == "purge":
        return print_purged(client.purge(args.older_than, args.drafts_older_than))
    if args.audit_command == "verify":
        return _verify_remote(client, args.anchor)
    from dataclasses import asdict

    from counter.exports import started

    try:
        rows = started(asdict(row) for row in client.audit_export(_midnight(since)))
        return _export(lambda: rows, args.format, args.out)
    except OSError as exc:
        if args.out is None:  # standard output: counter.cli.main says it, once
            raise
        echo(f"counter: cannot write {args.out}: {exc.strerror or type(exc).__name__}", err=True)
        return EXIT_FAILED


def _midnight(since: date) -> datetime:
    return datetime.combine(since, time.min).astimezone(UTC)


def print_purged(report) -> int:
    echo(f"purged: {report.audit_entries} audit entr{'y' if report.audit_entries == 1 else 'ies'}, "
         f"{report.drafts} draft(s), {report.cached} cached agency figure(s); checkpoint written")
    return EXIT_OK


def _verify(store, anchor_source: str | None) -> int:
    """The chain, then (``--anchor``) the heads published outside the database;
    a chain found whole is published in turn."""
    from counter.services import audit
    from counter.store import anchor

    broken, count = audit.verify(store)
    if broken is not None:
        return _broken(broken.describe(), count)
    checked = None
    if anchor_source is not None:
        database = anchor.known_identity(store)
        heads = _published(anchor_source, database)
        if isinstance(heads, int):
            return heads
        checked = audit.against_published(store, heads)
        if checked.problem is not None:
            return _disagrees(anchor_source, checked.problem)
    problem = store.anchor.publish_current(store) if store.anchor is not None else None
    return _intact(count, anchor_source, checked, problem)


# Heads sent to the service per request (a request body is 1 MiB at most).
HEADS_PER_REQUEST = 4000


def _verify_remote(client, anchor_source: str | None) -> int:
    report = client.audit_verify(publish=anchor_source is None)
    if report.broken:
        return _broken(report.broken, report.count)
    if anchor_source is None:
        return _intact(report.count, None, None, report.publish_problem)
    heads = _published(anchor_source, report.database or None)
    if isinstance(heads, int):
        return heads
    pairs = [(head.seq, head.hash) for head in heads]
    total_heads, furthest, checked = 0, 0, None
    for start in range(0, len(pairs), HEADS_PER_REQUEST):
        chunk = pairs[start:start + HEADS_PER_REQUEST]
        last = start + HEADS_PER_REQUEST >= len(pairs)
        checked = client.audit_against(chunk, publish=last)
        if checked.problem is not None:
            return _disagrees(anchor_source, checked.problem)
        total_heads, furthest = total_heads + checked.heads, max(furthest, checked.furthest)
    from types import SimpleNamespace

    summary = SimpleNamespace(heads=total_heads, furthest=furthest)
    return _intact(report.count, anchor_source, summary, checked.publish_problem if checked else "")


def _published(anchor_source: str, database: str | None):
    """The heads of ``database`` published in ``anchor_source``, or an exit status after saying why."""
    from counter.store import anchor

    try:
        heads = anchor.read_published(anchor_source, database) if database else []
    except anchor.AnchorError as exc:
        echo(f"counter: {exc}", err=True)
        return EXIT_USAGE
    if not heads:
        echo(f"chain not anchored: no head of this database (id {database or 'none yet'}) in {anchor_source}; "
             "nothing was published there, or the database or its identity was replaced", err=True)
        return EXIT_FAILED
    return heads


def _broken(described: str, count: int) -> int:
    echo(f"chain broken at {described}; {count} entries verified before it", err=True)
    return EXIT_FAILED


def _disagrees(anchor_source: str, problem: str) -> int:
    echo(f"chain disagrees with {anchor_source}: {problem}", err=True)
    return EXIT_FAILED


def _intact(count: int, anchor_source: str | None, checked, publish_problem: str | None) -> int:
    if anchor_source is not None:
        echo(f"chain intact: {count} entries; it holds the {checked.heads} head(s) published in {anchor_source} "
             f"(up to entry {checked.furthest})")
    else:
        echo(f"chain intact: {count} entries")
    if publish_problem:
        echo(f"counter: warning: {publish_problem}", err=True)
    return EXIT_OK


def _export(rows, fmt: str, output: str | None) -> int:
    """``rows()``: the entries as dicts (from the database or the service)."""
    from counter.exports import write_audit

    if output is None:
        count = write_audit(rows(), fmt, sys.stdout)
        sys.stdout.flush()
    else:
        from counter.files import atomic_file

        with atomic_file(Path(output), OUTPUT_MODE, text=True) as handle:
            count = write_audit(rows(), fmt, handle)
        echo(f"{count} audit entr{'y' if count == 1 else 'ies'} written to {output}", err=True)
    return EXIT_OK

