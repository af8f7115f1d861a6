"""The dossier through the counter service: over the real socket, HTTP and codec,
one DossierService (its backends, caches and rate limits) for every terminal."""

from __future__ import annotations

import contextlib
import json
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import text

from counter.backend import QuotientFamilial, Status
from counter.client.api import CounterClient
from counter.client.connection import Refused
from counter.clock import FixedClock
from counter.runtime import Runtime
from counter.service.server import Service, ServiceThread
from counter.settings import EmulatorKnobs
from fixtures.emulators.plugin import emulated_transport
from fixtures.emulators.traffic import Traffic
from tests.backends.helpers import RECIPIENT, make_backend
from tests.conftest import TODAY

PURPOSE = "Instruction d'une demande"
ANSWERED = (Status.OK, Status.NOT_FOUND, Status.NOT_APPLICABLE)


@contextlib.contextmanager
def serving(store, backends, tmp_path):
    """The real service in a thread, on a socket of its own; yields a client maker."""
    runtime = Runtime(mode="training", data_dir=tmp_path, database_url=str(store.url), clock=FixedClock(TODAY),
                      agent_login="formation")
    with tempfile.TemporaryDirectory(prefix="svc") as short:  # a socket path has at most 107 bytes
        socket_path = Path(short) / "s.sock"
        service = ServiceThread(Service(runtime, socket_path, identify=lambda uid: "formation",
                                        store=store, backends=backends)).start()
        clients: list[CounterClient] = []

        def client() -> CounterClient:
            clients.append(CounterClient.at(socket_path))
            return clients[-1]

        try:
            yield client
        finally:
            for each in clients:
                each.close()
            service.stop()


def training_backends(**knobs_and_traffic):
    """The training agencies on their emulators: ``NAME=(knobs, traffic, timeout)``."""
    backends = []
    for kind, extra in (("api_particulier", {"recipient": RECIPIENT}), ("koha", {"library_id": "BEL-CTR"}),
                        ("city", {})):
        knobs, traffic, timeout = knobs_and_traffic.get(kind, (None, None, 5.0))
        backends.append(make_backend(kind, emulated_transport(kind, knobs, traffic=traffic), timeout=timeout,
                                     **extra))
    return backends


def person_id(client: CounterClient, query: str) -> int:
    return client.search(query).results[0].person.id


def consultations(store) -> list[tuple[str, dict]]:
    with store.engine.connect() as c:
        rows = c.execute(text("SELECT target_id, details FROM audit_entry WHERE action = 'dossier.consult' "
                              "ORDER BY seq")).all()
    return [(row.target_id, json.loads(row.details)) for row in rows]


def test_the_first_answers_reach_the_terminal_before_a_slow_source_answers(town_store, tmp_path):
    library = Traffic()
    # The library answers in 20 s, within its 30 s deadline: were the answers sent all
    # at the end, the others would reach the terminal only after the library's.
    backends = training_backends(koha=(EmulatorKnobs(latency_ms=20_000), library, 30.0))
    with serving(town_store, backends, tmp_path) as client:
        terminal = client()
        sections = terminal.dossier_sections()
        fast = {(r.source, r.section) for r in sections if r.source != "koha"}
        updates = terminal.consult(person_id(terminal, "giraud anne"), PURPOSE)
        first = next(updates)
        assert first.subject.identity.birth_name == "GIRAUD" and first.subject.household.label == "F-00441"
        arrived = set()
        for update in updates:
            provenance = update.answer.provenance
            assert provenance.source != "koha", "the slow library came before the others"
            arrived.add((provenance.source, provenance.section))
            if arrived == fast:
                break
        assert library.answered == 0  # every other section is on the terminal, the library still silent
        updates.close()  # the agent leaves: the service stops waiting for the library


