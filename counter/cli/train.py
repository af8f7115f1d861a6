"""`counter train` and `counter replay`: the trainers' commands (French messages).

Wired into counter.cli.parser by ``register(subparsers)``; imports stay lazy.
"""

from __future__ import annotations

import argparse
import os
import shutil
from dataclasses import replace
from pathlib import Path

from counter.runtime import TRAINING_DB
from counter.terminal import echo

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
REPLAY_BASE = "training/replay-base.sqlite3"
REPLAY_AGENT = "formation"
KINDS_FR = {"symlink": "un lien symbolique", "fifo": "un tube nommé (FIFO)", "device": "un périphérique",
            "directory": "un dossier", "socket": "une socket", "file": "un fichier"}


def register(subparsers: argparse._SubParsersAction) -> None:
    train = subparsers.add_parser(
        "train", help="training mode under a scenario (an agency down, a full crèche…); --list, --reset")
    what = train.add_mutually_exclusive_group(required=True)
    what.add_argument("scenario", nargs="?", metavar="SCENARIO", help="a scenario's name (see --list) or file")
    what.add_argument("--list", action="store_true", help="list the scenarios")
    what.add_argument("--reset", action="store_true",
                      help="recreate the training database: back to the pristine fictional town")

    replay = subparsers.add_parser(
        "replay", help="run the counter headless from a script; one SVG screenshot per named step")
    replay.add_argument("script", metavar="SCRIPT", help="a replay script (TOML, or YAML)")
    replay.add_argument("--out", metavar="DIR", default=None, help="where the screenshots go (default: none)")
    replay.add_argument("--size", metavar="WxH", default=None, help="terminal size (default: the script's, else 80x24)")


def _training_only(runtime, command: str) -> bool:
    if runtime.training:
        return True
    echo(f"counter {command} : réservé au mode formation (la configuration {runtime.config_path} "
         "est celle d'un guichet réel).", err=True)
    return False


BUS_DIR = "training/bus"  # the training buses' replicas (fixtures.bus), removed by --reset
BUS_PROBE_SECONDS = 5  # a training bus's link is a switch: probed again at once when flipped


def under_scenario(runtime, scenario):
    """The training runtime living the scenario: its day, its agencies, its title. A
    scenario on the roaming bus (``[bus]``) makes this counter the bus: its database is
    a replica under the data directory (prepared at the service's start, fixtures.bus)
    and its town hall's database ("central") is the training database it had."""
    from counter.clock import FixedClock

    lived = replace(runtime, scenario=scenario, clock=FixedClock(scenario.day))
    if scenario.bus is None:
        return lived
    if not runtime.training or runtime.mobile:  # [mobile] is a real bus's: never mixed with training
        raise ValueError("a bus scenario runs in training mode without [mobile]")
    replica = runtime.data_dir / BUS_DIR / f"{scenario.name}-{scenario.bus.name}.sqlite3"
    return replace(lived, bus=scenario.bus.name, central_url=runtime.database_url,
                   database_url=f"sqlite:///{replica}", link_probe_seconds=BUS_PROBE_SECONDS)


def train(runtime, args: argparse.Namespace) -> int:
    from fixtures.scenarios import ScenarioError, available, load

    if args.list:
        for name in available():
            try:
                echo(f"{name:<38} {load(name).title}")
            except ScenarioError as exc:
                echo(f"{name:<38} (invalide : {exc})")
        echo("\nLancer un scénario : counter train NOM (F1 dans le guichet : sa description).")
        return EXIT_OK
    if not _training_only(runtime, "train"):
        return EXIT_USAGE
    if args.reset:
        return reset(runtime)
    try:
        load(args.scenario)  # said here, in one line, before a service is started for it
    except ScenarioError as exc:
        echo(f"counter train : {exc}", err=True, limit=2000)
        return exc.exit_status
    from counter.cli.tui import run_terminal

    # A private service lives the scenario (its day, its agencies); the terminal is its client.
    return run_terminal(args, runtime.agent_login, scenario=args.scenario)


def reset(runtime) -> int:
    """Delete the training database and build it again from the fixtures."""
    from sqlalchemy import text

    from counter.store.engine import StoreError
    from fixtures.training import prepare_training_store

    database = runtime.data_dir / TRAINING_DB
    echo(f"Remise à zéro de la base de formation : {database}")
    from counter.client.locate import stop_private_services

    # A private service holds the old database open: it stops (its terminals say
    # so and start a new one, on the new town).
    if stop_private_services(runtime.data_dir):
        echo("Service de formation de ce poste arrêté : les guichets ouverts se reconnectent à la ville neuve.")
    base = runtime.data_dir / REPLAY_BASE
    # The training buses' replicas were prepared from the old town: they go with it.
    buses = sorted((runtime.data_dir / BUS_DIR).glob("*.sqlite3*")) if (runtime.data_dir / BUS_DIR).is_dir() else []
    for path in (*(database.with_name(database.name + s) for s in ("", "-wal", "-shm", "-journal")),
                 base, *buses):
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            echo(f"counter train --reset : impossible de supprimer {path} ({exc.strerror}).", err=True)
            return EXIT_FAILED
    try:
        store = prepare_training_store(runtime.database_url)
    except (StoreError, OSError) as exc:
        echo(f"counter train --reset : la base n'a pas pu être recréée ({exc}).", err=True)
        return EXIT_FAILED
    try:
        with store.engine.connect() as connection:
            persons = connection.execute(text("SELECT count(*) FROM person")).scalar_one()
            households = connection.execute(text("SELECT count(*) FROM household")).scalar_one()
    finally:
        store.dispose()
    def number(n: int) -> str:
        return f"{n:,}".replace(",", "\u202f")

    echo(f"Ville fictive recréée : {number(persons)} habitants, {number(households)} foyers ; "
         "aucune visite ni inscription.")
    return EXIT_OK


