"""`counter serve`: the site's counter service (administrators' command, English).

One per site, under a dedicated account: it alone opens the database and holds
the agencies' credentials (read from ITS keyring at start); the terminals and
the administrators' commands are its clients over a Unix socket. `--training`
runs one for a training room; the hidden `--private` form is what a terminal
started without configuration launches under the data directory
(counter.client.locate).

Wired into counter.cli.parser by ``register(subparsers)`` and ``run(runtime, args)``.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from dataclasses import replace
from pathlib import Path

from counter.cli import common
from counter.terminal import echo

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
SYSTEM_SOCKET = Path("/run/counter/counter.sock")
# A private service leaves this long after its last terminal went (the terminal
# starts it again when it needs it).
PRIVATE_IDLE_MINUTES = 15
PRIVATE_MODE = 0o600


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    serve = subparsers.add_parser(
        "serve", help="run the counter service: the one process that opens the database and holds the "
                      "agencies' credentials; terminals connect to its socket")
    serve.add_argument("--socket", metavar="PATH", default=None,
                       help=f"the socket to listen on (default: [service] socket, else {SYSTEM_SOCKET})")
    serve.add_argument("--group", metavar="NAME", default=None,
                       help="the socket's group: its members may connect (default: [service] group)")
    serve.add_argument("--training", action="store_true",
                       help="a training service for a whole room (fictional town, emulated agencies)")
    serve.add_argument("--scenario", metavar="SCENARIO", default=None,
                       help="training only: run the room under a scenario (see 'counter train --list')")
    # What `counter` without configuration starts under the data directory.
    serve.add_argument("--private", action="store_true", help=argparse.SUPPRESS)
    return serve


def run(runtime, args: argparse.Namespace) -> int:
    prepared = prepare(runtime, args)
    if isinstance(prepared, int):
        return prepared
    return _serve(prepared)


def prepare(runtime, args: argparse.Namespace):
    """The service `counter serve` would run (database opened, secrets read from the
    keyring), or the exit status after saying why it cannot."""
    if (args.training or args.private or args.scenario) and not runtime.training:
        echo(f"counter serve: the configuration {runtime.config_path} is a production one: --training, "
             "--scenario and a private service run without configuration (or with a training one)", err=True)
        return EXIT_USAGE
    if not (args.training or args.private) and runtime.config_path is None:
        echo("counter serve: give the site's configuration (--config PATH or COUNTER_CONFIG) for a production "
             "service, or --training for a training room", err=True)
        return EXIT_USAGE
    for option, value in (("--socket", args.socket), ("--group", args.group)):
        if value is not None and not value.strip():
            echo(f"counter serve: {option} needs a value", err=True)
            return EXIT_USAGE
    if args.private:
        socket_path = Path(args.socket) if args.socket else runtime.data_dir / "run" / "counter.sock"
        group, mode, idle = None, PRIVATE_MODE, PRIVATE_IDLE_MINUTES * 60.0
        searchers = 0  # one terminal: its searches never queue
    else:
        socket_path = Path(args.socket) if args.socket else runtime.service_socket or SYSTEM_SOCKET
        group = args.group or runtime.service_group
        mode, idle = runtime.service_mode, None
        searchers = runtime.search_processes
        if searchers is None:
            searchers = min(os.cpu_count() or 1, 4)
    if not socket_path.is_absolute():
        socket_path = Path.cwd() / socket_path
    if len(os.fsencode(socket_path)) > 107:
        echo(f"counter serve: the socket path {socket_path} is longer than 107 bytes (a limit of the system)",
             err=True)
        return EXIT_USAGE
    if problem := common.data_dir_problem(runtime):
        echo(f"counter serve: the data directory {runtime.data_dir} is unusable ({problem})", err=True)
        return EXIT_FAILED
    from counter.logs import setup_logging

    setup_logging(runtime.log_dir, "service.log")
    if not args.private:
        _log_to_stderr()  # the journal, under systemd
    if args.scenario:
        from fixtures.scenarios import ScenarioError, load

        try:
            scenario = load(args.scenario)
        except ScenarioError as exc:
            # A private one is started by `counter train NAME`: the trainer reads this line there.
            echo(f"{'counter train' if args.private else 'counter serve'} : {exc}", err=True, limit=2000)
            return exc.exit_status
        from counter.cli.train import under_scenario

        runtime = under_scenario(runtime, scenario)
    store = None
    if not runtime.training:
        # Opened now: a database that is unreachable, behind the code or holding
        # training data stops the start with a clear line (systemd then says so).
        store = common.open_current_store(runtime)
        if store is None:
            return EXIT_FAILED
    from counter.service.composition import read_backend_secrets

    # Read once, before serving: a keyring prompt (an encrypted file without its
    # password) fails here, at start, in the administrator's journal.
    secrets = read_backend_secrets(runtime)
    if secrets.problem:
        import logging

        logging.getLogger("counter").warning("agency secrets unavailable: %s", secrets.problem)
        echo(f"counter serve: warning: agency secrets unavailable: {secrets.problem}", err=True)
    from counter.service.server import Service

    return Service(replace(runtime, secrets=secrets), socket_path, group=group, mode=mode, idle_exit=idle,
                   store=store, search_processes=searchers)


def _log_to_stderr() -> None:
    import logging

    from counter.logs import WithholdingFormatter

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(WithholdingFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.getLogger("counter").addHandler(handler)
    logging.getLogger("counter").setLevel(logging.INFO)


def _serve(service) -> int:
    import asyncio
    import logging

    from counter.service.server import ServiceError

    log = logging.getLogger("counter.service")
    stopping: list[int] = []

    def stop(signum, _frame) -> None:
        # uvicorn puts its own handlers in place while it serves and raises the
        # signal again once stopped: this one is what it raises, so the service
        # still removes its socket and closes the database instead of dying there.
        stopping.append(signum)
        service.stop()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        asyncio.run(_run(service, log))
    except ServiceError as exc:
        log.error("the service cannot start: %s", exc)
        echo(f"counter serve: {exc}", err=True)
        return EXIT_FAILED
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    log.info("the counter service stopped%s", f" ({signal.Signals(stopping[0]).name})" if stopping else "")
    return EXIT_OK


async def _run(service, log) -> None:
    import asyncio

    serving = asyncio.create_task(service.serve())
    while not service.started.is_set() and not serving.done():
        await asyncio.sleep(0.05)
    if service.started.is_set() and not serving.done():
        runtime = service.runtime
        log.info("counter service (%s) listening on %s", runtime.mode, service.socket_path)
        notify_ready()
    await serving


def notify_ready() -> None:
    """Tell whoever started us that the socket answers: systemd (Type=notify) or
    the terminal that launched a private service (both give NOTIFY_SOCKET)."""
    import socket

    address = os.environ.pop("NOTIFY_SOCKET", "")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
            notify.connect(address)
            notify.sendall(b"READY=1")
    except OSError:
        pass  # nobody listens any more: the socket answers anyway
