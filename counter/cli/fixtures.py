"""`counter fixtures generate|serve`: the fictional town as CSV files, the emulated
agencies over HTTP on loopback (training, tests, benchmarks)."""

from __future__ import annotations

import argparse

from counter.cli.common import EXIT_FAILED, EXIT_OK, at_most, port
from counter.terminal import echo

# `fixtures generate`: far above the benchmarks' million inhabitants, far below what fills a disk.
MAX_HOUSEHOLDS = 2_000_000
MAX_PERSONS = 5_000_000


def register(commands: argparse._SubParsersAction) -> None:
    fixtures = commands.add_parser("fixtures", help="the fictional town (training, tests, benchmarks)")
    fixture_commands = fixtures.add_subparsers(dest="fixtures_command", metavar="ACTION", required=True)
    generate = fixture_commands.add_parser("generate", help="write a generated town as CSV files")
    generate.add_argument("--out", required=True, metavar="DIR")
    size = generate.add_mutually_exclusive_group()
    size.add_argument("--households", type=at_most(MAX_HOUSEHOLDS), metavar="N")
    size.add_argument("--persons", type=at_most(MAX_PERSONS), metavar="N", help="about N inhabitants")
    generate.add_argument("--seed", type=int, default=None)
    serve = fixture_commands.add_parser(
        "serve", help="serve the emulated agencies over HTTP on loopback (one port per backend)")
    serve.add_argument("--port", type=port, default=8700, help="first port (default 8700)")
    serve.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1: loopback only)")
    serve.add_argument("--token", default=None,
                       help="require exactly this credential (default: accept any well-formed one)")


def run(runtime, args) -> int:
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
