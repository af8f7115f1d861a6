"""The `counter` command: starts the app, and administration sub-commands.

Agents see French messages; administrators' sub-commands speak English.
Imports stay lazy so that `counter` paints its first screen quickly: `counter`
alone imports only this module, counter.cli.common and counter.cli.tui; a
command imports the whole parser (counter.cli.parser), which imports every
command's module (each of them lazy in turn). The package's modules import
counter.cli.common, never this module: they form no cycle.
"""

from __future__ import annotations

import argparse
import errno
import sys
from collections.abc import Sequence

from counter.terminal import OutputFailed, echo

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
# The supervisors' commands: through the counter service unless a configuration file is given.
SERVICE_COMMANDS = ("agents", "audit", "purge", "export", "outbox", "duplicates", "stats")
# What writing to a full disk, a closed or vanished output gives.
OUTPUT_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EBADF, errno.EPIPE)


def _terminal_args(argv: Sequence[str]) -> argparse.Namespace | None:
    """`counter` alone (the agent's terminal, with at most --config and --connect),
    parsed without building every sub-command's parser and importing its module:
    that is most of the command line's share of the terminal's start-up. None for
    anything else (a command, --help, a mistake), which the whole parser reads."""
    values = {"config": None, "connect": None}
    rest = list(argv)
    while rest:
        option = rest.pop(0)
        name, _, value = option.partition("=")
        if name not in ("--config", "--connect") or values[name[2:]] is not None:
            return None
        if not _:
            if not rest:
                return None
            value = rest.pop(0)
        values[name[2:]] = value
    return argparse.Namespace(command=None, **values)


def _undecodable(argv: Sequence[str]) -> bool:
    # Python hands over bytes that are not UTF-8 as lone surrogates ('\udcff'):
    # neither the database nor the terminal can take them.
    return any("\udc80" <= char <= "\udcff" for arg in argv for char in arg)


def main(argv: Sequence[str] | None = None, *, agent_login: str | None = None) -> int:
    """The `counter` command. ``agent_login``: code embedding the command (tests) may
    name the agent; the console script never does, so the agent is the process's
    real uid's login (counter.runtime.os_login), never an environment variable."""
    import os

    from counter.files import restrict_umask

    previous = restrict_umask()  # what it creates, other accounts never read
    try:
        try:
            status = _main(argv, agent_login)
        finally:
            # What is still buffered (all of it, when stdout is a file) is written
            # now, where a full disk can be reported, not at the interpreter's exit.
            if sys.stdout is not None:  # None: started with stdout closed (`>&-`)
                sys.stdout.flush()
    except OutputFailed as failed:
        return _output_failed(failed.error)
    except OSError as exc:  # stdout written by a library (argparse's help, a CSV writer), or else
        return _output_failed(exc, stdout=exc.filename is None and exc.errno in OUTPUT_ERRNOS)
    finally:
        os.umask(previous)  # matters to code embedding the command (tests) only
    return status


def _output_failed(exc: OSError, stdout: bool = True) -> int:
    """One line for an output that cannot be written (`> /dev/full`), none when the
    reader of a pipe left (`counter outbox list | head`); exit status 1. ``stdout``
    False: another file, named if the error names it."""
    if stdout:
        _discard_stdout()
        if isinstance(exc, BrokenPipeError):
            return EXIT_FAILED
    why = exc.strerror or type(exc).__name__
    if stdout:
        said = f"counter: cannot write to standard output: {why}"
    else:
        said = f"counter: {exc.filename}: {why}" if exc.filename else f"counter: {why}"
    try:
        echo(said, err=True)
    except OSError:  # standard error is full too: the exit status says it
        pass
    return EXIT_FAILED


def _discard_stdout() -> None:
    """Point standard output at /dev/null: the interpreter flushes it again at exit,
    which would print a second error (and exit 120)."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (AttributeError, OSError, ValueError):  # closed, or not a real file (tests capture it)
        pass


def _main(argv: Sequence[str] | None, agent_login: str | None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if _undecodable(argv):
        echo("counter: the arguments are not UTF-8 text (check the terminal's encoding)", err=True)
        return EXIT_USAGE
    args = _terminal_args(argv)
    if args is None:
        from counter.cli.parser import build_parser

        args = build_parser().parse_args(argv)
    for option, value, what in (("--config", args.config, "configuration file"),
                                ("--connect", args.connect, "socket")):
        if value is not None and not value.strip():
            echo(f"counter: {option} needs the path of a {what}", err=True)
            return EXIT_USAGE
    from counter.cli.common import CONFIG_MESSAGE_LIMIT, unknown_account
    from counter.config import ConfigError
    from counter.runtime import UnknownAccount, os_login, resolve

    if args.command in SERVICE_COMMANDS and _through_service(args):
        try:
            os_login()  # the service refuses such an account too; say it as the direct commands do
        except UnknownAccount as exc:
            return unknown_account(exc, args.command)
        from counter.cli import admin

        try:
            return admin.run(args)
        except KeyboardInterrupt:
            return 130
    if args.command == "queue":  # the waiting room's display: a client of the service
        from counter.cli import queue

        return queue.run(args)
    if args.command is None:  # the agent's terminal: a client of the service
        from counter.cli.tui import run_terminal

        return run_terminal(args, agent_login)
    try:
        runtime = resolve(args.config, agent_login=agent_login)
    except ConfigError as exc:
        echo(f"counter: configuration error: {exc}", err=True, limit=CONFIG_MESSAGE_LIMIT)
        return exc.exit_status
    except UnknownAccount as exc:
        return unknown_account(exc, args.command)
    try:
        return _handler(args.command)(runtime, args)
    except KeyboardInterrupt:
        return 130


def _handler(command: str):
    """The function running ``command`` on the runtime (its module is loaded already:
    the parser that read the command imported it)."""
    from counter.cli import (agents, credentials, db, duplicates, export, fixtures, imports, outbox, serve, stats,
                             sync, tour, train, trust)

    return {
        "doctor": db.doctor,
        "db": db.run,
        "agents": agents.run,
        "credentials": credentials.run,
        "fixtures": fixtures.run,
        "export": export.run,
        "stats": stats.run,
        "outbox": outbox.run,
        "duplicates": duplicates.run,
        "import": imports.run,
        "sync": sync.run,
        "tour": tour.run,
        "train": train.train,
        "replay": train.replay,
        "audit": trust.run,
        "purge": trust.run,
        "serve": serve.run,
    }[command]


def _through_service(args) -> bool:
    """The administrators' commands act through the counter service, as the account
    running them, unless a configuration file is given (the service's own account,
    which owns the database: the first supervisor, upgrades) — or ``--connect`` says
    where the service is."""
    import os

    from counter.runtime import config_path_from

    return args.connect is not None or config_path_from(args.config, os.environ) is None

