"""Dossier fan-out: six sources answering in 200 ms each, asked at once.

Reference in the same run: the same six asked one after the other. Then one
source is dead (never answers within its deadline): the others must arrive
as fast as before.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import date

from counter.backend import BackendContext, Identity, Subject
from counter.domain.dates import BirthDate
from counter.settings import EmulatorKnobs

LATENCY_MS = 200
SOURCES = 6
DEADLINE_S = 2.0
RUNS = 5
SUBJECT = Subject(
    person_id=1,
    identity=Identity("GIRAUD", ("Anne",), "F", BirthDate(1988, 12, 1), birth_insee_code="13002"),
    today=date(2026, 11, 25),
    role="parent",
)


def _backends(dead: int | None = None):
    from counter import registry
    from fixtures.emulators.plugin import emulated_transport

    plugin = registry.load("koha")
    backends = []
    for index in range(SOURCES):
        latency = 60_000 if index == dead else LATENCY_MS
        transport = emulated_transport("koha", EmulatorKnobs(latency_ms=latency))
        settings = plugin.Settings(kind="koha", timeout=DEADLINE_S)
        backends.append(plugin.create(BackendContext(f"koha{index}", settings, None, transport, training=True)))
    return backends


async def _concurrent(dead: int | None = None) -> tuple[float, list[float]]:
    from counter.services.dossier import DossierService

    service = DossierService(store=None, backends=_backends(dead), clock=None)
    started = time.perf_counter()
    arrivals = {}
    async for answer in service.consult(SUBJECT):
        arrivals[answer.provenance.source] = time.perf_counter() - started
    total = time.perf_counter() - started
    await service.aclose()
    others = [t for name, t in arrivals.items() if name != f"koha{dead}"]
    return total, others


async def _sequential() -> float:
    backends = _backends()
    started = time.perf_counter()
    for backend in backends:
        await backend.fetch("library_card", SUBJECT)
    total = time.perf_counter() - started
    for backend in backends:
        await backend.aclose()
    return total


def measure() -> dict:
    async def run() -> dict:
        await _concurrent()  # warm imports and the emulator's town data
        complete, sequential, others_alive, others_dead, dead_total = [], [], [], [], []
        for _ in range(RUNS):
            total, others = await _concurrent()
            complete.append(total)
            others_alive.append(max(others))
            sequential.append(await _sequential())
            total, others = await _concurrent(dead=0)
            dead_total.append(total)
            others_dead.append(max(others))
        return {
            "sources": SOURCES,
            "latency_ms": LATENCY_MS,
            "complete_ms": statistics.median(complete) * 1000,
            "target_ms": LATENCY_MS + 50,
            "sequential_ms": statistics.median(sequential) * 1000,
            "others_last_ms_all_alive": statistics.median(others_alive) * 1000,
            "others_last_ms_one_dead": statistics.median(others_dead) * 1000,
            "dead_source_deadline_ms": statistics.median(dead_total) * 1000,
        }

    return asyncio.run(run())
