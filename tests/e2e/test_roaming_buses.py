"""Issue 15's end-to-end test: two bus counters and the town hall against one town
database on the real PostgreSQL. Both buses go offline, each registers a child for
the same last CP place and creates the same new family — through their own counter
services, as their terminals do — then the link comes back to each in turn and
each bus sends back by itself: exactly one place given, one waiting-list entry with
its French reason, one family with duplicate reviews, every receipt found at the
town hall, and every audit chain verifies."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from counter.client.api import CounterClient
from counter.clock import FixedClock
from counter.domain.visits import VisitDraft
from counter.runtime import Runtime
from counter.service import link as link_module
from counter.service.server import Service, ServiceThread
from counter.services import audit
from counter.services.tour_prepare import prepare_replica
from counter.store.engine import Store
from fixtures.agents import ensure_agent
from registrations.school.kind import SchoolRequest
from registrations.school.service import FULL_NOTE
from tests.link_proxy import LinkProxy
from tests.polling import wait_for
from tests.store.test_tour_sync import CHILD, MOTHER, TODAY, YEAR, town  # noqa: F401 — fixture

DEADLINE = 60.0  # only turns a hang into a failure
pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def _wait(condition, what: str) -> None:
    wait_for(condition, what, deadline=DEADLINE)


@contextlib.contextmanager
def counter_service(store: Store, runtime: Runtime, peer: str):
    """A counter service in a thread on ``store``; every peer is the agent ``peer``."""
    ensure_agent(store, peer)
    with tempfile.TemporaryDirectory(prefix="svc") as short:  # a socket path has at most 107 bytes
        service = ServiceThread(Service(runtime, Path(short) / "s.sock", identify=lambda uid: peer, store=store,
                                        backends=[])).start()
        client = CounterClient.at(service.service.socket_path)
        try:
            yield service.service.core, client
        finally:
            client.close()
            service.stop()


def _scalar(store: Store, sql: str, **params):
    with store.engine.connect() as connection:
        return connection.execute(text(sql), params).scalar()


def _register_on_board(client: CounterClient, street: int, school: int) -> tuple[str, tuple[str, ...]]:
    """What the agent does on the bus: the new family, then its child registered for CP."""
    written = client.create_family(street, 12, None, None, [MOTHER, CHILD])
    assert written.id is not None, written
    household = client.household(written.id)
    child = next(m.person.id for m in household.members if m.role == "child")
    visit_id = client.start_visit(household_id=written.id)
    draft = VisitDraft(household_id=written.id, revision=1,
                       requests=[SchoolRequest(child, YEAR, "CP", school, school, separated_parents=False)])
    client.save_visit(visit_id, draft)
    client.visit_facts(visit_id)  # no agency on board: the facts say so at once
    confirmed = client.confirm_visit(visit_id, draft)
    return confirmed.receipt.code, confirmed.receipt.notes


def test_two_buses_offline_then_back_in_turn(store, town, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setattr(link_module, "UP_EVERY", 0.5)  # the link tried often, up or down
    central_url = make_url(store.url.render_as_string(hide_password=False))
    buses = []
    with contextlib.ExitStack() as stack:
        for name in ("bus-1", "bus-2"):
            path = tmp_path / name / "replica.sqlite3"
            prepare_replica(store, f"sqlite:///{path}", bus=name, streets=[town["street"]])
            replica = Store(f"sqlite:///{path}")
            stack.callback(replica.dispose)
            link = stack.enter_context(LinkProxy((central_url.host, central_url.port or 5432)))
            link.down()  # out of coverage from the start
            runtime = Runtime(mode="production", data_dir=tmp_path / name / "data", database_url=str(replica.url),
                              clock=FixedClock(TODAY), agent_login="counter", backends={}, bus=name,
                              central_url=central_url.set(host="127.0.0.1", port=link.port)
                              .render_as_string(hide_password=False), link_probe_seconds=1)
            core, client = stack.enter_context(counter_service(replica, runtime, "agent-bus"))
            buses.append((name, replica, link, core, client))
        _hall_core, hall = stack.enter_context(counter_service(store, Runtime(
            mode="production", data_dir=tmp_path / "hall", database_url=str(store.url), clock=FixedClock(TODAY),
            agent_login="counter", backends={}), "agent-mairie"))

        codes = []
        for name, _replica, _link, _core, client in buses:
            _wait(lambda c=client: c.session().offline_since is not None, f"{name} to say it is offline")
            code, notes = _register_on_board(client, town["street"], town["school"])
            assert any(note.startswith("Inscription provisoire") for note in notes)  # the family is told
            codes.append(code)
        assert _scalar(store, "SELECT count(*) FROM tour_applied") == 0  # nothing reached the town yet

        # The link comes back to bus 1, then to bus 2: each sends back by itself.
        for (name, replica, link, core, client), code in zip(buses, codes):
            link.up()
            _wait(lambda c=client: c.session().offline_since is None, f"{name} to say it is back online")
            _wait(lambda k=code: _scalar(store, "SELECT count(*) FROM visit WHERE code = :c", c=k) == 1,
                  f"{name}'s visit at the town hall")
            _wait(lambda c=core: c.tour.last_report is not None and not c.tour.busy, f"{name}'s sync to end")
            assert core.tour.last_error is None

        # Exactly one place given; the other registration on the waiting list, with its reason.
        assert _scalar(store, "SELECT booked FROM school_capacity") == 1
        with store.engine.connect() as connection:
            states = dict(connection.execute(text(
                "SELECT v.code, r.state FROM registration r JOIN visit v ON v.id = r.visit_id "
                "WHERE v.code IN (:a, :b)"), {"a": codes[0], "b": codes[1]}).all())
        assert states == {codes[0]: "registered", codes[1]: "waiting_list"}
        [(item, change)] = buses[1][3].tour.last_report.changed
        assert item.key == f"bus-2:visit:{codes[1]}" and change["note"] == FULL_NOTE
        # Bus 2 took the town's word: its own registration is on the waiting list too.
        assert _scalar(buses[1][1], "SELECT state FROM registration ORDER BY id DESC LIMIT 1") == "waiting_list"

        # One family at the town hall, its second arrival waiting for a supervisor's review.
        with store.engine.connect() as connection:
            homes = connection.execute(text(
                "SELECT DISTINCT m.household_id FROM person p JOIN household_member m ON m.person_id = p.id "
                "WHERE p.birth_name = 'OKONKWO'")).scalars().all()
            reviews = connection.execute(text(
                "SELECT count(*) FROM duplicate_review WHERE source = 'tour' AND state = 'pending'")).scalar_one()
        assert len(homes) == 1 and reviews == 2
        # The town hall's counter finds both receipts by the codes the families hold.
        found = {code: [(r.state, r.visit_code) for r in hall.search_registrations(code)] for code in codes}
        assert found == {codes[0]: [("registered", codes[0])], codes[1]: [("waiting_list", codes[1])]}
        for code in codes:
            assert _scalar(store, "SELECT receipt IS NOT NULL FROM visit WHERE code = :c", c=code)

    # Every chain verifies: the town's, with both buses' entries in it, and each bus's own.
    assert audit.verify(store)[0] is None
    for _name, replica, *_ in buses:
        assert audit.verify(replica)[0] is None
    assert _scalar(store, "SELECT count(DISTINCT details) > 0 FROM audit_entry WHERE details LIKE '%bus-2%'")
