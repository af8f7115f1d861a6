"""`counter credentials set|check`: the agencies' secrets, kept in the system keyring
(administrators, English)."""

from __future__ import annotations

import argparse
import sys

from counter.cli import common
from counter.cli.common import EXIT_FAILED, EXIT_OK
from counter.terminal import echo

MAX_SECRET = 4096  # an agency's token or password; read from a pipe, no more than this


def register(commands: argparse._SubParsersAction) -> None:
    credentials = commands.add_parser("credentials", help="agency credentials, kept in the system keyring")
    credential_commands = credentials.add_subparsers(dest="credentials_command", metavar="ACTION", required=True)
    set_credential = credential_commands.add_parser(
        "set", help="store the secret of backend NAME (prompted; read from stdin when it is not a terminal)")
    set_credential.add_argument("name")
    credential_commands.add_parser("check", help="for each backend: is a secret stored, does the agency accept it")


def run(runtime, args) -> int:
    from counter.credentials import CredentialError, keyring_problem, set_secret

    if args.credentials_command == "check":
        return _check(runtime)
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

    store = common.open_current_store(runtime)
    if store is None:
        echo("counter: warning: the change could not be written to the audit trail", err=True)
        return
    try:
        actor = audit.actor_for(store, runtime.agent_login, runtime.training)
        audit.record(store, actor, "credential.set", "backend", name)
    finally:
        store.dispose()


def _backend_names(runtime) -> list[str]:
    """The names a secret may be stored under: the backends, and on the roaming bus the
    town's database password (``mobile.central``)."""
    from counter.config import TRAINING_BACKENDS

    names = list(runtime.backends if runtime.backends is not None else TRAINING_BACKENDS)
    if runtime.mobile:
        from counter.credentials import MOBILE_CENTRAL

        names.append(MOBILE_CENTRAL)
    return names


def _check(runtime) -> int:
    from counter.doctor import credential_checks

    checks = credential_checks(runtime)
    for check in checks:
        echo(f"{check.name:<24} [{check.label:>4}]  {check.detail}")
    return EXIT_FAILED if any(c.required and not c.ok for c in checks) else EXIT_OK
