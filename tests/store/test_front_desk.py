"""The front desk on SQLite and PostgreSQL: tickets numbered per site and day without
duplicates, each called by exactly one agent however many call at once, the queue
surviving a restart, visits ended with their reasons (information only included)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from counter.domain.front_desk import FrontDesk, FrontDeskError, VisitEnd
from counter.domain.visits import VisitDraft
from counter.services.front_desk import FrontDeskService
from counter.store.engine import Store
from counter.store.models import AuditEntry, Ticket, Visit

DAY = date(2026, 11, 25)
DESK = FrontDesk(site="mairie", queue=True, desks=(("agent1", "Guichet 1"),))


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2026, 11, 25, 8, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.at


def desk(store, agent="agent1", day=DAY, clock=None, site_desk=DESK):
    return FrontDeskService(store, site_desk, agent, today=lambda: day, now=clock or Clock(), host="test")


def test_tickets_are_numbered_per_site_and_day(store):
    reception = desk(store, "accueil")
    assert [reception.issue(("caf",)).number for _ in range(3)] == [1, 2, 3]
    annex = FrontDeskService(store, FrontDesk(site="annexe", queue=True), "accueil", today=lambda: DAY)
    assert annex.issue(("qf",)).number == 1
    tomorrow = desk(store, "accueil", day=DAY + timedelta(days=1))
    assert tomorrow.issue(("caf",), need="interprete", appointment=True).number == 1
    with store.read() as session:
        assert session.execute(select(Ticket.site, Ticket.number).where(Ticket.day == DAY)
                               .order_by(Ticket.site, Ticket.number)).all() == [
            ("annexe", 1), ("mairie", 1), ("mairie", 2), ("mairie", 3)]


def test_bad_tickets_are_refused_and_nothing_is_written(store):
    reception = desk(store, "accueil")
    for reasons, need, message in (((), None, "au moins un motif"), (("inconnu",), None, "Motif inconnu"),
                                   (("caf", "caf"), None, "Motif inconnu"), (("caf",), "x", "Besoin inconnu")):
        with pytest.raises(FrontDeskError, match=message):
            reception.issue(reasons, need)
    closed = FrontDeskService(store, FrontDesk(site="mairie", queue=False), "accueil", today=lambda: DAY)
    with pytest.raises(FrontDeskError, match="pas activée"):
        closed.issue(("caf",))
    with store.read() as session:
        assert session.execute(select(Ticket)).first() is None
        assert session.execute(select(AuditEntry).where(AuditEntry.action == "ticket.issue")).first() is None


def test_a_call_opens_a_visit_on_the_ticket_and_the_next_family_fills_it_in(store):
    clock = Clock()
    desk(store, "accueil", clock=clock).issue(("caf", "qf"), need="lsf")
    issued = clock.at
    clock.at += timedelta(minutes=12)
    agent = desk(store, clock=clock)
    called = agent.call()
    assert called.ticket.number == 1 and called.ticket.state == "called"
    assert called.ticket.waiting_minutes == 12 and called.ticket.desk == "Guichet 1"
    assert agent.queue().mine.number == 1
    with pytest.raises(FrontDeskError, match="déjà le ticket 1"):
        agent.call()  # one ticket at a time
    clock.at += timedelta(minutes=1)
    assert agent.start(None, None) == called.visit_id  # F4: the visit opened on the ticket
    assert agent.ending(None) == (called.visit_id, 1, ("caf", "qf"), False)
    clock.at += timedelta(minutes=9)
    agent.end(VisitEnd(("caf",), "redirected", "cpam"), called.visit_id)
    with store.read() as session:
        visit = session.get(Visit, called.visit_id)
        ticket = session.get(Ticket, called.ticket.id)
        assert (visit.state, visit.site, visit.reasons, visit.outcome, visit.outcome_detail) == (
            "ended", "mairie", "caf", "redirected", "cpam")
        # Waiting = created_at - arrived_at; handling = ended_at - created_at.
        created, arrived, ended = (v.replace(tzinfo=UTC) if v.tzinfo is None else v
                                   for v in (visit.created_at, visit.arrived_at, visit.ended_at))
        assert (created - arrived, ended - created) == (timedelta(minutes=12), timedelta(minutes=10))
        assert arrived == issued and (ticket.state, ticket.visit_id) == ("served", visit.id)
        entries = session.execute(select(AuditEntry).where(AuditEntry.action.in_(
            ("ticket.issue", "ticket.call", "visit.end"))).order_by(AuditEntry.id)).scalars().all()
    assert [e.action for e in entries] == ["ticket.issue", "ticket.call", "visit.end"]
    assert json.loads(entries[-1].details) == {"detail": "cpam", "outcome": "redirected", "reasons": ["caf"],
                                               "ticket": 1}
    assert agent.queue().tickets == () and agent.queue().mine is None
    with pytest.raises(FrontDeskError, match="déjà terminée"):
        agent.end(VisitEnd(("qf",), "done"), called.visit_id)


def test_an_information_only_visit_is_counted(store):
    agent = desk(store)
    visit_id = agent.end(VisitEnd(("identite",), "come_back"))  # no ticket, no family: information only
    with store.read() as session:
        visit = session.get(Visit, visit_id)
        assert (visit.state, visit.outcome, visit.ended_at is not None, visit.ticket_id) == (
            "ended", "come_back", True, None)


def test_a_bad_end_writes_nothing(store):
    agent = desk(store)
    visit_id = agent.start(None, None)
    for end, message in ((VisitEnd((), "done"), "au moins un motif"),
                         (VisitEnd(("caf",), "redirected"), "orientée"),
                         (VisitEnd(("caf",), "done", "cpam"), "Seule une orientation"),
                         (VisitEnd(("caf",), "perdu"), "Issue")):
        with pytest.raises(FrontDeskError, match=message):
            agent.end(end, visit_id)
    with store.write() as session:  # requests typed: confirm them first
        visit = session.get(Visit, visit_id)
        visit.draft = json.dumps({**json.loads(VisitDraft().to_json()), "requests": [{"$type": "x"}]})
    with pytest.raises(FrontDeskError, match="Des demandes sont saisies"):
        agent.end(VisitEnd(("caf",), "done"), visit_id)
    with pytest.raises(FrontDeskError, match="un autre agent"):
        desk(store, "agent2").end(VisitEnd(("caf",), "done"), visit_id)
    with store.read() as session:
        visit = session.get(Visit, visit_id)
        assert (visit.state, visit.ended_at, visit.reasons) == ("draft", None, "")
        assert session.execute(select(AuditEntry).where(AuditEntry.action == "visit.end")).first() is None


def test_a_family_that_did_not_come_is_gone(store):
    desk(store, "accueil").issue(("caf",))
    agent = desk(store)
    called = agent.call()
    with pytest.raises(FrontDeskError, match="pas l'un de vos"):
        desk(store, "agent2").gone(1)
    agent.gone(1)
    with store.read() as session:
        assert session.get(Visit, called.visit_id).state == "abandoned"
        assert session.get(Ticket, called.ticket.id).state == "gone"
    assert agent.display().calls == ()  # the room's display forgets it


def test_the_queue_survives_a_restart(database_url):
    first = Store(database_url)
    from counter.store import migrate

    migrate.upgrade(first)
    reception = desk(first, "accueil")
    for _ in range(3):
        reception.issue(("caf",))
    desk(first).call()
    first.dispose()  # the service stops mid-day…
    again = Store(database_url)  # …and starts again on the same database
    try:
        view = desk(again).queue()
        assert [(t.number, t.state) for t in view.tickets] == [(1, "called"), (2, "waiting"), (3, "waiting")]
        assert view.mine.number == 1  # the agent still serves ticket 1
        assert desk(again, "accueil").issue(("qf",)).number == 4  # numbers go on
        assert desk(again, "agent2").call().ticket.number == 2
        # The room's display: the desk the site names, else « Guichet » — never a login.
        assert desk(again).display().calls == ((2, "Guichet"), (1, "Guichet 1"))
    finally:
        again.dispose()


AGENTS = 6


def _at_once(work, count):
    """``work(i)`` in ``count`` threads released together; their results (or exceptions)."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(i):
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 — the test looks at each
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_tickets_issued_at_once_are_never_numbered_twice(store):
    numbers = _at_once(lambda i: desk(store, f"accueil{i}").issue(("caf",)).number, AGENTS)
    assert sorted(numbers) == list(range(1, AGENTS + 1))


