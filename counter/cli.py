"""The `counter` command: starts the app, and administration sub-commands.

Agents see French messages; administrators' sub-commands speak English.
Imports stay lazy so that `counter` paints its first screen quickly.
"""

from __future__ import annotations

import argparse
import errno
import sys
from collections.abc import Sequence

from counter import __version__
from counter.domain.text import shown
from counter.terminal import OutputFailed, echo

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
# `fixtures generate`: far above the benchmarks' million inhabitants, far below what fills a disk.
MAX_HOUSEHOLDS = 2_000_000
MAX_PERSONS = 5_000_000
MAX_ID = 2**63 - 1  # a database id (BIGINT)
CONFIG_MESSAGE_LIMIT = 2000
MAX_SECRET = 4096  # an agency's token or password; read from a pipe, no more than this
MIXED = "Le guichet refuse de démarrer : "  # every problem of the file, in one line
AGENT_COMMANDS = (None, "train", "replay")  # the agents' and trainers' commands speak French
# The supervisors' commands: through the counter service unless a configuration file is given.
SERVICE_COMMANDS = ("agents", "audit", "purge", "export", "outbox", "duplicates")
# What writing to a full disk, a closed or vanished output gives.
OUTPUT_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EBADF, errno.EPIPE)


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


def _parser() -> argparse.ArgumentParser:
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

    commands.add_parser("doctor", help="check mode, configuration, data directory, database and keyring")

    db = commands.add_parser("db", help="database administration")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_commands.add_parser("upgrade", help="apply the schema migrations")
    db_commands.add_parser("status", help="show the schema revision")

    agents = commands.add_parser("agents", help="manage the agents allowed to use the counter")
    agent_commands = agents.add_subparsers(dest="agents_command", metavar="ACTION", required=True)
    add = agent_commands.add_parser("add", help="register an agent (their operating-system login)")
    add.add_argument("login")
    add.add_argument("--role", required=True, choices=("agent", "supervisor", "trainer"))
    add.add_argument("--name", default="", help="display name")
    agent_commands.add_parser("list", help="list the agents")
    disable = agent_commands.add_parser("disable", help="disable an agent")
    disable.add_argument("login")
    from counter import cli_trust

    cli_trust.register_agents(agent_commands)
    enable = agent_commands.add_parser("enable", help="enable a disabled agent again (role kept)")
    enable.add_argument("login")

    credentials = commands.add_parser("credentials", help="agency credentials, kept in the system keyring")
    credential_commands = credentials.add_subparsers(dest="credentials_command", metavar="ACTION", required=True)
    set_credential = credential_commands.add_parser(
        "set", help="store the secret of backend NAME (prompted; read from stdin when it is not a terminal)")
    set_credential.add_argument("name")
    credential_commands.add_parser("check", help="for each backend: is a secret stored, does the agency accept it")

    fixtures = commands.add_parser("fixtures", help="the fictional town (training, tests, benchmarks)")
    fixture_commands = fixtures.add_subparsers(dest="fixtures_command", metavar="ACTION", required=True)
    generate = fixture_commands.add_parser("generate", help="write a generated town as CSV files")
    generate.add_argument("--out", required=True, metavar="DIR")
    size = generate.add_mutually_exclusive_group()
    size.add_argument("--households", type=_at_most(MAX_HOUSEHOLDS), metavar="N")
    size.add_argument("--persons", type=_at_most(MAX_PERSONS), metavar="N", help="about N inhabitants")
    generate.add_argument("--seed", type=int, default=None)
    from counter import cli_duplicates, cli_export, cli_import, cli_outbox, cli_serve, cli_sync, cli_train

    cli_serve.register(commands)
    cli_train.register(commands)
    cli_export.register(commands)
    cli_import.register(commands)
    cli_outbox.register(commands)
    cli_sync.register(commands)
    cli_duplicates.register(commands)
    cli_trust.register(commands)

    serve = fixture_commands.add_parser(
        "serve", help="serve the emulated agencies over HTTP on loopback (one port per backend)")
    serve.add_argument("--port", type=_port, default=8700, help="first port (default 8700)")
    serve.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1: loopback only)")
    serve.add_argument("--token", default=None,
                       help="require exactly this credential (default: accept any well-formed one)")
    return parser


def _port(text: str) -> int:
    value = _positive(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"not a port: {text!r}")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text[:40]!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text[:40]!r}")
    return value


