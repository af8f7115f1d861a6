"""A visit through the counter service, over the real socket, HTTP and codec, on
SQLite and PostgreSQL: the agent is the peer the kernel names, a late save never
overwrites a newer one, and a visit is confirmed once, its receipt written by
the service."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import text

from counter.client.api import CounterClient
from counter.client.connection import Refused
from counter.clock import FixedClock
from counter.domain.visits import VisitDraft
from counter.runtime import Runtime
from counter.service.server import Service, ServiceThread
from fixtures.agents import ensure_agent
from registrations.library.kind import LibraryRequest
from tests.store.test_visit_confirm import TODAY, family, school  # noqa: F401 (family: a fixture)

PEER = "guichet7"


@contextlib.contextmanager
def serving(store, tmp_path, peer: str = PEER):
    """A production service in a thread; every peer is ``peer``, whatever the runtime says."""
    ensure_agent(store, peer)
    runtime = Runtime(mode="production", data_dir=tmp_path, database_url=str(store.url), clock=FixedClock(TODAY),
                      agent_login="someone-else")
    with tempfile.TemporaryDirectory(prefix="svc") as short:  # a socket path has at most 107 bytes
        socket_path = Path(short) / "s.sock"
        service = ServiceThread(Service(runtime, socket_path, identify=lambda uid: peer, store=store,
                                        backends=[])).start()
        client = CounterClient.at(socket_path)
        try:
            yield client
        finally:
            client.close()
            service.stop()


def stored(store, visit_id: int) -> tuple[str, str, VisitDraft]:
    with store.engine.connect() as c:
        row = c.execute(text("SELECT state, agent_login, draft FROM visit WHERE id = :id"), {"id": visit_id}).one()
    return row.state, row.agent_login, VisitDraft.from_json(row.draft)


def test_the_visit_is_the_peers_and_a_late_save_never_overwrites_a_newer_one(store, family, tmp_path):  # noqa: F811
    card = LibraryRequest(family["nadia"], "ADULTE")
    with serving(store, tmp_path) as client:
        visit_id = client.start_visit(household_id=family["household"])
        newer = VisitDraft(household_id=family["household"], requests=[school(family), card], revision=2)
        older = VisitDraft(household_id=family["household"], requests=[school(family)], revision=1)
        saved = client.save_visit(visit_id, newer)
        late = client.save_visit(visit_id, older)  # resent after a reconnection, arriving last
        assert [d.visit_id for d in client.visit_drafts()] == [visit_id]  # the fixture's own draft is agent1's

    state, agent, draft = stored(store, visit_id)
    assert (state, agent) == ("draft", PEER)
    assert draft.requests == [school(family), card] and draft.revision == 2
    # Each save is answered with what the draft comes to: items, prices, papers, problems.
    assert [item.kind for item in saved.summary.items] == ["École", "Bibliothèque"]
    assert saved.summary.papers_to_bring and saved.errors == ()
    assert late.revision == 1 and len(late.summary.items) == 1
    with store.engine.connect() as c:
        agents = c.execute(text("SELECT agent FROM audit_entry WHERE action = 'visit.start' AND target_id = :v"),
                           {"v": str(visit_id)}).scalars().all()
    assert agents == [PEER]


def test_a_visit_is_confirmed_once_and_its_receipt_written_by_the_service(store, family, tmp_path):  # noqa: F811
    draft = VisitDraft(household_id=family["household"], requests=[school(family)], revision=1)
    with serving(store, tmp_path) as client:
        visit_id = client.start_visit(household_id=family["household"])
        client.save_visit(visit_id, draft)
        with pytest.raises(Refused) as refused:  # never priced before the agencies have answered
            client.confirm_visit(visit_id, draft)
        assert "Les organismes n'ont pas encore répondu" in refused.value.problem.message
        facts = client.visit_facts(visit_id)
        assert not facts.pending and facts.qf_missing == "aucun organisme ne le donne"

        first = client.confirm_visit(visit_id, draft)
        again = client.confirm_visit(visit_id, draft)  # the answer was lost: the agent presses Ctrl+S again
        with pytest.raises(Refused) as unknown:
            client.print_receipt("RCP-0000-0000")
        assert unknown.value.code == "not_found"
        printed = client.print_receipt(first.receipt.code)  # no printer configured: said, with where it is

    assert not first.already and again.already
    assert again.receipt == first.receipt and first.receipt.agent == PEER
    assert [line.kind for line in first.receipt.lines] == ["school"]
    pdf = Path(first.files.pdf_path)
    assert pdf.is_file() and pdf.parent == tmp_path / "receipts" / "2026" / "11"
    assert first.files.shown == f"2026/11/{first.receipt.code}.pdf"
    assert not printed.ok and "Aucune imprimante configurée" in printed.message
    with store.engine.connect() as c:
        registrations = c.execute(text("SELECT count(*) FROM registration WHERE visit_id = :v"),
                                  {"v": visit_id}).scalar_one()
        confirms = c.execute(text("SELECT agent FROM audit_entry WHERE action = 'visit.confirm'")).scalars().all()
    assert registrations == 1 and confirms == [PEER]


def test_another_agents_receipt_is_not_printed_by_code(store, family, tmp_path):  # noqa: F811
    """The end of a visit prints its own receipt; another agent's goes through a supervisor's
    audited reprint (F9): a hand-made request naming its code is refused, and audited."""
    draft = VisitDraft(household_id=family["household"], requests=[school(family)], revision=1)
    with serving(store, tmp_path) as client:
        visit_id = client.start_visit(household_id=family["household"])
        client.save_visit(visit_id, draft)
        client.visit_facts(visit_id)
        code = client.confirm_visit(visit_id, draft).receipt.code
    with serving(store, tmp_path, peer="guichet8") as other, pytest.raises(Refused) as refused:
        other.print_receipt(code)
    assert refused.value.code == "forbidden"
    with store.engine.connect() as c:
        audited = c.execute(text("SELECT agent, target_id FROM audit_entry WHERE action = 'forbidden'")).all()
    assert [tuple(row) for row in audited] == [("guichet8", code)]


def test_a_new_family_is_written_by_the_service_or_its_problems_said_at_their_fields(store, tmp_path):
    from counter.domain.identity_checks import PersonInput

    parent = PersonInput(birth_name="NOUVEAU", given_names="Ana", sex="F", birth_date="02/03/1990",
                         birth_insee_code="45234", role="parent")
    with serving(store, tmp_path) as client:
        from tests.factories import add_household, person

        add_household(store, "rue des Lilas", 1, [(person("AUTRE", "Jo", (1980, 1, 1)), "parent")])
        [(street, name)] = client.streets()
        refused = client.create_family(street, None, None, None, [])
        written = client.create_family(street, 3, None, None, [parent])
    assert name == "rue des Lilas"
    assert refused.id is None and {e.field for _, e in refused.errors} >= {"number"}
    with store.engine.connect() as c:
        audit = c.execute(text("SELECT agent FROM audit_entry WHERE action = 'household.create' AND target_id = :h"),
                          {"h": str(written.id)}).scalars().all()
    assert audit == [PEER]
