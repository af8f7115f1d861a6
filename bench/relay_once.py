"""One relay delivers everything once: thirty terminals confirm a visit each at the
same moment, through the counter service; the emulated Koha counts the patron
records it receives (POST /api/v1/patrons), at its own side.

Before the service, each terminal ran a relay of its own over the same outbox;
now the service's single relay holds a lease on each message. Figures: the
registrations confirmed, the records the agency received, those delivered, and
the time from the first confirmation to the last delivery.
"""

from __future__ import annotations

import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

TERMINALS = 30
TODAY = date(2026, 11, 25)
PATRONS = "/api/v1/patrons"
DEADLINE_S = 120.0


def _backends(traffic):
    from counter import registry
    from counter.backend import BackendContext
    from counter.config import TRAINING_BACKENDS
    from fixtures.emulators.plugin import emulated_transport

    backends = []
    for name, raw in TRAINING_BACKENDS.items():
        plugin = registry.load(raw["kind"])
        transport = emulated_transport(raw["kind"], traffic=traffic if raw["kind"] == "koha" else None)
        backends.append(plugin.create(BackendContext(name, plugin.Settings.model_validate(dict(raw)), None,
                                                     transport, training=True)))
    return backends


def _adults(store) -> list[tuple[int, int]]:
    """(household, adult) of thirty households whose adult has no card in the emulated
    Koha yet: each registration is then one patron record to create."""
    from sqlalchemy import text

    from fixtures.emulators.koha.patrons import of_town
    from fixtures.emulators.town_data import town_data

    carded = of_town(town_data()).patron_of
    with store.engine.connect() as c:
        rows = c.execute(text("SELECT household_id, MIN(person_id) FROM household_member WHERE role = 'parent' "
                              "GROUP BY household_id ORDER BY household_id DESC")).all()
    return [(household, adult) for household, adult in rows if adult not in carded][:TERMINALS]


def _delivery_states(store) -> dict[str, int]:
    from sqlalchemy import text

    with store.engine.connect() as c:
        return dict(c.execute(text("SELECT state, count(*) FROM outbox GROUP BY state")).all())


def measure() -> dict:
    from counter.client.api import CounterClient
    from counter.clock import FixedClock
    from counter.domain.visits import VisitDraft
    from registrations.library.kind import LibraryRequest
    from counter.runtime import Runtime
    from counter.service.server import Service, ServiceThread
    from counter.store.engine import Store
    from fixtures.emulators.traffic import Traffic
    from fixtures.training import prepare_training_store

    with tempfile.TemporaryDirectory(prefix="relay") as directory:  # short: a socket path is 107 bytes at most
        folder = Path(directory)
        url = f"sqlite:///{folder / 'town.sqlite3'}"
        prepare_training_store(url).dispose()
        store = Store(url)
        traffic = Traffic()
        runtime = Runtime(mode="training", data_dir=folder, database_url=url, clock=FixedClock(TODAY),
                          agent_login="formation")
        service = ServiceThread(Service(runtime, folder / "s.sock", identify=lambda uid: "formation", store=store,
                                        backends=_backends(traffic))).start()
        families = _adults(store)
        terminals = [CounterClient.at(folder / "s.sock") for _ in families]
        at_once = threading.Barrier(len(families))

        def visit(terminal, family):
            household, adult = family
            visit_id = terminal.start_visit(household_id=household)
            draft = VisitDraft(household_id=household, requests=[LibraryRequest(adult, "ADULTE")], revision=1)
            terminal.save_visit(visit_id, draft)
            terminal.visit_facts(visit_id)
            at_once.wait()
            started = time.perf_counter()
            confirmed = terminal.confirm_visit(visit_id, draft)
            return started, len(confirmed.receipt.lines)

        try:
            with ThreadPoolExecutor(len(families)) as pool:
                done = list(pool.map(visit, terminals, families))
            first = min(started for started, _ in done)
            deadline = time.monotonic() + DEADLINE_S
            while _delivery_states(store).get("pending", 0) and time.monotonic() < deadline:
                time.sleep(0.05)  # a benchmark's poll: the relay works in the service's thread
            finished = time.perf_counter()
            states = _delivery_states(store)
        finally:
            for terminal in terminals:
                terminal.close()
            service.stop()
            store.dispose()
    registrations = sum(lines for _, lines in done)
    received = traffic.count("POST", PATRONS)
    return {
        "terminals": len(families),
        "registrations_confirmed": registrations,
        "patron_records_received_by_koha": received,
        "delivered": states.get("delivered", 0),
        "pending_or_refused": sum(n for s, n in states.items() if s != "delivered"),
        "delivered_once": received == registrations == states.get("delivered", 0),
        "first_confirmation_to_last_delivery_ms": (finished - first) * 1000,
    }


if __name__ == "__main__":  # python -m bench.relay_once
    import json

    print(json.dumps(measure(), indent=2))
