"""`counter tour prepare`: the roaming bus's replica, from a town's database on SQLite and
PostgreSQL (docs/tour.md)."""

from __future__ import annotations

import json
import os
import stat
from datetime import date

import pytest
from sqlalchemy import text

from counter.clock import FixedClock
from counter.domain.visits import VisitDraft
from counter.services import audit
from counter.services.search import SearchService
from counter.services.tour_prepare import PrepareError, prepare_replica
from counter.services.visits import VisitService
from counter.store import migrate
from counter.store.engine import Store
from counter.store.models import DuplicateReview, School, SchoolCapacity
from registrations.school.kind import SchoolRequest
from tests.factories import add_household, person

TODAY = date(2026, 11, 25)
YEAR = 2027


@pytest.fixture
def town(store):
    """Two families on two streets; the first has a confirmed school registration, a draft,
    and a pending duplicate review; the town's audit trail is not empty."""
    sablons = add_household(store, "rue des Sablons", 86, [
        (person("GIRAUD", "Nadia", (1984, 5, 14), nir="284054599900112"), "parent"),
        (person("GIRAUD", "Léa", (2021, 3, 2)), "child")])
    lilas = add_household(store, "rue des Lilas", 3, [
        (person("FONTAINE", "Marc", (1979, 1, 30), sex="M"), "parent"),
        (person("FONTAINE", "Jules", (2020, 7, 8), sex="M"), "child")])
    with store.write() as session:
        school = School(uai="0459999A", name="École Jules-Ferry", kind="elementaire")
        session.add(school)
        session.flush()
        session.add(SchoolCapacity(school_id=school.id, school_year=YEAR, level="CP", capacity=5))
        school_id = school.id
    visits = VisitService(store, FixedClock(TODAY), "agent1", host="poste-1")
    members = visits.context(visits.start(household_id=sablons)).members
    nadia, lea = (m.person_id for m in members)
    visit_id = visits.start(household_id=sablons)
    draft = VisitDraft(household_id=sablons, requests=[SchoolRequest(lea, YEAR, "CP", school_id, school_id,
                                                                     separated_parents=False)])
    visits.confirm(visit_id, draft, code="RCP-TEST-0001", payloads=lambda r, i, s: ("city.registration", {}))
    marc = visits.context(visits.start(household_id=lilas)).members[0].person_id
    with store.write() as session:
        session.add(DuplicateReview(person_id=marc, candidate_id=nadia, reasons="name_birth", source="counter"))
    with store.engine.connect() as connection:
        streets = dict(connection.execute(text("SELECT name, id FROM street")).all())
    return {"sablons": sablons, "lilas": lilas, "lea": lea, "nadia": nadia, "visit": visit_id,
            "streets": streets, "school": school_id}


def count(store, table: str, where: str = "") -> int:
    with store.engine.connect() as connection:
        return connection.execute(text(f"SELECT count(*) FROM {table} {where}")).scalar_one()


def meta(store) -> dict[str, str]:
    with store.engine.connect() as connection:
        return dict(connection.execute(text("SELECT key, value FROM store_meta")).all())


def test_a_route_replica_holds_the_route_s_families_and_the_whole_town_s_references(store, town, tmp_path):
    path = tmp_path / "bus" / "replica.sqlite3"
    report = prepare_replica(store, f"sqlite:///{path}", bus="bus-1", streets=[town["streets"]["rue des Sablons"]])
    replica = Store(f"sqlite:///{path}")
    try:
        assert migrate.current_revision(replica) == migrate.HEAD
        with replica.engine.connect() as connection:
            assert connection.execute(text("SELECT id FROM household")).scalars().all() == [town["sablons"]]
            names = connection.execute(text("SELECT birth_name FROM person ORDER BY id")).scalars().all()
            # Every street and school travels, whatever the route (new families, sectors).
            assert connection.execute(text("SELECT count(*) FROM street")).scalar() == 2
            visit = connection.execute(text("SELECT id, state, draft, receipt, code FROM visit")).one()
            registration = connection.execute(text("SELECT person_id, state, kind FROM registration")).one()
            capacity = connection.execute(text("SELECT capacity, booked FROM school_capacity")).one()
        assert names == ["GIRAUD", "GIRAUD"]  # the ids as they are: the other street's family stays home
        assert tuple(visit) == (town["visit"], "confirmed", "{}", None, None)  # no draft, no receipt
        assert tuple(registration) == (town["lea"], "registered", "school")  # « déjà inscrit » on board
        assert tuple(capacity) == (5, 1)  # the places left when the bus left
        for table in ("outbox", "audit_entry", "duplicate_review", "tour_applied", "sync_state"):
            assert count(replica, table) == 0, table
        facts = meta(replica)
        assert facts["tour.bus"] == "bus-1"
        assert facts["tour.route"] == str(town["streets"]["rue des Sablons"])
        assert facts["tour.max.household"] == str(town["sablons"])
        assert facts["tour.max.person"] == str(town["lea"])
        assert facts["tour.max.visit"] == str(town["visit"])
        assert facts["tour.central"] == store.describe()[:200]  # its password hidden, if it had one
        assert facts["tour.prepared_at"].endswith("+00:00")
        assert report.counts["person"] == 2 and report.highest["household"] == town["sablons"]
        # The replica's own chain starts empty and verifies.
        assert audit.verify(replica) == (None, 0)
    finally:
        replica.dispose()
    # Central says who copied what (no names), and its chain still verifies.
    with store.engine.connect() as connection:
        entry = connection.execute(text("SELECT action, target_id, details FROM audit_entry "
                                        "WHERE action = 'tour.prepare'")).one()
    assert entry.target_id == "bus-1"
    assert json.loads(entry.details) == {"bus": "bus-1", "households": 1, "persons": 2, "registrations": 1,
                                         "route": [town["streets"]["rue des Sablons"]]}
    assert audit.verify(store)[0] is None