def _at_most(limit: int):
    def whole(text: str) -> int:
        value = _positive(text)
        if value > limit:
            raise argparse.ArgumentTypeError(f"must be at most {limit}: {text[:40]!r}")
        return value

    return whole


message_id = _at_most(MAX_ID)


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
    args = _terminal_args(argv) or _parser().parse_args(argv)
    for option, value, what in (("--config", args.config, "configuration file"),
                                ("--connect", args.connect, "socket")):
        if value is not None and not value.strip():
            echo(f"counter: {option} needs the path of a {what}", err=True)
            return EXIT_USAGE
    from counter.config import ConfigError
    from counter.runtime import UnknownAccount, os_login, resolve

    if args.command in SERVICE_COMMANDS and _through_service(args):
        try:
            os_login()  # the service refuses such an account too; say it as the direct commands do
        except UnknownAccount as exc:
            return _unknown_account(exc, args.command)
        from counter import cli_admin

        try:
            return cli_admin.run(args)
        except KeyboardInterrupt:
            return 130
    if args.command is None:  # the agent's terminal: a client of the service
        return _run_terminal(args, agent_login)
    try:
        runtime = resolve(args.config, agent_login=agent_login)
    except ConfigError as exc:
        echo(f"counter: configuration error: {exc}", err=True, limit=CONFIG_MESSAGE_LIMIT)
        return exc.exit_status
    except UnknownAccount as exc:
        return _unknown_account(exc, args.command)

    handler = {
        "doctor": _doctor,
        "db": _db,
        "agents": _agents,
        "credentials": _credentials,
        "fixtures": _fixtures,
        "export": _export,
        "outbox": _outbox,
        "duplicates": _duplicates,
        "import": _import,
        "sync": _sync,
        "train": _train,
        "replay": _replay,
        "audit": _trust,
        "purge": _trust,
        "serve": _serve,
    }[args.command]
    try:
        return handler(runtime, args)
    except KeyboardInterrupt:
        return 130


def _through_service(args) -> bool:
    """The administrators' commands act through the counter service, as the account
    running them, unless a configuration file is given (the service's own account,
    which owns the database: the first supervisor, upgrades) — or ``--connect`` says
    where the service is."""
    import os

    from counter.runtime import config_path_from

    return args.connect is not None or config_path_from(args.config, os.environ) is None


def _unknown_account(exc, command: str | None) -> int:
    if command in AGENT_COMMANDS:
        echo(f"Le guichet refuse de démarrer : ce compte (uid {exc.uid}) n'a pas de nom dans la base "
             "des utilisateurs du système. Prévenez l'administrateur.", err=True)
    else:
        echo(f"counter: refused: this account (uid {exc.uid}) has no name in the system's user database; "
             "the counter acts as a named login (ask the administrator)", err=True)
    return EXIT_FAILED


def _data_dir_problem(runtime) -> str | None:
    """Why the data directory cannot be created or written, or None."""
    import os

    from counter.files import private_dir

    try:
        private_dir(runtime.data_dir)
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    if not os.access(runtime.data_dir, os.W_OK):
        return "not writable"
    return None


def _run_terminal(args, agent_login: str | None = None, scenario: str | None = None) -> int:
    """The agent's terminal: a client of the counter service found by
    counter.client.locate (a private training service started when there is
    none). Light: no database, no configuration validation, no secret here."""
    from counter.runtime import UnknownAccount, os_login
    from counter.terminal import NoTerminal, has_terminal

    try:
        login = agent_login or os_login()
    except UnknownAccount as exc:
        return _unknown_account(exc, None)
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


def _doctor(runtime, _args) -> int:
    from counter.doctor import run_checks

    checks = run_checks(runtime)
    width = max(len(c.name) for c in checks)
    for check in checks:
        echo(f"{check.name:<{width}}  [{check.label:>4}]  {check.detail}")
    failed = [c for c in checks if c.required and not c.ok]
    if failed:
        echo(f"\n{len(failed)} required check(s) failed.", err=True)
        return EXIT_FAILED
    return EXIT_OK


def _open_for_admin(runtime):
    from counter.store.engine import Store, StoreError

    try:
        return Store(runtime.database_url)
    except StoreError as exc:
        echo(f"counter: {exc}", err=True)
        return None


