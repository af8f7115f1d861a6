"""The statistics over a year of visits (issue 16): fixtures.activity.YEAR (~100,000
visits, their tickets, registrations and ~300,000 agency answers) in a SQLite file;
the supervisor's figures for the whole year computed as the service does
(counter.services.statistics.compute), sent over the codec as the screen receives
them, and what the screen shows when it opens (the totals and the first chart, drawn by
plotext at 80x24) — "computed and rendered"; the eleven charts' drawing apart.

"Today" is the year's last day: it is read afresh every time, as a supervisor's
period holds today. Three figures:
- first time: no day kept yet (once after the upgrade to migration 0011; the service
  keeps the last year's days in the background when it starts);
- after a restart: the days over kept in the database, no sum remembered by the
  process — what a supervisor waits for on the first opening of the day;
- again: the sums remembered (valid while the kept rows are the same).

Run in a process of its own (``measure_apart``). Reference, same run: the bare
driver reading the same rows (visits and agency answers of the year) with no
arithmetic — what any computation reading them pays.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

RUNS = 7
TARGET_MS = 300.0


def _render(stats, every: bool = False) -> int:
    """What the screen shows when it opens — its totals and first chart, drawn by plotext
    at 50 columns, one row a bar — or ``every`` chart."""
    import plotext as plt

    from counter.domain.statistics import charts, summary_lines

    drawn = len("\n".join(summary_lines(stats)))
    for bars in charts(stats)[: None if every else 1]:
        if not bars.labels:
            continue
        plt.clear_figure()
        plt.plotsize(50, max(len(bars.labels), 2))
        rows = list(range(len(bars.labels), 0, -1))
        plt.bar(rows, list(bars.values), orientation="horizontal", width=0.8, marker="█")
        plt.yticks(rows, [f"{label} {text}" for label, text in zip(bars.labels, bars.texts, strict=True)])
        plt.ylim(1, max(len(bars.labels), 2))
        plt.xticks([])
        drawn += len(plt.build())
    return drawn


def _every_chart_ms(stats) -> float:
    started = time.perf_counter()
    _render(stats, every=True)
    return (time.perf_counter() - started) * 1000


def measure() -> dict:
    import sqlite3

    from counter.domain.front_desk import FrontDesk
    from counter.domain.statistics import Statistics, StatsQuery
    from counter.services.audit import Actor
    from counter.services.statistics import compute, forget_remembered
    from counter.store import migrate
    from counter.store.engine import Store
    from counter.wire import codec
    from fixtures.activity import YEAR, load

    with tempfile.TemporaryDirectory(prefix="bench-stats") as folder:
        path = Path(folder) / "year.sqlite3"
        store = Store(f"sqlite:///{path}")
        migrate.upgrade(store)
        began = time.perf_counter()
        loaded = load(store, YEAR)
        load_s = time.perf_counter() - began
        query = StatsQuery(YEAR.since, YEAR.since + timedelta(days=YEAR.days - 1))
        actor = Actor("chef", "supervisor")

        received = None
        today = query.until

        def once() -> float:
            nonlocal received
            started = time.perf_counter()
            stats = compute(store, actor, query, FrontDesk(), today=today)
            received = codec.decode(codec.encode(stats), Statistics)
            _render(received)
            return (time.perf_counter() - started) * 1000

        def after_restart() -> float:
            forget_remembered()
            return once()

        forget_remembered()
        cold = once()
        restart = sorted(after_restart() for _ in range(RUNS))
        warm = sorted(once() for _ in range(RUNS))

        def bare() -> float:
            started = time.perf_counter()
            connection = sqlite3.connect(path)
            try:
                connection.execute("SELECT created_at, arrived_at, ended_at, reasons, outcome FROM visit "
                                   "WHERE ended_at IS NOT NULL").fetchall()
                connection.execute("SELECT source, status, elapsed_ms, at, cached FROM agency_call").fetchall()
            finally:
                connection.close()
            return (time.perf_counter() - started) * 1000

        bare_runs = sorted(bare() for _ in range(RUNS))
        every_chart = statistics.median(_every_chart_ms(received) for _ in range(3))
        store.dispose()
    return {"visits": loaded["visits"], "agency_calls": loaded["agency_calls"],
            "registrations": loaded["registrations"], "load_s": round(load_s, 1),
            "cold_ms": round(cold, 1), "restart_median_ms": round(statistics.median(restart), 1),
            "restart_max_ms": round(restart[-1], 1), "warm_median_ms": round(statistics.median(warm), 1),
            "warm_max_ms": round(warm[-1], 1), "every_chart_ms": round(every_chart, 1),
            "bare_rows_median_ms": round(statistics.median(bare_runs), 1), "target_ms": TARGET_MS}


def measure_apart() -> dict:
    """``measure()`` in a process of its own, as the service computes the figures in its
    own: in the benchmarks' process, the heap the earlier sections left (a 1M-person
    town's caches) made one run of seven wait 1.5 s for a full garbage collection."""
    import json
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "bench.statistics"], check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    import json

    print(json.dumps(measure()))