def test_agents_calling_at_once_each_get_a_different_ticket(store):
    reception = desk(store, "accueil")
    for _ in range(AGENTS - 2):
        reception.issue(("caf",))
    results = _at_once(lambda i: desk(store, f"agent{i}").call(), AGENTS)
    called = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Exception)]
    # Every ticket is taken by exactly one agent; the two agents too many are told none waits.
    assert sorted(c.ticket.number for c in called) == list(range(1, AGENTS - 1))
    assert len({c.ticket.called_by for c in called}) == AGENTS - 2
    assert len(refused) == 2 and all(isinstance(r, FrontDeskError) and "Aucun ticket" in str(r) for r in refused)
    with store.read() as session:
        visits = session.execute(select(Visit.ticket_id, Visit.agent_login)).all()
        tickets = session.execute(select(Ticket.id, Ticket.called_by, Ticket.visit_id)).all()
    assert len(visits) == AGENTS - 2 and len({v.ticket_id for v in visits}) == AGENTS - 2
    assert {(v.ticket_id, v.agent_login) for v in visits} == {(t.id, t.called_by) for t in tickets}


def test_calling_a_given_number(store):
    reception = desk(store, "accueil")
    for _ in range(3):
        reception.issue(("caf",))
    assert desk(store).call(3).ticket.number == 3
    with pytest.raises(FrontDeskError, match="ticket 3 n'est pas en attente"):
        desk(store, "agent2").call(3)
    assert desk(store, "agent2").call().ticket.number == 1