def test_the_service_compares_with_the_towns_record_and_a_refresh_is_not_audited_again(town_store, tmp_path):
    with serving(town_store, training_backends(), tmp_path) as client:
        terminal = client()
        anne = person_id(terminal, "giraud anne")
        updates = list(terminal.consult(anne, PURPOSE))
        opening = updates[0].opening
        answers = {(u.answer.provenance.source, u.answer.provenance.section): u.answer for u in updates[1:]}
        assert answers[("api_particulier", "quotient_familial")].first(QuotientFamilial).value == 1200
        # The disagreement is the service's: the screen only shows it.
        [address] = [c for c in updates[-1].conflicts if c.kind == "address"]
        assert "AUBAGNE" in address.agency_value and address.address.postal_code == "13400"
        assert consultations(town_store) == [(str(anne), {
            "purpose": PURPOSE, "sources": sorted(f"{s}.{k}" for s, k in answers)})]

        # Asking one source again, within the same opening: the same audited consultation.
        again = list(terminal.consult(anne, PURPOSE, [("api_particulier", "quotient_familial")], refresh=True,
                                      opening=opening))
        assert [u.answer.provenance.section for u in again[1:]] == ["quotient_familial"]
        assert not again[1].answer.provenance.cached
        assert any(c.kind == "address" for c in again[-1].conflicts)  # the other answers still count
        assert len(consultations(town_store)) == 1
        # Another person under that opening, or another opening: audited.
        other = person_id(terminal, "roux jeanne")
        list(terminal.consult(other, PURPOSE, opening=opening))
        list(terminal.consult(anne, PURPOSE))
        assert [target for target, _ in consultations(town_store)] == [str(anne), str(other), str(anne)]

        # The agent takes the agency's address into the household: nothing left to flag.
        from counter.services.families import FamilyService

        household = updates[0].subject.household.id
        FamilyService(town_store, "formation").set_address(household, None, None, None, None,
                                                           address.address.street_line, "13400", "AUBAGNE")
        compared = terminal.compare_dossier(opening)
        assert compared.subject.household.address.postal_code == "13400"
        assert not any(c.kind == "address" for c in compared.conflicts)
        assert client().compare_dossier("not-an-opening") is None


def test_a_purpose_off_the_list_or_a_removed_person_is_refused_and_nothing_is_audited(town_store, tmp_path):
    with serving(town_store, training_backends(), tmp_path) as client:
        terminal = client()
        anne = person_id(terminal, "giraud anne")
        with pytest.raises(Refused) as refused:
            list(terminal.consult(anne, "par curiosité"))
        assert refused.value.code == "refused" and "Motif de consultation inconnu" in str(refused.value)
        with pytest.raises(Refused) as unknown:
            list(terminal.consult(anne, PURPOSE, [("api_particulier", "casier_judiciaire")]))
        assert unknown.value.code == "refused" and "casier_judiciaire" in unknown.value.english()
        with pytest.raises(Refused) as gone:
            list(terminal.consult(999_999, PURPOSE))
        assert gone.value.code == "not_found"
        assert consultations(town_store) == []


async def test_a_role_that_may_not_consult_is_refused_audited_and_sees_nothing(town_store):
    from counter.services.audit import Actor, Forbidden
    from counter.services.dossier import DossierService

    service = DossierService(town_store, training_backends(), FixedClock(TODAY))
    seen = []
    with pytest.raises(Forbidden):
        async for update in service.consultation(Actor("ancien", "", "poste-1"), 441, PURPOSE):
            seen.append(update)
    await service.aclose()
    assert seen == []
    with town_store.engine.connect() as c:
        entries = c.execute(text("SELECT agent, action FROM audit_entry")).all()
    assert [(e.agent, e.action) for e in entries] == [("ancien", "forbidden")]


def adults_of_distinct_households(store, count: int) -> list[int]:
    with store.engine.connect() as c:
        return [row[0] for row in c.execute(text(
            "SELECT MIN(person_id) FROM household_member WHERE role = 'parent' "
            "GROUP BY household_id ORDER BY household_id LIMIT :n"), {"n": count})]


def test_thirty_dossiers_at_once_never_send_more_than_twenty_requests_a_second(town_store, tmp_path):
    """One token for the whole site: the service's limiter keeps API Particulier's
    count (taken at the emulator) at 20 a second at most, and every answer arrives."""
    api = Traffic()
    backends = training_backends(api_particulier=(None, api, 5.0))
    people = adults_of_distinct_households(town_store, 30)
    with serving(town_store, backends, tmp_path) as client:
        terminals = [client() for _ in people]
        at_once = threading.Barrier(len(people))

        def open_dossier(terminal, person):
            at_once.wait()
            return list(terminal.consult(person, PURPOSE))

        with ThreadPoolExecutor(len(people)) as pool:
            dossiers = list(pool.map(open_dossier, terminals, people))
    assert len(api.arrivals) > 20  # more than a second's worth: the limit had to hold them back
    assert api.busiest(1.0) <= 20
    statuses = [u.answer.provenance.status for dossier in dossiers for u in dossier[1:]]
    assert len(statuses) == 30 * sum(len(b.sections()) for b in backends)  # every section of every dossier
    assert set(statuses) <= set(ANSWERED), {s for s in statuses if s not in ANSWERED}
