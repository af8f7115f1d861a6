"""A new family written in one transaction, on SQLite and PostgreSQL."""

import json
from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import text

from counter.clock import FixedClock
from counter.domain.identity_checks import PersonInput
from counter.services.families import FamilyError, FamilyService
from counter.services.households import HouseholdService
from counter.services.search import SearchService
from counter.store.models import Street
from tests.factories import TOWN, add_household, person

TODAY = date(2026, 11, 25)
MOTHER = PersonInput(birth_name="Okonkwo", given_names="adaeze chioma", sex="F", birth_date="14/03/1990",
                     birth_country_code="99315", role="parent")
FATHER = PersonInput(birth_name="Brunetti", given_names="Luca", sex="M", birth_date="1986",
                     birth_country_code="99127", role="parent")
CHILD = PersonInput(birth_name="Brunetti", given_names="Chiara, Ifeoma", sex="F", birth_date="02/09/2019",
                    birth_insee_code="2A004", role="child")
TABLES = ("address", "household", "person", "household_member", "audit_entry", "search_token")


def streets(store) -> dict[str, int]:
    with store.write() as session:
        for name in ("rue des Lilas", "avenue Louis-Pasteur", "allée de l'Étang"):
            session.add(Street(name=name, postal_code=TOWN[0], city=TOWN[1]))
    with store.engine.connect() as connection:
        return dict(connection.execute(text("SELECT name, id FROM street")).all())


def counts(store) -> dict[str, int]:
    with store.engine.connect() as connection:
        return {t: connection.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}


def audit(store) -> list[tuple]:
    with store.engine.connect() as connection:
        return [(r.agent, r.host, r.action, r.target_type, r.target_id, json.loads(r.details)) for r in connection.execute(
            text("SELECT agent, host, action, target_type, target_id, details FROM audit_entry ORDER BY id"))]


def service(store) -> FamilyService:
    return FamilyService(store, "agent1", host="guichet-1", clock=FixedClock(TODAY))


def test_streets_are_listed_alphabetically_ignoring_accents(store):
    ids = streets(store)
    assert service(store).streets() == [
        (ids["allée de l'Étang"], "allée de l'Étang"), (ids["avenue Louis-Pasteur"], "avenue Louis-Pasteur"),
        (ids["rue des Lilas"], "rue des Lilas")]


def test_a_new_family_is_found_by_the_search_and_shown_with_its_street(store):
    ids = streets(store)
    household_id = service(store).create(ids["avenue Louis-Pasteur"], 12, "bis", " Bâtiment  B ",
                                         [MOTHER, FATHER, CHILD])
    view = HouseholdService(store).get(household_id)
    assert view.address.one_line() == "12 bis avenue Louis-Pasteur, Bâtiment B, 45999 Bellerive-sur-Loire"
    assert [(m.role, m.person.birth_name, m.person.given_names, m.person.birth.display()) for m in view.members] == [
        ("parent", "BRUNETTI", ("Luca",), "--/--/1986"),  # adults first, eldest first
        ("parent", "OKONKWO", ("Adaeze", "Chioma"), "14/03/1990"),
        ("child", "BRUNETTI", ("Chiara", "Ifeoma"), "02/09/2019"),
    ]
    with store.engine.connect() as connection:
        places = connection.execute(text(
            "SELECT birth_insee_code, birth_country_code FROM person ORDER BY id")).all()
    assert [tuple(p) for p in places] == [(None, "99315"), (None, "99127"), ("2A004", "99100")]

    search = SearchService(store, FixedClock(TODAY))
    found = search.search("brunetti chiara").results
    assert [(r.person.given_names, r.person.household_id) for r in found] == [(("Chiara", "Ifeoma"), household_id)]
    assert [r.person.birth_name for r in search.search("okonkwo").results] == ["OKONKWO"]
    # The vocabulary follows: a one-letter typo still finds her.
    assert [r.person.birth_name for r in search.search("okonkow adaeze").results] == ["OKONKWO"]

    assert audit(store) == [("agent1", "guichet-1", "household.create", "household", str(household_id),
                             {"adults": 2, "children": 1, "members": 3})]


def test_an_invalid_member_writes_nothing_and_says_where(store):
    ids = streets(store)
    before = counts(store)
    bad = replace(CHILD, birth_date="31/02/2019")
    with pytest.raises(FamilyError) as raised:
        service(store).create(ids["rue des Lilas"], 3, None, None, [MOTHER, bad])
    assert [(i, e.field, e.message) for i, e in raised.value.errors] == [
        (1, "birth_date", "Cette date n'existe pas (31/02/2019).")]
    with pytest.raises(FamilyError) as raised:
        service(store).create(ids["rue des Lilas"], 3, None, None, [CHILD])
    assert [(i, e.field) for i, e in raised.value.errors] == [(None, "members")]
    with pytest.raises(FamilyError) as raised:
        service(store).create(424242, 3, None, None, [MOTHER])
    assert [(i, e.field) for i, e in raised.value.errors] == [(None, "street")]
    assert counts(store) == before