def _db(runtime, args) -> int:
    from counter.store import migrate

    store = _open_for_admin(runtime)
    if store is None:
        return EXIT_FAILED
    try:
        before = migrate.current_revision(store)
        if args.db_command == "status":
            state = "current" if before == migrate.HEAD else f"behind (head is {migrate.HEAD})"
            echo(f"{store.describe()}: revision {before or 'none'}, {state}")
            return EXIT_OK if before == migrate.HEAD else EXIT_FAILED
        migrate.upgrade(store)
        after = migrate.current_revision(store)
        echo(f"{store.describe()}: revision {before or 'none'} -> {after}")
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001
        from counter.store.failures import admin_message

        echo(f"counter: database error: {admin_message(exc)}", err=True)
        return EXIT_FAILED
    finally:
        store.dispose()


def open_current_store(runtime):
    """The store for an administrators' command, or None after saying why (English)."""
    from counter.service.composition import NotMigrated, open_store
    from counter.store.dataset import MixedData

    try:
        return open_store(runtime)
    except NotMigrated:
        echo("counter: the database schema is not current: run 'counter db upgrade' first", err=True)
    except MixedData as exc:
        echo(f"counter: refused, training and production data would mix: {exc}", err=True)
    except Exception as exc:  # noqa: BLE001 — unreachable server, damaged file, bad credentials…
        from counter.store.failures import admin_message

        echo(f"counter: database error: {admin_message(exc)}", err=True)
    return None


def _agents(runtime, args) -> int:
    from counter.services.agents import AgentError, AgentService

    store = open_current_store(runtime)
    if store is None:
        return EXIT_FAILED
    from counter.services import audit

    try:
        actor = audit.actor_for(store, runtime.agent_login, runtime.training)
        return agents_command(args, _DirectAgents(AgentService(store), store, actor))
    except AgentError as exc:
        echo(f"counter: {exc}", err=True)
        return EXIT_FAILED
    except audit.Forbidden as exc:
        hint = ("" if audit.has_supervisor(store) else
                f" (no supervisor yet: add one first, e.g. 'counter agents add {runtime.agent_login} --role supervisor')")
        echo(f"counter: {exc.english()}{hint}", err=True)
        return EXIT_USAGE
    finally:
        store.dispose()


class _DirectAgents:
    """`counter agents` on the database (a configuration file given); the counter
    service's client offers the same calls (counter.client.calls.admin)."""

    def __init__(self, service, store, actor) -> None:
        self.service, self.store, self.actor = service, store, actor

    def agents_add(self, login: str, role: str, display_name: str):
        return self.service.add(login, role, display_name, by=self.actor)

    def agents_disable(self, login: str):
        return self.service.disable(login, by=self.actor)

    def agents_enable(self, login: str):
        return self.service.enable(login, by=self.actor)

    def agents_reset_pin(self, login: str) -> None:
        from counter.services.agents import AgentError
        from counter.services.lock import LockService

        try:
            LockService(self.store).reset(login, self.actor)
        except LookupError:
            raise AgentError(f"no agent {login[:64]!r}") from None

    def agents_list(self):
        return self.service.list()


def agents_command(args, agents) -> int:
    """`counter agents ACTION` with ``agents`` the database or the counter service."""
    if args.agents_command == "add":
        agent = agents.agents_add(args.login, args.role, args.name)
        echo(f"agent {agent.login} added ({agent.role})")
    elif args.agents_command == "disable":
        agent = agents.agents_disable(args.login)
        echo(f"agent {agent.login} disabled")
    elif args.agents_command == "reset-pin":
        agents.agents_reset_pin(args.login)
        echo(f"PIN of {args.login} cleared: they choose a new one at their next start")
    elif args.agents_command == "enable":
        agent = agents.agents_enable(args.login)
        echo(f"agent {agent.login} enabled ({agent.role})")
    else:
        listed = agents.agents_list()
        if not listed:
            echo("no agents registered")
        for agent in listed:
            state = "active" if agent.active else "disabled"
            echo(f"{shown(agent.login, 64):<20} {agent.role:<11} {state:<9} {shown(agent.display_name, 80)}")
    return EXIT_OK


def _serve(runtime, args) -> int:
    from counter import cli_serve

    return cli_serve.run(runtime, args)


def _trust(runtime, args) -> int:
    from counter import cli_trust

    return cli_trust.run(runtime, args)


def _outbox(runtime, args) -> int:
    from counter import cli_outbox

    return cli_outbox.run(runtime, args)


