"""The `counter` command line's whole parser: every command's module adds its own
sub-command. Built for any command but the terminal's (`counter` alone is read
without it, counter.cli._terminal_args)."""

from __future__ import annotations

import argparse
import sys

from counter import __version__
from counter.cli import (agents, credentials, db, duplicates, export, fixtures, imports, outbox, queue, serve, stats,
                         sync, tour, train, trust)
from counter.cli.common import EXIT_USAGE
from counter.terminal import echo


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error in one line made safe for the terminal (it quotes
    what was typed, which may hold ESC sequences)."""

    def error(self, message: str):
        echo(f"{self.prog}: {message} (see '{self.prog} --help')", err=True)
        self.exit(EXIT_USAGE)

    def _print_message(self, message: str, file=None) -> None:
        # argparse ignores a failed write: `counter --help > /dev/full` would say nothing, exit 0.
        if message:
            (file or sys.stderr).write(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="counter",
        description="Guichet unique: the town hall's family-services counter.",
        epilog="Without a command, starts the counter (training mode when no configuration file is given).",
    )
    parser.add_argument("--version", action="version", version=f"counter {__version__}")
    parser.add_argument("--config", metavar="PATH", help="configuration file (else $COUNTER_CONFIG; none = training mode)")
    parser.add_argument("--connect", metavar="PATH",
                        help="the counter service's socket (else $COUNTER_SOCKET; by default found as "
                             "docs/administration.md says); who you are comes from the system, never from here")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    db.register_doctor(commands)
    db.register(commands)
    agents.register(commands)
    credentials.register(commands)
    fixtures.register(commands)
    serve.register(commands)
    train.register(commands)
    export.register(commands)
    stats.register(commands)
    imports.register(commands)
    outbox.register(commands)
    sync.register(commands)
    queue.register(commands)
    tour.register(commands)
    duplicates.register(commands)
    trust.register(commands)
    return parser