def test_tickets_left_open_overnight_are_closed_at_the_first_read_of_the_next_day(store):
    """Evening: ticket 1 called and begun (a family, a visit typed), 2 called and never
    begun, 3 waiting. Next morning none shows, none can be called, numbers start at 1
    again; the open ones are « non servi », the visit begun keeps its ticket and can
    still be ended (then counted, its ticket served)."""
    evening = Clock()
    reception = desk(store, "accueil", clock=evening)
    for _ in range(3):
        reception.issue(("caf",))
    begun = desk(store, "agent1", clock=evening)
    first = begun.call()
    assert begun.start(None, None) == first.visit_id  # F4 on a family: the visit is begun
    second = desk(store, "agent2", clock=evening).call()
    morning = Clock()
    morning.at += timedelta(days=1)
    tomorrow = {agent: desk(store, agent, day=DAY + timedelta(days=1), clock=morning)
                for agent in ("accueil", "agent1", "agent2")}
    with store.read() as session:  # nothing is closed before a read of the queue on the next day
        assert [t.state for t in session.execute(select(Ticket).order_by(Ticket.number)).scalars()] == [
            "called", "called", "waiting"]
    assert tomorrow["agent2"].display().calls == () and tomorrow["agent2"].display().waiting == 0
    view = tomorrow["agent1"].queue()
    assert (view.tickets, view.mine) == ((), None)
    with pytest.raises(FrontDeskError, match="Aucun ticket en attente"):
        tomorrow["agent1"].call()
    with pytest.raises(FrontDeskError, match="ticket 3 n'est pas en attente aujourd'hui"):
        tomorrow["agent2"].call(3)
    with store.read() as session:
        tickets = session.execute(select(Ticket).order_by(Ticket.number)).scalars().all()
        assert [(t.number, t.state, t.visit_id) for t in tickets] == [
            (1, "expired", first.visit_id), (2, "expired", second.visit_id), (3, "expired", None)]
        assert session.get(Visit, first.visit_id).state == "draft"  # begun: kept for its agent to end
        assert session.get(Visit, second.visit_id).state == "abandoned"  # opened by the call, no family
        [entry] = session.execute(select(AuditEntry).where(AuditEntry.action == "ticket.expire")).scalars().all()
        assert json.loads(entry.details) == {"site": "mairie", "before": "2026-11-26",
                                             "numbers": {"2026-11-25": [1, 2, 3]}}
    assert tomorrow["agent1"].expire_earlier_days() == 0  # closed once
    # The visit begun yesterday is ended today: counted, and its ticket served.
    tomorrow["agent1"].end(VisitEnd(("caf",), "done"), first.visit_id)
    with store.read() as session:
        assert session.get(Visit, first.visit_id).ended_at is not None
        assert session.get(Ticket, first.ticket.id).state == "served"
    # The new day's tickets start at 1 and are called as usual.
    assert tomorrow["accueil"].issue(("qf",)).number == 1
    assert tomorrow["agent2"].call().ticket.number == 1
    assert [(t.number, t.state) for t in tomorrow["agent1"].queue().tickets] == [(1, "called")]
