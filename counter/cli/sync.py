"""`counter sync`: one pass of the family system's change feed, on demand (administrators, English).

Direct on the database, like ``counter import``: it runs with ``--config`` as the
service's account, which owns the database and the city's credential (the
keyring). The pass's lease in the database keeps it from running at the same
time as the service's own pass (or another ``counter sync``): then it says so and
exits 1. Exit statuses: 0 the pass reached the end of the feed, or applied the
``--pages`` asked for (rejected families, if any, are listed and recorded); 1 it could not (the family system
down or answering badly, another pass running, a database failure) — what was
committed stays, the next pass resumes; 2 a usage or configuration error.
"""

from __future__ import annotations

import argparse
import asyncio

from counter.cli import common
from counter.terminal import echo

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def register(subparsers) -> argparse.ArgumentParser:
    command = subparsers.add_parser(
        "sync", help="pull the family system's change feed once (families created, changed, merged, removed)")
    command.add_argument("--restart", action="store_true",
                         help="start again from the beginning of the feed (every family checked again)")
    command.add_argument("--pages", type=int, default=None, metavar="N",
                         help="stop after N pages (the next pass resumes where this one stopped)")
    return command


class Progress:
    """The feed's progress for the shared bar (``counter.progress``): changes applied out
    of those applied plus those the family system says remain."""

    def __init__(self, bar=None) -> None:
        from counter.progress import ProgressBar

        self.bar = bar if bar is not None else ProgressBar("sync")

    def __call__(self, done: int, remaining: int | None) -> None:
        self.bar(done, done + (remaining or 0))

    def close(self) -> None:
        self.bar.close()


def run(runtime, args) -> int:
    if args.pages is not None and args.pages < 1:
        echo("counter sync: --pages needs a number of pages, 1 or more", err=True)
        return EXIT_USAGE
    if runtime.training:
        echo("counter sync: training mode has no family system to synchronise with; "
             "give the production configuration (--config)", err=True)
        return EXIT_USAGE
    from counter.service.composition import build_backends

    try:
        backends = [b for b in build_backends(runtime, kinds={"city"}) if hasattr(b, "changes")]
    except Exception as exc:  # noqa: BLE001 — a plugin that cannot be built: the configuration's fault
        echo(f"counter sync: the family system's backend cannot be built: {type(exc).__name__}", err=True)
        return EXIT_USAGE
    if not backends:
        echo("counter sync: no family system configured: add a [backends.NAME] table with kind = \"city\" "
             "and its base_url", err=True)
        return EXIT_USAGE
    store = common.open_current_store(runtime)
    if store is None:
        for backend in backends:
            asyncio.run(backend.aclose())
        return EXIT_FAILED
    try:
        return asyncio.run(_pass(store, backends[0], args))
    finally:
        store.dispose()


async def _pass(store, backend, args) -> int:
    from counter.services.family_sync import FamilySync, SyncBusy, SyncFailed, holder_name

    progress = Progress()
    sync = FamilySync(store, backend, holder=holder_name("counter-sync"))
    try:
        report = await sync.run(restart=args.restart, max_pages=args.pages, progress=progress)
    except SyncBusy as exc:
        progress.close()
        echo(f"counter sync: {exc}; try again once it is done", err=True)
        return EXIT_FAILED
    except SyncFailed as exc:
        progress.close()
        _summary(exc.report)
        echo(f"counter sync: stopped: {exc.english}; what was applied is kept, the next pass resumes", err=True)
        return EXIT_FAILED
    except Exception as exc:  # noqa: BLE001 — the database gone mid-pass: the page under way rolled back
        progress.close()
        from counter.store.failures import admin_message

        echo(f"counter sync: database error: {admin_message(exc)}; the next pass resumes", err=True)
        return EXIT_FAILED
    finally:
        await backend.aclose()
    progress.close()
    _summary(report)
    return EXIT_OK


def _summary(report) -> None:
    if report.restarted:
        echo("the family system no longer knew where the last pass stopped: started again from the beginning")
    echo(f"families: {report.created} created, {report.updated} updated, {report.unchanged} unchanged, "
         f"{report.rejected} rejected")
    echo(f"merges: {report.merges} applied, {report.merges_to_review} to review (counter duplicates list); "
         f"removals: {report.removals}")
    if report.rejected:
        shown = ", ".join(report.rejected_ids)
        more = report.rejected - len(report.rejected_ids)
        echo(f"rejected families (reasons in the audit trail, action sync.page): {shown}"
             + (f" and {more} more" if more > 0 else ""))
    state = "end of the feed reached" if report.complete else "stopped before the end (--pages)"
    echo(f"{report.pages} page(s); cursor {report.cursor or '(start)'}; {state}")
