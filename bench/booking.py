"""8 counter processes × 1,000 booking attempts on limited places.

Reference in the same run: the same attempts from one process alone (no
contention). Reported: overbookings, lost registrations, errors an agent
would have seen, and confirm time p50/p95.
"""

from __future__ import annotations

import multiprocessing
import statistics
import tempfile
from pathlib import Path

from fixtures.booking import book_in_pool, prepare, tally

PROCESSES = 8
ATTEMPTS = 1000
PLACES = 3000


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[int(round(0.95 * (len(ordered) - 1)))] * 1000


def _run(url: str, processes: int, attempts: int, places: int) -> dict:
    setup = prepare(url, places, processes * attempts)
    chunks = [list(setup.person_ids[i::processes]) for i in range(processes)]
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        results = pool.map(book_in_pool, [(url, setup.school_id, chunk, f"agent{i}") for i, chunk in enumerate(chunks)])
    outcomes = [o for worker in results for o in worker]
    times = [t for _, t in outcomes]
    counts = tally(url, setup.school_id)
    agent_errors = sum(1 for state, _ in outcomes if state.startswith(("error", "refused")))
    return {
        "processes": processes, "attempts": len(outcomes), "places": places,
        "overbookings": max(0, counts["registered"] - counts["capacity"]) + max(0, counts["booked"] - counts["capacity"]),
        "lost": len(outcomes) - agent_errors - counts["registered"] - counts["waiting"],
        "agent_errors": agent_errors,
        "registered": counts["registered"], "waiting": counts["waiting"],
        "p50_ms": statistics.median(times) * 1000, "p95_ms": _p95(times),
    }


def measure(postgres_url: str | None = None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        if postgres_url:
            import uuid

            import sqlalchemy as sa
            from sqlalchemy.engine import make_url

            base = make_url(postgres_url).set(drivername="postgresql+psycopg")
            urls = []
            admin = sa.create_engine(base)
            for _ in range(2):
                schema = f"counter_bench_booking_{uuid.uuid4().hex[:8]}"
                with admin.begin() as c:
                    c.exec_driver_sql(f"CREATE SCHEMA {schema}")
                urls.append((schema, base.update_query_dict({"options": f"-csearch_path={schema}"})
                             .render_as_string(hide_password=False)))
            try:
                alone = _run(urls[0][1], 1, ATTEMPTS, PLACES)
                crowd = _run(urls[1][1], PROCESSES, ATTEMPTS, PLACES)
            finally:
                with admin.begin() as c:
                    for schema, _ in urls:
                        c.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
                admin.dispose()
        else:
            alone = _run(f"sqlite:///{Path(tmp) / 'alone.sqlite3'}", 1, ATTEMPTS, PLACES)
            crowd = _run(f"sqlite:///{Path(tmp) / 'crowd.sqlite3'}", PROCESSES, ATTEMPTS, PLACES)
    return {"alone": alone, "crowd": crowd}
