"""A visit's bad registrations: a French message at the field, and confirming writes nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import text as sql

from counter.clock import FixedClock
from counter.domain.visits import VisitDraft
from registrations.creche.kind import CrecheRequest
from registrations.library.kind import LibraryRequest
from registrations.school.kind import SchoolRequest
from tests.badinput.corpus import params
from tests.conftest import TODAY

YEAR = 2027  # the coming school year on TODAY
TABLES = ("registration", "outbox", "audit_entry", "school_capacity", "person")
UNKNOWN = 999_999


def counts(store) -> dict[str, int]:
    with store.engine.connect() as connection:
        found = {t: connection.execute(sql(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}
        found["confirmed visits"] = connection.execute(
            sql("SELECT count(*) FROM visit WHERE state != 'draft'")).scalar_one()
        found["places booked"] = connection.execute(
            sql("SELECT coalesce(sum(booked), 0) FROM school_capacity")).scalar_one()
    return found


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A household (a parent, a CP pupil, a baby, a teenager), two schools, four crèches."""
    from counter.services.visits import VisitService
    from counter.store import migrate
    from counter.store.engine import Store
    from counter.store.models import Creche, School, SchoolCapacity
    from tests.factories import add_household, person

    store = Store(f"sqlite:///{tmp_path_factory.mktemp('visits') / 'visits.sqlite3'}")
    migrate.upgrade(store)
    household = add_household(store, "rue des Sablons", 86, [
        (person("GIRAUD", "Nadia", (1984, 5, 14)), "parent"),
        (person("GIRAUD", "Léa", (2021, 3, 2)), "child"),
        (person("GIRAUD", "Thi", (2026, 6, 1)), "child"),
        (person("GIRAUD", "Inès", (2012, 4, 10)), "child"),
    ])
    stranger = add_household(store, "rue des Lilas", 3, [(person("MARTIN", "Paul", (1980, 1, 1), sex="M"), "parent")])
    with store.write() as session:
        schools = [School(uai="0459999A", name="École Jules-Ferry", kind="elementaire"),
                   School(uai="0459998B", name="École Louise-Michel", kind="elementaire")]
        creches = [Creche(code=f"CR-{n}", name=f"Crèche {n}", capacity=40) for n in range(4)]
        session.add_all([*schools, *creches])
        session.flush()
        session.add(SchoolCapacity(school_id=schools[0].id, school_year=YEAR, level="CP", capacity=10))
        ids = {"sector": schools[0].id, "other": schools[1].id, "unknown": UNKNOWN,
               "first": creches[0].id, "second": creches[1].id, "third": creches[2].id, "fourth": creches[3].id}
    visits = VisitService(store, FixedClock(TODAY), "agent1", host="poste-1")
    members = {m.given_names[0]: m.person_id for m in visits.context(visits.start(household_id=household)).members}
    outsider = visits.context(visits.start(household_id=stranger)).members[0].person_id
    ids.update(parent=members["Nadia"], child=members["Léa"], baby=members["Thi"], teen=members["Inès"],
               stranger=outsider, unborn=None)
    yield visits, household, ids
    store.dispose()


def request_of(case: dict, ids: dict):
    """The case's request: a valid one of its kind, changed as the case says."""
    changes = dict(case.get("set", {}))
    changes.update({k: piece * times for k, (piece, times) in case.get("set_repeat", {}).items()})
    if case["kind"] == "school":
        base = SchoolRequest(ids["child"], YEAR, "CP", ids["sector"], ids["sector"], canteen_days=("lun", "jeu"),
                             separated_parents=False)
        names = {"person": "person_id", "school": "school_id", "sector": "sector_school_id"}
    elif case["kind"] == "creche":
        base = CrecheRequest((ids["first"],), date(2027, 1, 4), 4, 32.0, person_id=ids["baby"])
        names = {"person": "person_id"}
        if "creches" in changes:
            changes["creche_ids"] = tuple(ids[c] for c in changes.pop("creches"))
    else:
        base = LibraryRequest(ids["parent"], "ADULTE")
        names = {"person": "person_id", "guarantor": "guarantor_id"}
    fields = {}
    for key, value in changes.items():
        if key in names:
            fields[names[key]] = ids[value]
        else:
            fields[key] = tuple(value) if isinstance(value, list) else value
    return replace(base, **fields)


@pytest.mark.parametrize("case", params("visit_forms"))
def test_a_bad_request_is_named_and_confirming_writes_nothing(case, world):
    from counter.services.visits import VisitError

    visits, household, ids = world
    request = request_of(case, ids)
    visit_id = visits.start(household_id=household)
    draft = VisitDraft(household_id=household, requests=[request, request] if case.get("twice") else [request])
    visits.save(visit_id, draft)  # a draft survives anything typed (NaN included)
    draft = visits.load(visit_id)[1]

    found = visits.check(visits.context(visit_id), draft, {"ADULTE", "ENFANT", "ETUDIANT"})
    assert any(e.field == case["field"] and case["says"] in e.message for _, e in found), found

    before = counts(visits.store)
    with pytest.raises(VisitError) as refused:
        visits.confirm(visit_id, draft, code="RCP-0000-0000", payloads=lambda r, rid, s: ("op", {}))
    assert any(e.field == case["field"] for _, e in refused.value.errors)
    assert counts(visits.store) == before
    assert visits.load(visit_id)[0] == "draft"
