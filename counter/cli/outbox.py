"""`counter outbox`: list, retry and deliver the registrations waiting for their target system.

Administrators' commands: English output. ``register(subparsers)`` adds the
command to ``counter``'s parser; ``run(runtime, args)`` handles it.
"""

from __future__ import annotations

import argparse
import os
import socket

from counter.cli import common
from counter.cli.common import message_id
from counter.domain.text import shown
from counter.terminal import echo, first_line

EXIT_OK, EXIT_FAILED = 0, 1
CELL_LIMIT = 200  # one column of the listing
DELIVER_ROUNDS = 1000  # a safety stop: each round delivers or postpones at least one message


def register(subparsers) -> argparse.ArgumentParser:
    outbox = subparsers.add_parser("outbox", help="registrations waiting to be sent to the town's systems")
    actions = outbox.add_subparsers(dest="outbox_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="list the messages (id, registration, target, state, last error)")
    listing.add_argument("--state", choices=("pending", "delivered", "refused", "cancelled"),
                         help="only messages in this state")
    retry = actions.add_parser("retry", help="make messages due now; refused ones become pending again")
    retry.add_argument("ids", nargs="*", type=message_id, metavar="ID", help="message ids")
    retry.add_argument("--refused", action="store_true", help="every refused message")
    actions.add_parser("deliver", help="send every message due now, then stop")
    return outbox


def check(args) -> bool:
    """The arguments, before the database or the service is reached."""
    if args.outbox_command == "retry" and not args.ids and not args.refused:
        echo("counter: outbox retry: give message ids or --refused", err=True)
        return False
    return True


def run(runtime, args) -> int:
    if not check(args):
        return EXIT_FAILED
    store = common.open_current_store(runtime)
    if store is None:
        return EXIT_FAILED
    from counter.services import audit

    try:
        audit.require(store, audit.actor_for(store, runtime.agent_login, runtime.training), "outbox")
    except audit.Forbidden as exc:
        store.dispose()
        echo(f"counter: {exc.english()}", err=True)
        return 2
    try:
        if args.outbox_command == "list":
            from counter.services.outbox import list_messages

            return print_list(list_messages(store, args.state), args.state)
        if args.outbox_command == "retry":
            return _retry(store, args)
        import asyncio

        return asyncio.run(_deliver(runtime, store))
    finally:
        store.dispose()


def remote(client, args) -> int:
    """The same, through the counter service (which delivers with its own agencies)."""
    if not check(args):
        return EXIT_FAILED
    if args.outbox_command == "list":
        return print_list(client.outbox_list(args.state), args.state)
    if args.outbox_command == "retry":
        echo(f"{client.outbox_retry(args.ids, args.refused)} message(s) due now")
        return EXIT_OK
    report = client.outbox_deliver()
    return print_delivered(report, report.problem)


def print_list(messages, state: str | None) -> int:
    if not messages:
        echo(f"no {state} messages" if state else "the outbox is empty")
        return EXIT_OK
    header = ("ID", "REGISTRATION", "TARGET", "OPERATION", "STATE", "ATTEMPTS", "NEXT ATTEMPT (UTC)", "LAST ERROR")
    rows = [(str(m.id), f"{m.registration_id} ({m.kind})", m.target, m.operation, m.state, str(m.attempts),
             m.next_attempt_at.strftime("%Y-%m-%d %H:%M:%S") if m.state == "pending" else "-",
             m.last_error or "") for m in messages]
    # Cells made safe before measuring: an agency's error may hold ESC sequences.
    rows = [tuple(shown(cell, CELL_LIMIT) for cell in row) for row in rows]
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header) - 1)]
    for row in (header, *rows):
        echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1])
    return EXIT_OK


def print_delivered(total, problem: str = "") -> int:
    if problem:
        echo(f"counter: outbox deliver stopped: {problem}", err=True)
    echo(f"delivered {total.delivered}, to retry later {total.retried}, refused {total.refused}")
    return EXIT_FAILED if problem or total.refused else EXIT_OK


def _retry(store, args) -> int:
    from counter.services.outbox import retry

    # Ids first: those already refused are then no longer counted by --refused.
    count = retry(store, args.ids) if args.ids else 0
    if args.refused:
        count += retry(store, "refused")
    echo(f"{count} message(s) due now")
    return EXIT_OK


async def _deliver(runtime, store) -> int:
    from counter.service.composition import build_backends
    from counter.services.outbox import OutboxRelay, RelayReport

    backends = build_backends(runtime)
    relay = OutboxRelay(store, {b.name: b for b in backends},
                        owner=f"cli:{socket.gethostname()}:{os.getpid()}")
    total = RelayReport()
    try:
        for _ in range(DELIVER_ROUNDS):
            report = await relay.run_once()
            total += report
            if report.total == 0:  # nothing due: the rest waits for its backoff
                break
    except Exception as exc:  # noqa: BLE001 — the database went away; leases expire, nothing is lost
        return print_delivered(total, f"{type(exc).__name__}: {first_line(exc)}")
    finally:
        for backend in backends:
            await backend.aclose()
    return print_delivered(total)
