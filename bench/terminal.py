"""What crosses the wire to a thin client: bytes and latency through a pty, and
peak memory, for the counter's search screen against the minimal Textual app
doing the same (bench/minimal_app.py), in the same run.

One session of each app, interleaved, per run:
1. start in an 80x24 pty; bytes until the screen is usable and settled
   (silent and idle — no CPU used — for ``SETTLE`` s) — the start-up bytes;
2. idle for ``IDLE`` seconds — bytes written with nobody typing;
3. type ``QUERY`` one key at a time, each key followed by the app's whole
   answer (the echo, then the refreshed results; silent for ``QUIET`` s) —
   bytes per keystroke and the time from the key to the first byte;
4. ↓ into the results, then ``MOVES`` more ↓ — bytes per cursor move (the
   first ↓, which moves the focus, counted apart) and time to first byte;
5. the peak resident memory (VmHWM) of the app's process.

The counter's terminal is a client: its service (the store, the agencies,
emulated in training) runs in another process, started before the timed
sessions. A third session measures the terminal on a production service
(bench/production_service.py): locked at start, the PIN typed, then the same.
"""

from __future__ import annotations

import statistics
import sys

from bench.pty_runner import PtySession
from bench.startup import PLACEHOLDER, _env, _prepare_home

QUERY = "lefebvre alexis"
MOVES = 20
SETTLE = 1.0
IDLE = 3.0
QUIET = 0.3
DOWN = b"\x1b[B"
TARGETS = {"keystroke_ratio": 1.0, "cursor_move_bytes": 1024, "rss_ratio": 1.5}


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def _session(argv: list[str], env: dict[str, str], pin: str | None = None) -> dict:
    session = PtySession(argv, env)
    try:
        if pin is not None:  # production starts locked
            session.read_until("Code personnel")
            session.send(pin.encode() + b"\r")
        session.read_until(PLACEHOLDER)
        session.settle(quiet=SETTLE)
        startup_bytes = session.mark()
        idle_bytes = session.drain(quiet=IDLE, timeout=IDLE)
        keys, key_latency = [], []
        for char in QUERY:
            before = session.mark()
            key_latency.append(session.send_timed(char.encode()))
            session.settle(quiet=QUIET)
            keys.append(session.mark() - before)
        moves, move_latency = [], []
        for _ in range(MOVES + 1):
            before = session.mark()
            move_latency.append(session.send_timed(DOWN))
            session.settle(quiet=QUIET)
            moves.append(session.mark() - before)
        return {
            "startup_bytes": startup_bytes,
            "idle_bytes": idle_bytes,
            "keystroke_bytes": keys,
            "keystroke_latency_s": key_latency,
            "focus_move_bytes": moves[0],
            "cursor_move_bytes": moves[1:],
            "cursor_latency_s": move_latency[1:],
            "peak_rss_kib": session.peak_rss_kib(),
        }
    finally:
        session.close()


def _summary(sessions: list[dict]) -> dict:
    keys = [b for s in sessions for b in s["keystroke_bytes"]]
    moves = [b for s in sessions for b in s["cursor_move_bytes"]]
    key_latency = [t for s in sessions for t in s["keystroke_latency_s"]]
    move_latency = [t for s in sessions for t in s["cursor_latency_s"]]
    return {
        "startup_bytes": statistics.median(s["startup_bytes"] for s in sessions),
        "idle_bytes": statistics.median(s["idle_bytes"] for s in sessions),
        "keystroke_bytes_mean": statistics.mean(keys),
        "keystroke_bytes_max": max(keys),
        "keystroke_first_byte_p50_ms": statistics.median(key_latency) * 1000,
        "keystroke_first_byte_p95_ms": _p95(key_latency) * 1000,
        "focus_move_bytes": statistics.median(s["focus_move_bytes"] for s in sessions),
        "cursor_move_bytes_mean": statistics.mean(moves),
        "cursor_move_bytes_median": statistics.median(moves),
        "cursor_move_bytes_max": max(moves),
        "cursor_first_byte_p50_ms": statistics.median(move_latency) * 1000,
        "cursor_first_byte_p95_ms": _p95(move_latency) * 1000,
        "peak_rss_mib": statistics.median(s["peak_rss_kib"] for s in sessions) / 1024,
    }


