"""The supervisors' commands through the counter service (no configuration file given).

`counter agents|audit|purge|export|outbox|duplicates|stats …` without ``--config`` talk to the
service found by counter.client.locate, as the account running them: the
service reads that account from the kernel and checks its role, as the direct
commands check it on the database. Output, messages and exit statuses are those
of the direct commands; files (``--out``/``--output``) are written by this
process, in the administrator's name.
"""

from __future__ import annotations

import argparse

from counter.terminal import echo

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
# A refusal of the role (audited by the service), or of the account itself: exit 2, as the direct commands.
REFUSALS = ("forbidden", "unknown_agent")


def run(args: argparse.Namespace) -> int:
    from counter.client.api import CounterClient
    from counter.client.errors import Refused, ServiceUnavailable
    from counter.client.locate import find_service, why_unreachable

    try:
        path = find_service(connect=args.connect)
    except ServiceUnavailable as exc:  # a private service that could not start
        echo(f"counter: {exc.english}", err=True)
        return EXIT_FAILED
    client = CounterClient.at(path)
    try:
        return _command(client, args)
    except Refused as exc:
        echo(f"counter: {exc.english()}", err=True)
        return EXIT_USAGE if exc.code in REFUSALS else EXIT_FAILED
    except ServiceUnavailable as exc:
        said = why_unreachable(path) if exc.english == ServiceUnavailable().english else exc.english
        echo(f"counter: {said}", err=True)
        return EXIT_FAILED
    finally:
        client.close()


def _command(client, args: argparse.Namespace) -> int:
    if args.command == "agents":
        from counter.cli.agents import agents_command

        return agents_command(args, client)
    if args.command == "outbox":
        from counter.cli import outbox

        return outbox.remote(client, args)
    if args.command == "duplicates":
        from counter.cli import duplicates

        return duplicates.remote(client, args)
    if args.command == "export":
        from counter.cli import export

        return export.remote(client, args)
    if args.command == "stats":
        from counter.cli import stats

        return stats.remote(client, args)
    from counter.cli import trust

    return trust.remote(client, args)