def test_a_failure_half_way_leaves_nothing(store, monkeypatch):
    ids = streets(store)
    before = counts(store)
    families = service(store)
    written = []
    real = families._add_person

    def fail_on_the_third(session, household_id, member):
        if len(written) == 2:
            raise RuntimeError("disk full")
        written.append(real(session, household_id, member))
        return written[-1]

    monkeypatch.setattr(families, "_add_person", fail_on_the_third)
    with pytest.raises(RuntimeError):
        families.create(ids["rue des Lilas"], 3, None, None, [MOTHER, FATHER, CHILD])
    assert len(written) == 2  # two persons were flushed, then rolled back
    assert counts(store) == before
    assert SearchService(store, FixedClock(TODAY)).search("okonkwo").results == ()


def test_a_failing_audit_rolls_the_family_back(store, monkeypatch):
    ids = streets(store)
    before = counts(store)
    families = service(store)
    monkeypatch.setattr(families, "_audit", lambda *a: (_ for _ in ()).throw(RuntimeError("audit down")))
    with pytest.raises(RuntimeError):
        families.create(ids["rue des Lilas"], 3, None, None, [MOTHER, CHILD])
    assert counts(store) == before


def test_add_member_is_audited_and_refuses_a_duplicate(store):
    ids = streets(store)
    families = service(store)
    household_id = families.create(ids["rue des Lilas"], 3, None, None, [MOTHER])
    baby = PersonInput(birth_name="Okonkwo", given_names="Obi", sex="M", birth_date="01/10/2026",
                       birth_insee_code="45234", role="child")
    person_id = families.add_member(household_id, baby)
    view = HouseholdService(store).get(household_id)
    assert [(m.person.id, m.role) for m in view.members][-1] == (person_id, "child")
    assert audit(store)[-1] == ("agent1", "guichet-1", "household.add_member", "household", str(household_id),
                                {"person": person_id, "role": "child"})
    assert [r.person.id for r in SearchService(store, FixedClock(TODAY)).search("okonkwo obi").results] == [person_id]

    before = counts(store)
    with pytest.raises(FamilyError) as raised:
        families.add_member(household_id, replace(baby, birth_name="OKONKWO"))
    assert raised.value.errors[0][1].field == "members"
    with pytest.raises(FamilyError) as raised:
        families.add_member(household_id, replace(baby, given_names="Obi 2"))
    assert raised.value.errors[0][1].field == "given_names"
    with pytest.raises(FamilyError) as raised:
        families.add_member(424242, replace(baby, given_names="Ada"))
    assert raised.value.errors[0][1].field == "household"
    assert counts(store) == before


def test_add_member_to_a_household_of_the_town(store):
    household_id = add_household(store, "rue des Lilas", 4, [(person("GARNIER", "Julie", (1998, 1, 2)), "parent")])
    child = PersonInput(birth_name="Garnier", given_names="Léo", sex="M", birth_date="27/05/2021",
                        birth_insee_code="45999", role="child")
    service(store).add_member(household_id, child)
    assert [m.person.given_names for m in HouseholdService(store).get(household_id).members] == [("Julie",), ("Léo",)]


def test_set_address_in_the_town_or_as_an_agency_gives_it(store):
    ids = streets(store)
    families = service(store)
    household_id = families.create(ids["rue des Lilas"], 3, None, None, [MOTHER])
    families.set_address(household_id, ids["allée de l'Étang"], 7, "ter", None)
    assert HouseholdService(store).get(household_id).address.one_line() == (
        "7 ter allée de l'Étang, 45999 Bellerive-sur-Loire")
    address_id = families.set_address(household_id, None, line=" 8  rue Bannier ", postal_code="45000",
                                      city="Orléans", complement="Appt 12")
    view = HouseholdService(store).get(household_id)
    assert view.address.one_line() == "8 rue Bannier, Appt 12, 45000 Orléans"
    assert [a[2:] for a in audit(store)[1:]] == [
        ("household.address", "household", str(household_id), {"address": address_id - 1, "in_town": True}),
        ("household.address", "household", str(household_id), {"address": address_id, "in_town": False}),
    ]

    before = counts(store)
    with pytest.raises(FamilyError) as raised:
        families.set_address(household_id, None, line="", postal_code="45000", city="")
    assert [e.field for _, e in raised.value.errors] == ["line", "city"]
    with pytest.raises(FamilyError) as raised:
        families.set_address(household_id, ids["rue des Lilas"], 0)
    assert [e.field for _, e in raised.value.errors] == ["number"]
    with pytest.raises(FamilyError) as raised:
        families.set_address(424242, ids["rue des Lilas"], 1)
    assert [e.field for _, e in raised.value.errors] == ["household"]
    with pytest.raises(FamilyError) as raised:
        families.set_address(household_id, 424242, 1)
    assert [e.field for _, e in raised.value.errors] == ["street"]
    assert counts(store) == before
    assert HouseholdService(store).get(household_id).address.one_line() == "8 rue Bannier, Appt 12, 45000 Orléans"