def _duplicates(runtime, args) -> int:
    from counter import cli_duplicates

    return cli_duplicates.run(runtime, args)


def _import(runtime, args) -> int:
    from counter import cli_import

    return cli_import.run(runtime, args)


def _sync(runtime, args) -> int:
    from counter import cli_sync

    return cli_sync.run(runtime, args)


def _train(runtime, args) -> int:
    from counter import cli_train

    return cli_train.train(runtime, args)


def _replay(runtime, args) -> int:
    from counter import cli_train

    return cli_train.replay(runtime, args)


def _export(runtime, args) -> int:
    from counter import cli_export

    return cli_export.run(runtime, args)


def _credentials(runtime, args) -> int:
    from counter.credentials import CredentialError, keyring_problem, set_secret

    if args.credentials_command == "check":
        return _credentials_check(runtime)
    names = _backend_names(runtime)
    if args.name not in names:
        echo(f"counter: no backend named {args.name[:64]!r} (configured: {', '.join(names) or 'none'})", err=True)
        return EXIT_FAILED
    problem = keyring_problem()
    if problem:
        echo(f"counter: {problem}", err=True)
        return EXIT_FAILED
    try:
        if sys.stdin.isatty():
            import getpass

            secret = getpass.getpass(f"Secret for backend {args.name!r} (not echoed): ")
        else:
            # Bounded: `< /dev/zero` has no line end to stop at.
            secret = sys.stdin.readline(MAX_SECRET + 1).rstrip("\r\n")
            if len(secret) > MAX_SECRET:
                echo(f"counter: the secret is longer than {MAX_SECRET} characters: nothing stored", err=True)
                return EXIT_FAILED
    except UnicodeDecodeError:
        echo("counter: the secret is not UTF-8 text: nothing stored", err=True)
        return EXIT_FAILED
    except EOFError:
        echo("counter: no secret given: nothing stored", err=True)
        return EXIT_FAILED
    try:
        set_secret(args.name, secret)
    except CredentialError as exc:
        echo(f"counter: {exc}", err=True)
        return EXIT_FAILED
    echo(f"secret stored for backend {args.name!r} (keyring service 'counter')")
    _audit_credential(runtime, args.name)
    return EXIT_OK


def _audit_credential(runtime, name: str) -> None:
    """The change goes into the audit trail (the backend's name, never the secret)."""
    from counter.services import audit

    store = open_current_store(runtime)
    if store is None:
        echo("counter: warning: the change could not be written to the audit trail", err=True)
        return
    try:
        actor = audit.actor_for(store, runtime.agent_login, runtime.training)
        audit.record(store, actor, "credential.set", "backend", name)
    finally:
        store.dispose()


def _backend_names(runtime) -> list[str]:
    from counter.config import TRAINING_BACKENDS

    return list(runtime.backends if runtime.backends is not None else TRAINING_BACKENDS)


def _credentials_check(runtime) -> int:
    from counter.doctor import credential_checks

    checks = credential_checks(runtime)
    for check in checks:
        echo(f"{check.name:<24} [{check.label:>4}]  {check.detail}")
    return EXIT_FAILED if any(c.required and not c.ok for c in checks) else EXIT_OK


def _fixtures(runtime, args) -> int:
    if args.fixtures_command == "serve":
        from fixtures.serve import serve

        return serve(runtime, host=args.host, first_port=args.port, token=args.token)
    from pathlib import Path

    from fixtures.town.generator import TownSpec, persons_target_households
    from fixtures.town.writer import write_town

    households = args.households or (persons_target_households(args.persons) if args.persons else None)
    spec = TownSpec()
    overrides = {}
    if households:
        overrides["households"] = households
    if args.seed is not None:
        overrides["seed"] = args.seed
    if overrides:
        from dataclasses import replace

        spec = replace(spec, **overrides)
    from counter.files import NotRegularFile

    try:
        counts = write_town(Path(args.out), spec)
    except NotRegularFile as exc:
        where = "the town to " if Path(exc.filename) == Path(args.out) else ""
        echo(f"counter: cannot write {where}{exc.filename}: {exc.strerror}", err=True)
        return EXIT_FAILED
    except OSError as exc:
        echo(f"counter: cannot write the town to {args.out}: {exc.strerror or type(exc).__name__}", err=True)
        return EXIT_FAILED
    echo(", ".join(f"{name}: {count}" for name, count in counts.items()))
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