def test_the_replica_s_search_finds_the_copied_persons_and_only_them(store, town, tmp_path):
    path = tmp_path / "bus" / "replica.sqlite3"
    prepare_replica(store, f"sqlite:///{path}", bus="bus-1", streets=[town["streets"]["rue des Sablons"]])
    replica = Store(f"sqlite:///{path}")
    try:
        search = SearchService(replica, FixedClock(TODAY))
        assert [r.person.id for r in search.search("giraud lea").results] == [town["lea"]]
        assert [r.person.id for r in search.search("giraut nadia").results] == [town["nadia"]]  # a typo
        assert search.search("fontaine").results == ()
        with replica.engine.connect() as connection:
            tokens = set(connection.execute(text("SELECT token FROM search_token")).scalars())
        assert "giraud" in tokens and "fontaine" not in tokens  # the other names stay at the town hall
    finally:
        replica.dispose()


def test_the_whole_town_travels_without_a_route(store, town, tmp_path):
    path = tmp_path / "bus" / "replica.sqlite3"
    report = prepare_replica(store, f"sqlite:///{path}", bus="bus-2")
    replica = Store(f"sqlite:///{path}")
    try:
        assert count(replica, "household") == 2 and count(replica, "person") == 4
        assert meta(replica)["tour.route"] == "all"
        assert [r.person.birth_name for r in SearchService(replica, FixedClock(TODAY)).search("fontaine jules")
                .results] == ["FONTAINE"]
        assert report.route is None
    finally:
        replica.dispose()


def test_the_replica_is_private_and_never_replaced(store, town, tmp_path):
    folder = tmp_path / "tour" / "bus"
    path = folder / "replica.sqlite3"
    prepare_replica(store, f"sqlite:///{path}", bus="bus-1")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    assert sorted(os.listdir(folder)) == ["replica.sqlite3"]  # no partial file, no WAL left behind
    before = path.read_bytes()
    with pytest.raises(PrepareError, match="exists already"):
        prepare_replica(store, f"sqlite:///{path}", bus="bus-1")
    assert path.read_bytes() == before
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)
    with pytest.raises(PrepareError, match="open to other accounts"):
        prepare_replica(store, f"sqlite:///{shared / 'replica.sqlite3'}", bus="bus-1")
    assert os.listdir(shared) == []


@pytest.mark.parametrize("kwargs, message", [
    ({"bus": "Bus 1"}, "invalid bus name"),
    ({"bus": "bus-1", "streets": [999999]}, "unknown street"),
    ({"bus": "bus-1", "streets": []}, "no street"),
])
def test_bad_input_writes_nothing(store, town, tmp_path, kwargs, message):
    folder = tmp_path / "bus"
    entries = count(store, "audit_entry")
    with pytest.raises(PrepareError, match=message):
        prepare_replica(store, f"sqlite:///{folder / 'replica.sqlite3'}", **kwargs)
    assert not folder.exists() or os.listdir(folder) == []
    assert count(store, "audit_entry") == entries


def test_a_replica_is_a_sqlite_file(store, town, tmp_path):
    with pytest.raises(PrepareError, match="SQLite file"):
        prepare_replica(store, "postgresql://bus@127.0.0.1/replica", bus="bus-1")
