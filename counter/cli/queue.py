"""`counter queue display`: the waiting room's screen (a TV on a small computer), plain
text full screen — the tickets called and at which desk, in large digits, and how many
wait; never a name. A client of the counter service like the terminals: its account
must be an agent of the counter. Ctrl+C stops it."""

from __future__ import annotations

import argparse
import shutil
import sys
import threading

from counter.terminal import echo

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
REFRESH_SECONDS = 2.0


def register(subparsers) -> argparse.ArgumentParser:
    command = subparsers.add_parser("queue", help="the front desk's queue: the waiting room's display")
    actions = command.add_subparsers(dest="action", metavar="ACTION")
    display = actions.add_parser("display", help="show the tickets called, full screen, in large digits (Ctrl+C stops)")
    display.add_argument("--once", action="store_true", help="print the screen once and exit (checks, tests)")
    return command


def render(view, width: int, height: int) -> str:
    from counter.domain.front_desk import display_lines
    from counter.domain.text import printable

    return "\n".join(printable(line) for line in display_lines(view, width, height))


def run(args: argparse.Namespace, stop: threading.Event | None = None) -> int:
    if args.action != "display":
        echo("counter queue: say what to do: counter queue display", err=True)
        return EXIT_USAGE
    from counter.client.api import CounterClient
    from counter.client.errors import Refused, ServiceUnavailable
    from counter.client.locate import find_service

    try:
        path = find_service(connect=args.connect, config=args.config)
    except ServiceUnavailable as exc:
        echo(f"counter: {exc.english}", err=True)
        return EXIT_FAILED
    except Exception as exc:  # noqa: BLE001 — a configuration that cannot be read (LocateConfigError)
        echo(f"counter: {exc}", err=True)
        return EXIT_USAGE
    client = CounterClient.at(path)
    stop = stop or threading.Event()
    screen = sys.stdout.isatty() and not args.once
    try:
        while True:
            size = shutil.get_terminal_size((80, 24))
            try:
                text = render(client.queue_display(), size.columns, size.lines)
            except Refused as exc:
                echo(f"counter: {exc.english()}", err=True)
                return EXIT_USAGE if exc.code in ("forbidden", "unknown_agent") else EXIT_FAILED
            except ServiceUnavailable:
                if args.once:
                    echo("counter: the counter service does not answer", err=True)
                    return EXIT_FAILED
                text = "Service du guichet injoignable : nouvel essai dans un instant."
            sys.stdout.write("\x1b[H\x1b[2J" + text if screen else text + "\n")
            sys.stdout.flush()
            if args.once or stop.wait(REFRESH_SECONDS):
                return EXIT_OK
    except KeyboardInterrupt:
        return EXIT_OK
    finally:
        client.close()
