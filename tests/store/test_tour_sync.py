"""`counter tour sync`: what was done on the roaming bus goes back to the town's database
exactly once (docs/tour.md). The town's database on SQLite and PostgreSQL, the buses'
replicas on SQLite, as in production."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text

from counter.clock import FixedClock
from counter.domain.identity_checks import PersonInput
from counter.domain.receipt import Receipt, ReceiptLine, new_code, state_wording, to_json
from counter.domain.visits import VisitDraft, kind_of
from counter.services import audit
from counter.services.families import FamilyService
from counter.services.receipts import stored_by_code
from counter.services.search import SearchService
from counter.services.tour_prepare import prepare_replica
from counter.services.tour_sync import TourBusy, TourError, recorded, sync_tour
from counter.services.visits import VisitService
from counter.store.engine import Store
from counter.store.models import School, SchoolCapacity
from registrations.school.kind import SchoolRequest
from tests.factories import add_household, person

TODAY = date(2026, 11, 25)
CLOCK = FixedClock(TODAY)
YEAR = 2027
MOTHER = PersonInput(birth_name="Okonkwo", given_names="Adaeze", sex="F", birth_date="14/03/1990",
                     birth_country_code="99315", role="parent")
CHILD = PersonInput(birth_name="Okonkwo", given_names="Chiara", sex="F", birth_date="02/09/2021",
                    birth_insee_code="45234", role="child")
# What must never be doubled by a second sync.
TABLES = ("household", "person", "household_member", "address", "visit", "registration", "outbox", "audit_entry",
          "duplicate_review", "tour_applied")


@pytest.fixture
def town(store):
    """One family the buses take along, a school with one CP place left for next year."""
    sablons = add_household(store, "rue des Sablons", 86, [
        (person("GIRAUD", "Nadia", (1984, 5, 14)), "parent"),
        (person("GIRAUD", "Léa", (2021, 3, 2)), "child")])
    with store.write() as session:
        school = School(uai="0459999A", name="École Jules-Ferry", kind="elementaire")
        session.add(school)
        session.flush()
        session.add(SchoolCapacity(school_id=school.id, school_year=YEAR, level="CP", capacity=1))
        school_id = school.id
    with store.engine.connect() as connection:
        street = connection.execute(text("SELECT id FROM street")).scalar_one()
        nadia, lea = connection.execute(text("SELECT person_id FROM household_member WHERE household_id = :h "
                                             "ORDER BY id"), {"h": sablons}).scalars().all()
    return {"household": sablons, "street": street, "school": school_id, "nadia": nadia, "lea": lea}


@pytest.fixture
def buses(store, town, tmp_path):
    """Two buses prepared from the same town the same morning."""
    made = []
    for name in ("bus-1", "bus-2"):
        path = tmp_path / name / "replica.sqlite3"
        prepare_replica(store, f"sqlite:///{path}", bus=name, streets=[town["street"]])
        made.append(Store(f"sqlite:///{path}"))
    yield made
    for replica in made:
        replica.dispose()


def receipt_of(confirmation) -> Receipt:
    lines = []
    for outcome in confirmation.outcomes:
        kind = kind_of(outcome.request).id
        label, detail = state_wording(kind, outcome.state.value, outcome.rank)
        lines.append(ReceiptLine(kind=kind, who=f"n° {outcome.registration_id}", what="", state=outcome.state.value,
                                 state_label=label, detail=detail))
    return Receipt(code=confirmation.code, issued_on=TODAY, town="Bellerive-sur-Loire", agent="agent-bus",
                   household="Foyer", lines=tuple(lines), training=True)


def new_family_on(replica, street: int) -> tuple[int, int]:
    """A family the town did not know, typed on board: (household, child)."""
    household = FamilyService(replica, "agent-bus", host="bus", clock=CLOCK).create(street, 12, None, None,
                                                                                    [MOTHER, CHILD])
    with replica.engine.connect() as connection:
        child = connection.execute(text("SELECT m.person_id FROM household_member m WHERE m.household_id = :h "
                                        "AND m.role = 'child'"), {"h": household}).scalar_one()
    return household, child


def school_visit_on(replica, household: int, child: int, school: int) -> tuple[str, str]:
    """A visit confirmed on board registering ``child`` for CP: (receipt code, its state on board)."""
    visits = VisitService(replica, CLOCK, "agent-bus", host="bus")
    visit_id = visits.start(household_id=household)
    draft = VisitDraft(household_id=household, requests=[SchoolRequest(child, YEAR, "CP", school, school,
                                                                       separated_parents=False)])
    done = visits.confirm(visit_id, draft, code=new_code(), payloads=lambda r, i, s: ("city.registration", {}),
                          receipt=receipt_of)
    return done.code, done.outcomes[0].state.value


def counts(store) -> dict[str, int]:
    with store.engine.connect() as connection:
        return {t: connection.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}


def scalar(store, sql: str, **params):
    with store.engine.connect() as connection:
        return connection.execute(text(sql), params).scalar()


def test_two_buses_race_for_the_last_place_and_bring_the_same_new_family(store, town, buses):
    bus1, bus2 = buses
    codes, households = [], []
    for replica in buses:
        household, child = new_family_on(replica, town["street"])
        code, state = school_visit_on(replica, household, child, town["school"])
        assert state == "registered"  # each replica still had the last place
        codes.append(code)
        households.append(household)

    first = sync_tour(bus1, store, CLOCK, host="mairie")
    assert (first.count("household", "created"), first.count("visit", "confirmed")) == (1, 1)
    assert first.changed == [] and first.refused == [] and first.reviews == 0
    second = sync_tour(bus2, store, CLOCK, host="mairie")
    assert second.count("household", "joined") == 1 and second.count("household", "created") == 0
    assert second.reviews == 2  # the mother and the child, each against the record bus 1 brought

    # Exactly one place given, one waiting-list entry, reported to the bus that must tell the family.
    assert scalar(store, "SELECT booked FROM school_capacity") == 1
    with store.engine.connect() as connection:
        states = sorted(connection.execute(text("SELECT state FROM registration")).scalars())
    assert states == ["registered", "waiting_list"]
    [(item, change)] = second.changed
    assert item.key == f"bus-2:visit:{codes[1]}"
    assert (change["bus_state"], change["state"]) == ("registered", "waiting_list")
    assert scalar(bus2, "SELECT state FROM registration") == "waiting_list"  # the bus took central's word
    assert scalar(bus1, "SELECT state FROM registration") == "registered"

    # One household for the family, with both buses' records of it and reviews for a supervisor.
    central_household = first.items[0].outcome["household"]
    assert second.items[0].outcome["household"] == central_household
    assert scalar(store, "SELECT count(*) FROM household") == 2
    assert scalar(store, "SELECT count(*) FROM household_member WHERE household_id = :h", h=central_household) == 4
    with store.engine.connect() as connection:
        reviews = connection.execute(text("SELECT person_id, candidate_id, source, state FROM duplicate_review "
                                          "ORDER BY person_id")).all()
    bus1_persons = set(first.items[0].outcome["persons"].values())
    bus2_persons = set(second.items[0].outcome["persons"].values())
    assert {(r.source, r.state) for r in reviews} == {("tour", "pending")}
    assert {r.person_id for r in reviews} == bus2_persons and {r.candidate_id for r in reviews} == bus1_persons
    # The new family is found by the town hall's search.
    found = SearchService(store, CLOCK).search("okonkwo chiara").results
    assert {r.person.id for r in found} == {first.items[0].outcome["persons"][str(c)] for c in [
        scalar(bus1, "SELECT person_id FROM household_member WHERE role = 'child' AND household_id = :h",
               h=households[0])]} | {second.items[0].outcome["persons"][str(c)] for c in [
        scalar(bus2, "SELECT person_id FROM household_member WHERE role = 'child' AND household_id = :h",
               h=households[1])]}

    # Every family's paper is found at the town hall, as printed on board.
    for replica, code in zip(buses, codes, strict=True):
        receipt = stored_by_code(store, code)
        assert receipt is not None and receipt.code == code
        assert to_json(receipt) == scalar(replica, "SELECT receipt FROM visit WHERE code = :c", c=code)
    # Central's confirmations wrote the outbox messages; the buses' stay on board.
    assert scalar(store, "SELECT count(*) FROM outbox") == 2

    # Both chains verify; every entry made on board is in central's, marked with its bus.
    for replica in (store, bus1, bus2):
        assert audit.verify(replica)[0] is None
    with store.engine.connect() as connection:
        carried = [json.loads(d) for d in connection.execute(text("SELECT details FROM audit_entry")).scalars()]
    for name, replica in (("bus-1", bus1), ("bus-2", bus2)):
        mine = sorted(d["bus_seq"] for d in carried if d.get("bus") == name and "bus_seq" in d)
        assert mine == list(range(1, scalar(replica, "SELECT count(*) FROM audit_entry") + 1))


def test_a_sync_is_applied_once_even_when_the_bus_never_heard_back(store, town, buses):
    bus1, _ = buses
    household, child = new_family_on(bus1, town["street"])
    code, _ = school_visit_on(bus1, household, child, town["school"])
    first = sync_tour(bus1, store, CLOCK)
    applied = counts(store)
    assert applied["tour_applied"] == len(first.items) > 3

    again = sync_tour(bus1, store, CLOCK)
    assert again.items == [] and again.skipped == len(first.items)
    assert counts(store) == applied

    # The link dropped after central committed: the bus kept nothing of the answers.
    with bus1.write() as session:
        session.execute(text("DELETE FROM tour_synced"))
    lost = sync_tour(bus1, store, CLOCK)
    assert counts(store) == applied  # nothing doubled
    assert lost.reused == len(lost.items) == len(first.items)
    assert [i.outcome for i in lost.items] == [i.outcome for i in first.items]
    assert scalar(bus1, "SELECT count(*) FROM tour_synced") == len(first.items)
    assert scalar(store, "SELECT count(*) FROM visit WHERE code = :c", c=code) == 1
    assert audit.verify(store)[0] is None and audit.verify(bus1)[0] is None


def test_a_draft_left_by_a_sync_cut_short_is_taken_up_not_doubled(store, town, buses):
    bus1, _ = buses
    code, _ = school_visit_on(bus1, town["household"], town["lea"], town["school"])
    # The last sync started the visit on central, then the link dropped before the confirmation.
    draft_id = VisitService(store, CLOCK, "agent-bus").start(household_id=town["household"], code=code)
    report = sync_tour(bus1, store, CLOCK)
    [visit] = [i for i in report.items if i.kind == "visit"]
    assert visit.outcome["visit"] == draft_id and visit.status == "confirmed"
    assert scalar(store, "SELECT count(*) FROM visit WHERE code = :c", c=code) == 1
    assert scalar(store, "SELECT state FROM visit WHERE id = :v", v=draft_id) == "confirmed"


def test_a_visit_central_refuses_is_recorded_with_its_message_and_never_retried(store, town, buses):
    bus1, _ = buses
    code, _ = school_visit_on(bus1, town["household"], town["lea"], town["school"])
    # Meanwhile a counter at the town hall registered the same child for the same year.
    school_visit_on(store, town["household"], town["lea"], town["school"])
    report = sync_tour(bus1, store, CLOCK)
    [refused] = report.refused
    assert refused.key == f"bus-1:visit:{code}" and refused.status == "refused"
    assert "inscrit" in refused.outcome["message"]  # central's French words, for the agent to tell
    assert scalar(store, "SELECT state FROM visit WHERE code = :c", c=code) == "abandoned"  # its code is known
    assert scalar(store, "SELECT count(*) FROM registration") == 1
    before = counts(store)
    assert sync_tour(bus1, store, CLOCK).items == []  # not retried
    assert counts(store) == before
    [(kept)] = [r for r in recorded(store, central=True) if r.key == refused.key]
    assert kept.outcome["status"] == "refused"
    assert [r.outcome["status"] for r in recorded(bus1, central=False) if r.key == refused.key] == ["refused"]
    assert audit.verify(store)[0] is None


def test_a_child_added_on_board_joins_the_copied_household(store, town, buses):
    bus1, _ = buses
    baby = PersonInput(birth_name="Giraud", given_names="Thi", sex="F", birth_date="01/06/2026",
                       birth_insee_code="45234", role="child")
    on_board = FamilyService(bus1, "agent-bus", host="bus", clock=CLOCK).add_member(town["household"], baby)
    report = sync_tour(bus1, store, CLOCK)
    [item] = [i for i in report.items if i.kind == "person"]
    assert item.key == f"bus-1:person:{on_board}" and item.status == "added"
    central_id = item.outcome["persons"][str(on_board)]
    assert scalar(store, "SELECT household_id FROM household_member WHERE person_id = :p", p=central_id) \
        == town["household"]
    assert [r.person.id for r in SearchService(store, CLOCK).search("giraud thi").results] == [central_id]
    assert item.outcome["reviews"] == []


def test_two_syncs_never_run_at_once(store, town, buses):
    bus1, _ = buses
    new_family_on(bus1, town["street"])
    with store.write() as session:
        session.execute(text("INSERT INTO sync_state (name, holder, lease_until) VALUES ('tour', 'other', :until)"),
                        {"until": datetime.now(UTC) + timedelta(minutes=3)})
    before = counts(store)
    with pytest.raises(TourBusy, match="another tour sync"):
        sync_tour(bus1, store, CLOCK)
    assert counts(store) == before
    assert scalar(bus1, "SELECT count(*) FROM tour_synced") == 0
    with store.write() as session:  # a crashed holder's lease runs out
        session.execute(text("UPDATE sync_state SET lease_until = :past WHERE name = 'tour'"),
                        {"past": datetime.now(UTC) - timedelta(seconds=1)})
    assert sync_tour(bus1, store, CLOCK).count("household", "created") == 1
    assert scalar(store, "SELECT holder FROM sync_state WHERE name = 'tour'") is None


def test_only_a_replica_is_synced(store, town, tmp_path):
    with pytest.raises(TourError, match="not a bus's replica"):
        sync_tour(store, store, CLOCK)


def test_a_visit_for_a_family_made_during_the_sync_waits_for_the_next_one_never_blocked(store, town, buses,
                                                                                          monkeypatch):
    """The agent goes on working while the bus sends back: a family and its visit made
    after the sync read its list of families must not be lost as « blocked »."""
    from counter.services import tour_sync

    bus1 = buses[0]
    household, child = new_family_on(bus1, town["street"])
    first_code, _ = school_visit_on(bus1, household, child, town["school"])
    read = tour_sync._Sync._bus_rows
    made = {}

    def agent_goes_on(self, sql, top, **params):
        rows = read(self, sql, top, **params)
        if "FROM household" in sql and not made:  # just after the families were listed
            other = PersonInput(birth_name="Lindqvist", given_names="Ebba", sex="F", birth_date="03/04/1992",
                                birth_country_code="99106", role="parent")
            kid = PersonInput(birth_name="Lindqvist", given_names="Nils", sex="M", birth_date="05/06/2021",
                              birth_insee_code="45234", role="child")
            made["household"] = FamilyService(bus1, "agent-bus", host="bus", clock=CLOCK).create(
                town["street"], 30, None, None, [other, kid])
            with bus1.engine.connect() as connection:
                made["child"] = connection.execute(text(
                    "SELECT person_id FROM household_member WHERE household_id = :h AND role = 'child'"),
                    {"h": made["household"]}).scalar_one()
            made["code"], _ = school_visit_on(bus1, made["household"], made["child"], town["school"])
        return rows

    monkeypatch.setattr(tour_sync._Sync, "_bus_rows", agent_goes_on)
    first = sync_tour(bus1, store, CLOCK, host="mairie")
    assert first.deferred == 1 and first.count("visit", "blocked") == 0
    assert scalar(store, "SELECT count(*) FROM visit WHERE code = :c", c=first_code) == 1
    assert scalar(store, "SELECT count(*) FROM tour_applied WHERE key LIKE :k", k=f"%{made['code']}") == 0

    monkeypatch.setattr(tour_sync._Sync, "_bus_rows", read)
    second = sync_tour(bus1, store, CLOCK, host="mairie")
    assert second.deferred == 0 and second.count("household", "created") == 1
    assert second.count("visit", "confirmed") == 1
    assert scalar(store, "SELECT count(*) FROM visit WHERE code = :c", c=made["code"]) == 1


def test_the_visits_ended_on_board_reach_the_towns_statistics(store, town, buses):
    """The front desk's record of each visit on board (reasons, outcome, times, the bus as
    its site) goes back too — a confirmed visit's end onto the town's visit of that code, an
    information-only visit as a visit of its own — once."""
    from counter.domain.front_desk import FrontDesk, VisitEnd
    from counter.services.front_desk import FrontDeskService

    bus1 = buses[0]
    desk = FrontDesk(site="bus-1")
    household, child = new_family_on(bus1, town["street"])
    code, _ = school_visit_on(bus1, household, child, town["school"])
    visit_id = scalar(bus1, "SELECT id FROM visit WHERE code = :c", c=code)
    ends = FrontDeskService(bus1, desk, "agent-bus", today=lambda: TODAY, host="bus")
    ends.end(VisitEnd(("inscriptions",), "done"), visit_id)
    ends.end(VisitEnd(("caf",), "redirected", "caf"), household_id=town["household"])

    first = sync_tour(bus1, store, CLOCK, host="mairie")
    assert first.count("visit_end", "ended") == 2
    with store.engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT code, state, site, reasons, outcome, outcome_detail, ended_at IS NOT NULL AS ended FROM visit "
            "WHERE site = 'bus-1' ORDER BY id")).all()
    assert [(r.code, r.state, r.reasons, r.outcome, r.outcome_detail, r.ended) for r in rows] == [
        (code, "confirmed", "inscriptions", "done", None, True),
        (None, "ended", "caf", "redirected", "caf", True)]
    again = sync_tour(bus1, store, CLOCK, host="mairie")
    assert again.items == [] and scalar(store, "SELECT count(*) FROM visit WHERE site = 'bus-1'") == 2
