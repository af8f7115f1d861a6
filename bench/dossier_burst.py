"""A burst of 30 dossiers opened at once through the counter service.

Thirty terminals (threads, each its own connection to the service's socket)
open thirty dossiers of the fictional town at the same moment; the service asks
the emulated agencies in-process. The API Particulier emulator counts what it
receives: the most requests in any second (the API allows 20 per token) and
the time until all thirty dossiers are complete.

Reference in the same run: the same burst with the service's rate limiter off
and an agency that sets no limit — what would reach API Particulier without
the limiter, and how fast the dossiers would be complete if it did not refuse.
"""

from __future__ import annotations

import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

DOSSIERS = 30
LIMIT_PER_SECOND = 20  # API Particulier's, per token
TODAY = date(2026, 11, 25)
PURPOSE = "Instruction d'une demande"
ANSWERED = ("ok", "not_found", "not_applicable")


def _town(directory: Path) -> str:
    from fixtures.training import prepare_training_store

    url = f"sqlite:///{directory / 'town.sqlite3'}"
    prepare_training_store(url).dispose()
    return url


def _people(url: str) -> list[int]:
    """Adults of thirty households: no two dossiers ask the agencies the same question."""
    from sqlalchemy import text

    from counter.store.engine import Store

    store = Store(url)
    try:
        with store.engine.connect() as c:
            return [row[0] for row in c.execute(text(
                "SELECT MIN(person_id) FROM household_member WHERE role = 'parent' "
                "GROUP BY household_id ORDER BY household_id LIMIT :n"), {"n": DOSSIERS})]
    finally:
        store.dispose()


def _backends(traffic, limited: bool):
    from counter import registry
    from counter.backend import BackendContext
    from counter.config import TRAINING_BACKENDS
    from fixtures.emulators.plugin import emulated_transport

    backends = []
    for name, raw in TRAINING_BACKENDS.items():
        plugin = registry.load(raw["kind"])
        counted = traffic if raw["kind"] == "api_particulier" else None
        transport = emulated_transport(raw["kind"], traffic=counted, rate_limited=limited)
        backend = plugin.create(BackendContext(name, plugin.Settings.model_validate(dict(raw)), None, transport,
                                               training=True))
        if not limited:
            backend.limiter = None
        backends.append(backend)
    return backends


def _burst(url: str, people: list[int], socket_dir: Path, limited: bool) -> dict:
    from counter.client.api import CounterClient
    from counter.clock import FixedClock
    from counter.runtime import Runtime
    from counter.service.server import Service, ServiceThread
    from counter.store.engine import Store
    from fixtures.emulators.traffic import Traffic

    traffic = Traffic()
    runtime = Runtime(mode="training", data_dir=socket_dir, database_url=url, clock=FixedClock(TODAY),
                      agent_login="formation")
    socket_path = socket_dir / ("limited.sock" if limited else "free.sock")
    service = ServiceThread(Service(runtime, socket_path, identify=lambda uid: "formation", store=Store(url),
                                    backends=_backends(traffic, limited))).start()
    terminals = [CounterClient.at(socket_path) for _ in people]
    for terminal in terminals:
        terminal.dossier_sections()  # connected, the agencies ready: the burst measures the dossiers only
    at_once = threading.Barrier(len(people))
    started: list[float] = []

    def open_dossier(terminal, person):
        at_once.wait()
        started.append(time.perf_counter())
        updates = list(terminal.consult(person, PURPOSE))
        return time.perf_counter(), [u.answer.provenance.status for u in updates[1:]]

    try:
        with ThreadPoolExecutor(len(people)) as pool:
            done = list(pool.map(open_dossier, terminals, people))
    finally:
        for terminal in terminals:
            terminal.close()
        service.stop()
    statuses = [status for _, dossier in done for status in dossier]
    return {
        "api_particulier_requests": len(traffic.arrivals),
        "max_requests_in_a_second": traffic.busiest(1.0),
        "all_complete_ms": (max(end for end, _ in done) - min(started)) * 1000,
        "sections": len(statuses),
        "sections_not_answered": sum(1 for s in statuses if s not in ANSWERED),
    }


def measure() -> dict:
    with tempfile.TemporaryDirectory(prefix="burst") as directory:  # short: a socket path is 107 bytes at most
        directory = Path(directory)
        url = _town(directory)
        people = _people(url)
        ours = _burst(url, people, directory, limited=True)
        reference = _burst(url, people, directory, limited=False)
    return {"dossiers": len(people), "target_per_second": LIMIT_PER_SECOND, "limited": ours,
            "without_limiter": reference}
