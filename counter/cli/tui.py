"""`counter` without a command: the agent's terminal, a client of the counter service.

On the terminal's start path: light imports only (no database, no configuration
validation, no secret), the client's and the app's modules when they are needed.
"""

from __future__ import annotations

from counter.cli.common import CONFIG_MESSAGE_LIMIT, EXIT_FAILED, EXIT_OK, EXIT_USAGE, unknown_account
from counter.terminal import echo


def run_terminal(args, agent_login: str | None = None, scenario: str | None = None) -> int:
    """The agent's terminal: a client of the counter service found by
    counter.client.locate (a private training service started when there is
    none). Light: no database, no configuration validation, no secret here."""
    from counter.runtime import UnknownAccount, os_login
    from counter.terminal import NoTerminal, has_terminal

    try:
        login = agent_login or os_login()
    except UnknownAccount as exc:
        return unknown_account(exc, None)
    if not has_terminal():  # before a private service is started for nothing
        echo(NoTerminal(), err=True)
        return EXIT_USAGE
    from counter.client.locate import LocateConfigError, ServiceNotStarted, data_dir, find_service
    home = data_dir()
    from counter.files import private_dir
    from counter.logs import setup_logging

    try:
        private_dir(home)
    except OSError as exc:
        echo(f"Le guichet ne peut pas démarrer : le dossier de données {home} est inutilisable "
             f"({exc.strerror or type(exc).__name__}). Prévenez l'administrateur (COUNTER_HOME).", err=True)
        return EXIT_FAILED
    setup_logging(home / "logs")

    def locate(start: bool = True):
        return find_service(args.connect, args.config, scenario=scenario, start=start)

    try:
        path = locate()
    except ServiceNotStarted as exc:
        echo(exc, err=True, limit=2000)
        return exc.exit_status
    except LocateConfigError as exc:
        echo(f"counter: configuration error: {exc}", err=True, limit=CONFIG_MESSAGE_LIMIT)
        return exc.exit_status
    # A private service (under this account's data directory) is a training one,
    # started again if it stops; any other is the site's, locked from the first frame.
    private = path.parent == home / "run" or (home / "run") in path.parents
    from counter.app_factory import build_terminal_app
    from counter.client.terminal import Terminal

    def connect():  # after the first frame: the client's imports must not delay it
        from counter.client.api import CounterClient

        return CounterClient.at(path)

    terminal = Terminal(connect=connect, training=private, login=login,
                        revive=(lambda: locate()) if private else None)
    try:
        build_terminal_app(terminal).run()
    except NoTerminal as exc:
        echo(exc, err=True)
        return EXIT_USAGE
    return EXIT_OK
