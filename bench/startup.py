"""Cold start of a terminal to the search screen, against a minimal Textual app, in a pty.

The terminal is a client: its training service (private, under the data
directory) is started by the warm-up run and reused by every timed run, as a
counter server's service runs before the agents' terminals start.
"""

from __future__ import annotations

import os
import statistics
import sys
from pathlib import Path

from bench.pty_runner import PtySession

PLACEHOLDER = "Nom, prénom"
CACHE = Path(__file__).with_name(".cache")


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COUNTER_", "TEXTUAL_"))}
    env.update(COUNTER_HOME=str(home), TERM="xterm-256color", COLORTERM="truecolor", LANG="C.UTF-8")
    return env


def _prepare_home() -> Path:
    """A training data directory whose database already exists (not a first run)."""
    from counter.runtime import os_login

    from fixtures.agents import preset_pin
    from fixtures.training import prepare_training_store

    home = CACHE / "home"
    store = prepare_training_store(f"sqlite:///{home / 'training' / 'counter.sqlite3'}")
    preset_pin(store, os_login())  # not a first use: no PIN setup before the search
    store.dispose()
    return home


def _once(argv: list[str], env: dict[str, str], query: str | None = None, expect: str | None = None) -> tuple[float, float | None]:
    session = PtySession(argv, env)
    try:
        usable = session.read_until(PLACEHOLDER)
        answered = None
        if query:
            session.send(query.encode())
            answered = session.read_until(expect)
        return usable, answered
    finally:
        session.close()


def stop_services(home: Path) -> None:
    from counter.client.locate import stop_private_services

    stop_private_services(home)


def measure(runs: int = 7) -> dict:
    home = _prepare_home()
    env = _env(home)
    try:
        return _measure(env, runs)
    finally:
        stop_services(home)


def _measure(env: dict[str, str], runs: int = 7) -> dict:
    ours_argv = [sys.executable, "-m", "counter"]
    minimal_argv = [sys.executable, "-m", "bench.minimal_app"]
    _once(ours_argv, env)  # start the service; warm the OS file cache for both before timing
    _once(minimal_argv, env)
    ours, minimal, first_results = [], [], []
    for _ in range(runs):  # interleaved, so that machine noise hits both alike
        usable, answered = _once(ours_argv, env, query="roux jeanne", expect="--/06/1987")
        ours.append(usable)
        first_results.append(answered)
        minimal.append(_once(minimal_argv, env)[0])
    ours_median, minimal_median = statistics.median(ours), statistics.median(minimal)
    return {
        "runs": runs,
        "counter_usable_s": ours_median,
        "minimal_app_usable_s": minimal_median,
        "ratio": ours_median / minimal_median,
        "ratios": [o / m for o, m in zip(ours, minimal)],
        "counter_usable_all_s": ours,
        "minimal_app_usable_all_s": minimal,
        "target_ratio": 1.25,
        "counter_first_results_s": statistics.median(first_results),
    }