# The same session of the counter under other terminals (one session each):
# fewer colours write shorter escape sequences.
COLOUR_VARIANTS = {
    "24-bit (COLORTERM=truecolor)": {},
    "256 colours (TERM=xterm-256color)": {"COLORTERM": None},
    "16 colours, console theme (TERM=linux)": {"COLORTERM": None, "TERM": "linux"},
    "NO_COLOR=1": {"NO_COLOR": "1"},
}


def colour_variants(env: dict[str, str]) -> dict:
    figures = {}
    for name, changes in COLOUR_VARIANTS.items():
        variant = dict(env)
        for key, value in changes.items():
            if value is None:
                variant.pop(key, None)
            else:
                variant[key] = value
        session = _session([sys.executable, "-m", "counter"], variant)
        figures[name] = {
            "startup_bytes": session["startup_bytes"],
            "keystroke_bytes_mean": statistics.mean(session["keystroke_bytes"]),
            "cursor_move_bytes_mean": statistics.mean(session["cursor_move_bytes"]),
        }
    return figures


def measure(runs: int = 3) -> dict:
    import subprocess
    import tempfile
    from pathlib import Path

    from bench import production_service
    from bench.startup import stop_services
    from fixtures.agents import TEST_PIN

    home = _prepare_home()
    env = _env(home)
    folder = Path(tempfile.mkdtemp(prefix="counter-bench-"))
    database = production_service.prepare(home / "training" / "counter.sqlite3", folder)
    socket_path = folder / "counter.sock"
    site = subprocess.Popen([sys.executable, "-m", "bench.production_service", str(database), str(socket_path)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ours_argv = [sys.executable, "-m", "counter"]
    minimal_argv = [sys.executable, "-m", "bench.minimal_app"]
    production_argv = [sys.executable, "-m", "counter", "--connect", str(socket_path)]
    ours, minimal, production = [], [], []
    try:
        _session(ours_argv, env)  # starts the training service; warms the file cache
        for _ in range(runs):  # interleaved: machine noise hits all alike
            ours.append(_session(ours_argv, env))
            minimal.append(_session(minimal_argv, env))
            production.append(_session(production_argv, env, pin=TEST_PIN))
        by_colour = colour_variants(env)
    finally:
        site.terminate()
        site.wait(timeout=30)
        stop_services(home)
    counter, reference = _summary(ours), _summary(minimal)
    in_production = statistics.median(s["peak_rss_kib"] for s in production) / 1024
    return {
        "runs": runs,
        "query": QUERY,
        "moves": MOVES,
        "counter": counter,
        "minimal_app": reference,
        "ratios": {
            "startup_bytes": counter["startup_bytes"] / reference["startup_bytes"],
            "keystroke_bytes": counter["keystroke_bytes_mean"] / reference["keystroke_bytes_mean"],
            "cursor_move_bytes": counter["cursor_move_bytes_mean"] / reference["cursor_move_bytes_mean"],
            "keystroke_first_byte_p95": counter["keystroke_first_byte_p95_ms"] / reference["keystroke_first_byte_p95_ms"],
            "cursor_first_byte_p95": counter["cursor_first_byte_p95_ms"] / reference["cursor_first_byte_p95_ms"],
            "peak_rss": counter["peak_rss_mib"] / reference["peak_rss_mib"],
            "peak_rss_production": in_production / reference["peak_rss_mib"],
        },
        "counter_production_peak_rss_mib": in_production,
        "targets": TARGETS,
        "counter_by_colour_system": by_colour,
        "sessions": {"counter": ours, "minimal_app": minimal, "counter_production": production},
    }


if __name__ == "__main__":
    import json

    print(json.dumps({k: v for k, v in measure(1).items() if k != "sessions"}, indent=2))
