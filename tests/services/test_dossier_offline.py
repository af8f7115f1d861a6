"""The dossier on the roaming bus (docs/tour.md): while its link is down, a section
whose agency cannot be reached says « indisponible hors ligne » (not a generic
failure), a section answered from a cache says when the agency gave it, and an
agency that answers all the same is shown as it answered."""

from __future__ import annotations

from datetime import UTC, datetime

from counter.backend import Health, Provenance, SectionAnswer, SectionSpec, Status
from counter.domain.facts_text import cached_at, status_line
from counter.services.dossier import OFFLINE_MESSAGE, DossierService
from tests.services.test_dossier_fanout import SUBJECT, library

ANSWERED_AT = datetime(2026, 11, 24, 16, 5, tzinfo=UTC)


class Scripted:
    """A backend answering each section with a given status (cached or not)."""

    kind, label, timeout = "scripted", "Agence", 1.0

    def __init__(self, name: str, status: Status, cached: bool = False) -> None:
        self.name, self.status, self.cached = name, status, cached

    def sections(self):
        return (SectionSpec("x", "Rubrique"),)

    async def fetch(self, section, subject, *, refresh=False):
        at = ANSWERED_AT if self.cached else datetime.now(UTC)
        message = "Source injoignable." if self.status is not Status.OK else ""
        return SectionAnswer(Provenance(self.name, section, "Rubrique", self.status, at, 12.0, message=message,
                                        cached=self.cached))

    async def health(self):
        return Health(self.name, Status.OK)

    async def aclose(self):
        pass


async def answers(backends, offline: bool) -> dict[str, Provenance]:
    service = DossierService(store=None, backends=backends, clock=None, offline=lambda: offline)
    try:
        return {a.provenance.source: a.provenance async for a in service.consult(SUBJECT)}
    finally:
        await service.aclose()


async def test_offline_an_unreachable_agency_says_so_and_a_cached_answer_says_when():
    backends = [Scripted("down", Status.UNAVAILABLE), Scripted("late", Status.TIMEOUT),
                Scripted("cache", Status.OK, cached=True), Scripted("refused", Status.UNAUTHORIZED),
                library("mort", 60_000, timeout=0.3)]  # a real emulated agency cut at its deadline
    seen = await answers(backends, offline=True)
    for name in ("down", "late", "mort"):
        assert seen[name].offline and seen[name].message == OFFLINE_MESSAGE, name
        assert "indisponible hors ligne" in status_line(seen[name]), name
    assert seen["mort"].status is Status.TIMEOUT  # the status stays the truth; the words say why
    # A refusal is no link's fault: said as it is.
    assert not seen["refused"].offline and "accès refusé" in status_line(seen["refused"])
    cached = status_line(seen["cache"], "Agence")
    local = ANSWERED_AT.astimezone()
    assert cached.startswith("✓ Agence · a répondu")
    assert cached.endswith(f"en cache, au {local:%d/%m} à {local:%H:%M}") and not seen["cache"].offline


async def test_online_failures_are_said_as_before():
    seen = await answers([Scripted("down", Status.UNAVAILABLE)], offline=False)
    assert not seen["down"].offline and seen["down"].message == "Source injoignable."
    assert "source indisponible" in status_line(seen["down"])


def test_the_cache_says_the_day_and_the_time_of_the_agencys_answer():
    at = datetime(2026, 3, 12, 13, 5, tzinfo=UTC).astimezone()
    assert cached_at(at) == f"en cache, au 12/03 à {at:%H:%M}"
    assert cached_at(datetime(2026, 3, 2, 9, 7)) == "en cache, au 02/03 à 09:07"  # naive: taken as local