def replay_base(runtime) -> Path:
    """The pristine town replays start from, built once beside the training database."""
    base = runtime.data_dir / REPLAY_BASE
    if base.exists():
        return base
    from fixtures.training import prepare_training_store

    echo("Première utilisation : construction de la ville fictive pour les rejeux (une minute environ)…")
    from counter.files import private_dir

    private_dir(base.parent)
    building = base.with_name(f"{base.name}.{os.getpid()}.building")
    store = prepare_training_store(f"sqlite:///{building}")
    with store.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    store.dispose()
    for suffix in ("-wal", "-shm"):
        building.with_name(building.name + suffix).unlink(missing_ok=True)
    os.replace(building, base)
    return base


def _give_replay_agent_a_pin(url: str) -> None:
    """The replay agent has its PIN already (on the copy only): a script shows the
    counter's screens, not the first-use PIN setup; a script may still lock (ctrl+l)
    and unlock with it (fixtures.agents.TEST_PIN)."""
    from fixtures.agents import preset_pin
    from fixtures.training import prepare_training_store

    store = prepare_training_store(url)  # upgrades a base built by an older version
    try:
        preset_pin(store, REPLAY_AGENT)
    finally:
        store.dispose()


def replay(runtime, args: argparse.Namespace) -> int:
    import asyncio

    from fixtures.replay import ReplayError, load_script, parse_size, run
    from fixtures.scenarios import ScenarioError, load

    if not _training_only(runtime, "replay"):
        return EXIT_USAGE
    scenario = None
    try:
        script = load_script(Path(args.script))
        size = parse_size(args.size or script.size or "80x24")
        if script.scenario:
            scenario = load(script.scenario)
    except (ReplayError, ScenarioError) as exc:
        echo(f"counter replay : {exc}", err=True, limit=2000)
        return exc.exit_status
    except ValueError as exc:  # --size
        echo(f"counter replay : --size {exc}", err=True)
        return EXIT_USAGE
    import tempfile

    from counter.app_factory import build_app
    from counter.logs import setup_logging

    setup_logging(runtime.log_dir)
    out = Path(args.out) if args.out else None
    if out is not None:
        from counter.files import NotRegularFile, check_output, check_output_dir
        from fixtures.replay import screenshot_paths

        try:
            check_output_dir(out)
            for path in screenshot_paths(script, out):
                check_output(path)
        except NotRegularFile as exc:
            expected = "un dossier" if Path(exc.filename) == out else "un fichier ordinaire"
            echo(f"counter replay : {exc.filename} est {KINDS_FR[exc.what]}, pas {expected} : "
                 "rien n'a été écrit.", err=True)
            return EXIT_FAILED
    try:
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
        base = replay_base(runtime)
        # A replay plays on a copy of the pristine town: the trainees' database is never
        # touched, and the same script gives the same screens every time.
        with tempfile.TemporaryDirectory(prefix="counter-replay-") as work:
            copy = Path(work) / TRAINING_DB
            copy.parent.mkdir(parents=True)
            shutil.copyfile(base, copy)
            _give_replay_agent_a_pin(f"sqlite:///{copy}")
            # The same agent on every screenshot, whoever runs the replay.
            played = replace(runtime, data_dir=Path(work), database_url=f"sqlite:///{copy}",
                             agent_login=REPLAY_AGENT)
            if scenario is not None:  # after the copy is chosen: a bus's town hall is the copy
                played = under_scenario(played, scenario)
            outcome = asyncio.run(run(build_app(played), script, size, out))
    except OSError as exc:
        echo(f"counter replay : impossible d'écrire {exc.filename or out} ({exc.strerror or exc}).", err=True)
        return EXIT_FAILED
    except Exception:  # noqa: BLE001 — the app failed: a sentence, the details in the log
        import logging

        logging.getLogger("counter").exception("replay %s stopped on an error", args.script)
        echo(f"counter replay : le guichet s'est arrêté sur une erreur pendant le rejeu "
             f"(détails dans {runtime.log_dir / 'counter.log'}).", err=True)
        return EXIT_FAILED
    name = script.title or Path(args.script).stem
    if not outcome.ok:
        echo(f"counter replay : {name} — {outcome.message}", err=True, limit=2000)
        if outcome.screen:
            echo("L'écran à ce moment :\n" + outcome.screen, err=True, limit=400)
        return EXIT_FAILED
    shots = f", {len(outcome.screenshots)} capture(s) dans {out}" if out is not None else ""
    echo(f"Rejeu réussi : {name} — {outcome.steps_run} étape(s){shots}.")
    for path in outcome.screenshots:
        echo(f"  {path}")
    return EXIT_OK
