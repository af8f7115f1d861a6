"""The dossier asks every source at once and shows each answer when it comes."""

from __future__ import annotations

from datetime import date

from counter import registry
from counter.backend import BackendContext, Identity, Status, Subject
from counter.domain.dates import BirthDate
from counter.services.dossier import DossierService
from counter.settings import EmulatorKnobs
from fixtures.emulators.plugin import emulated_transport

SUBJECT = Subject(1, Identity("GIRAUD", ("Anne",), "F", BirthDate(1988, 12, 1), birth_insee_code="13002"),
                  date(2026, 11, 25), "parent")


def library(name: str, latency_ms: int, timeout: float = 3.0):
    plugin = registry.load("koha")
    transport = emulated_transport("koha", EmulatorKnobs(latency_ms=latency_ms))
    return plugin.create(BackendContext(name, plugin.Settings(kind="koha", timeout=timeout), None, transport, True))


async def arrivals(backends) -> list[tuple[str, Status]]:
    service = DossierService(store=None, backends=backends, clock=None)
    seen = [(a.provenance.source, a.provenance.status) async for a in service.consult(SUBJECT)]
    await service.aclose()
    return seen


async def test_sections_arrive_as_each_source_answers_not_in_asking_order():
    # Asked slowest first: if the sources were asked one after the other,
    # the answers would come back in this order.
    latencies = {"lent": 600, "moyen": 300, "rapide": 0}
    seen = await arrivals([library(name, ms) for name, ms in latencies.items()])
    assert [name for name, _ in seen] == ["rapide", "moyen", "lent"]
    assert all(status is Status.OK for _, status in seen)


async def test_a_dead_source_is_cut_at_its_deadline_and_delays_no_other():
    backends = [library("mort", 60_000, timeout=1.0), library("vivant", 100), library("vif", 0)]
    seen = await arrivals(backends)
    assert [name for name, _ in seen] == ["vif", "vivant", "mort"]
    # The live ones came before the dead one was given up at its deadline.
    assert seen[-1][1] is Status.TIMEOUT


async def test_a_plugin_that_raises_or_hangs_stays_in_its_own_section():
    from datetime import UTC, datetime

    from counter.backend import Health, Provenance, SectionAnswer, SectionSpec

    class Broken:
        """A third-party backend breaking the protocol: raises and ignores its deadline."""

        kind, label, timeout = "broken", "Cassé", 0.2

        def __init__(self, name, mode):
            self.name, self.mode = name, mode

        def sections(self):
            return (SectionSpec("x", "X"),)

        async def fetch(self, section, subject, *, refresh=False):
            if self.mode == "raise":
                raise RuntimeError("bug")
            import asyncio

            await asyncio.sleep(3600)
            return SectionAnswer(Provenance(self.name, section, "X", Status.OK, datetime.now(UTC)))

        async def health(self):
            return Health(self.name, Status.OK)

        async def aclose(self):
            pass

    seen = await arrivals([Broken("bug", "raise"), Broken("hang", "hang"), library("vif", 0)])
    statuses = dict(seen)
    assert statuses == {"bug": Status.BAD_RESPONSE, "hang": Status.TIMEOUT, "vif": Status.OK}
