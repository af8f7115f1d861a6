"""Families from the family system written by source id, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from counter.clock import FixedClock
from counter.domain.dates import BirthDate
from counter.domain.family_records import SourceAddress, SourceFamily, SourcePerson
from counter.services import family_apply
from counter.services.family_apply import FamilyRejected, apply_families, apply_family
from counter.services.search import SearchService
from counter.store.models import Street, TownAddress
from tests.factories import TOWN

TODAY = date(2026, 11, 25)
TABLES = ("address", "household", "person", "household_member", "search_token")

MOTHER = SourcePerson("P000001", "parent", "Okonkwo", ("Adaeze", "Chioma"), "F", BirthDate(1990, 3, 14),
                      birth_country_code="99315", nir="290039931512345"[:13] + "00", phone="06 12 34 56 78",
                      email="a.okonkwo@example.org")
FATHER = SourcePerson("P000002", "parent", "Brunetti", ("Luca",), "M", BirthDate(1986),
                      birth_country_code="99127")
CHILD = SourcePerson("P000003", "child", "Brunetti", ("Chiara", "Ifeoma"), "F", BirthDate(2019, 9),
                     birth_insee_code="2A004")


def _nir(body: str) -> str:
    from counter.domain.nir import with_key

    return with_key(body)


MOTHER = replace(MOTHER, nir=_nir("2900399315123"))
HOME = SourceAddress(street="Rue des lilas", number=12, suffix="BIS", complement="Bât. B", postal_code=TOWN[0],
                     city=TOWN[1])
FAMILY = SourceFamily("F00001", (MOTHER, FATHER, CHILD), HOME, caf_number="0123456")


@pytest.fixture
def town(store):
    with store.write() as session:
        lilas = Street(name="rue des Lilas", postal_code=TOWN[0], city=TOWN[1])
        pasteur = Street(name="avenue Louis-Pasteur", postal_code=TOWN[0], city=TOWN[1])
        session.add_all([lilas, pasteur])
        session.flush()
        session.add_all([TownAddress(ban_id="45999_0010_00012_bis", street_id=lilas.id, number=12, suffix="bis",
                                     postal_code=TOWN[0]),
                         TownAddress(ban_id="45999_0010_00014", street_id=lilas.id, number=14,
                                     postal_code=TOWN[0])])
    return store


def counts(store) -> dict[str, int]:
    with store.engine.connect() as connection:
        return {t: connection.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}


def rows(store, sql: str) -> list[tuple]:
    with store.engine.connect() as connection:
        return [tuple(r) for r in connection.execute(text(sql))]


def apply(store, family: SourceFamily):
    with store.write() as session:
        return apply_family(session, family, today=TODAY)


def found(store, query: str) -> list[str]:
    outcome = SearchService(store, FixedClock(TODAY)).search(query)
    return [f"{r.person.birth_name} {', '.join(r.person.given_names)}" for r in outcome.results]


def test_a_new_family_is_created_with_its_ban_address_and_found_by_the_search(town):
    outcome = apply(town, FAMILY)
    assert outcome.status == "created" and len(outcome.created_person_ids) == 3
    assert rows(town, "SELECT source_id, caf_number FROM household") == [("F00001", "123456")]
    assert rows(town, "SELECT number, suffix, complement, ban_id FROM address") == [
        (12, "bis", "Bât. B", "45999_0010_00012_bis")]
    members = "SELECT p.source_id, m.role FROM household_member m JOIN person p ON p.id = m.person_id"
    assert sorted(rows(town, members)) == [("P000001", "parent"), ("P000002", "parent"), ("P000003", "child")]
    assert rows(town, "SELECT nir, phone, birth_month, birth_day FROM person WHERE source_id = 'P000003'") == [
        (None, None, 9, None)]
    assert found(town, "okonkwo ada") == ["OKONKWO Adaeze, Chioma"]
    assert found(town, "brunetti chiara") == ["BRUNETTI Chiara, Ifeoma"]
    assert found(town, "okonkvo adaeze") == ["OKONKWO Adaeze, Chioma"]  # a typo: the vocabulary has the name


def test_importing_the_same_family_again_changes_nothing(town):
    apply(town, FAMILY)
    before = counts(town)
    outcome = apply(town, FAMILY)
    assert outcome.status == "unchanged" and outcome.created_person_ids == ()
    assert counts(town) == before


def test_a_changed_family_is_updated_in_place_and_a_member_gone_is_detached_not_deleted(town):
    first = apply(town, FAMILY)
    renamed = replace(MOTHER, usage_name="Brunetti", phone=None)
    moved = SourceAddress(ban_id="45999_0010_00014")
    outcome = apply(town, replace(FAMILY, members=(renamed, CHILD), address=moved))
    assert outcome.status == "updated" and outcome.household_id == first.household_id
    assert outcome.updated_person_ids == (first.created_person_ids[0],)
    assert len(outcome.detached_person_ids) == 1
    assert counts(town)["person"] == 3  # the father is kept, out of the household
    assert sorted(rows(town, "SELECT p.source_id FROM household_member m JOIN person p ON p.id = m.person_id")) \
        == [("P000001",), ("P000003",)]
    assert rows(town, "SELECT a.number, a.suffix, a.ban_id FROM household h JOIN address a ON a.id = h.address_id") \
        == [(14, None, "45999_0010_00014")]
    assert found(town, "brunetti adaeze") == ["OKONKWO Adaeze, Chioma"]  # the usage name is indexed


def test_a_member_added_at_the_counter_is_kept_by_a_reimport(town):
    from counter.domain.identity_checks import PersonInput
    from counter.services.families import FamilyService

    outcome = apply(town, FAMILY)
    FamilyService(town, "agent", clock=FixedClock(TODAY)).add_member(outcome.household_id, PersonInput(
        birth_name="Brunetti", given_names="Nino", sex="M", birth_date="01/10/2026", birth_insee_code="45234",
        role="child"))
    again = apply(town, FAMILY)
    assert again.detached_person_ids == ()
    assert rows(town, "SELECT count(*) FROM household_member") == [(4,)]


def test_one_bad_member_refuses_the_whole_family_with_reasons_in_french_and_english(town):
    bad_child = replace(CHILD, birth=BirthDate(2030, 1, 1))
    bad_nir = replace(MOTHER, nir=MOTHER.nir[:13] + "00")
    before = counts(town)
    with pytest.raises(FamilyRejected) as refused:
        apply(town, replace(FAMILY, members=(bad_nir, FATHER, bad_child)))
    reasons = {(r.person, r.field): (r.fr, r.en) for r in refused.value.reasons}
    assert reasons[("P000003", "birth_date")] == ("La date de naissance est dans le futur.",
                                                  "birth date: in the future")
    assert reasons[("P000001", "nir")] == ("Clé NIR invalide.", "wrong NIR key")
    assert counts(town) == before


@pytest.mark.parametrize(("address", "field", "english"), [
    (SourceAddress(ban_id="45999_9999_00001"), "ban_id", "BAN id unknown"),
    (SourceAddress(street="rue des Lilas", number=99, postal_code=TOWN[0], city=TOWN[1]), "number",
     "not an address of this street"),
    (SourceAddress(street="rue des Mimosas", number=3, postal_code=TOWN[0], city=TOWN[1]), "street",
     "not in the town's street list"),
    (SourceAddress(street="avenue Louis-Pasteur", number=None, postal_code=TOWN[0], city=TOWN[1]), "number",
     "street number is required"),
    (SourceAddress(street="rue de Paris", number=3, postal_code="75001", city=""), "city", "city: required"),
])
def test_an_address_the_town_does_not_know_refuses_the_family(town, address, field, english):
    with pytest.raises(FamilyRejected) as refused:
        apply(town, replace(FAMILY, address=address))
    assert [(r.field, english in r.en) for r in refused.value.reasons] == [(field, True)]
    assert counts(town)["household"] == 0


def test_a_street_without_ban_numbers_and_an_address_elsewhere_are_accepted(town):
    apply(town, replace(FAMILY, address=SourceAddress(street="Avenue Louis Pasteur", number=3, postal_code=TOWN[0])))
    other = replace(FAMILY, source_id="F00002", members=(replace(FATHER, source_id="P000009"),),
                    address=SourceAddress(street="rue de Paris", number=3, suffix="bis", postal_code="75001",
                                          city="Paris"))
    apply(town, other)
    assert sorted(rows(town, "SELECT street_id IS NULL, number, line, postal_code, city FROM address")) == [
        (False, 3, None, TOWN[0], TOWN[1]), (True, None, "3 bis rue de Paris", "75001", "Paris")]


def test_a_nir_another_person_holds_refuses_the_family(town):
    apply(town, FAMILY)
    thief = SourceFamily("F00002", (replace(MOTHER, source_id="P000010"),), None)
    with pytest.raises(FamilyRejected) as refused:
        apply(town, thief)
    assert [(r.field, r.person) for r in refused.value.reasons] == [("nir", "P000010")]
    assert counts(town)["household"] == 1


def test_a_batch_writes_the_good_families_and_reports_the_bad_one(town):
    good = [replace(FAMILY, source_id=f"F1000{i}", caf_number=None, members=tuple(
        replace(m, source_id=f"{m.source_id}{i}", nir=None) for m in FAMILY.members)) for i in range(3)]
    bad = replace(good[1], members=(replace(good[1].members[0], role="child", birth=BirthDate(2020)),))
    with town.write() as session:
        results = apply_families(session, [good[0], bad, good[2]], today=TODAY)
    assert [type(r).__name__ for r in results] == ["FamilyOutcome", "FamilyRejected", "FamilyOutcome"]
    assert counts(town)["household"] == 2 and counts(town)["person"] == 6


def test_when_the_database_refuses_a_batch_each_family_is_written_alone(town, monkeypatch):
    """The batch's savepoint rolls back; every family is tried in a savepoint of its own."""
    families = [replace(FAMILY, source_id=f"F2000{i}", caf_number=None, members=tuple(
        replace(m, source_id=f"{m.source_id}{i}", nir=None) for m in FAMILY.members)) for i in range(3)]
    write = family_apply._write

    def refusing(session, batch):
        if len(batch) > 1 or batch[0].family.source_id == "F20001":
            write(session, batch)  # written, then refused: the savepoint must undo it
            raise IntegrityError("INSERT", {}, Exception("unique"))
        return write(session, batch)

    monkeypatch.setattr(family_apply, "_write", refusing)
    with town.write() as session:
        results = apply_families(session, families, today=TODAY)
    assert [type(r).__name__ for r in results] == ["FamilyOutcome", "FamilyRejected", "FamilyOutcome"]
    assert "database refused" in results[1].reasons[0].en
    assert rows(town, "SELECT source_id FROM household ORDER BY source_id") == [("F20000",), ("F20002",)]
    assert counts(town)["person"] == 6


def test_a_blank_nir_phone_email_or_caf_number_in_the_source_keeps_the_counters(town):
    apply(town, FAMILY)
    blank = replace(MOTHER, nir=None, phone=None, email=None, usage_name="Brunetti")
    outcome = apply(town, replace(FAMILY, members=(blank, FATHER, CHILD), caf_number=None))
    assert outcome.status == "updated"  # the usage name
    assert rows(town, "SELECT nir, phone, email, usage_name FROM person WHERE source_id = 'P000001'") == [
        (MOTHER.nir, "06 12 34 56 78", "a.okonkwo@example.org", "BRUNETTI")]
    assert rows(town, "SELECT caf_number FROM household") == [("123456",)]
