"""Likely duplicates in the database (counter.services.duplicates), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from counter.domain.dates import BirthDate
from counter.domain.duplicates import NAME_BIRTH, NIR, TYPO_BIRTH_PLACE, Candidate
from counter.domain.family_records import SourcePerson
from counter.services import duplicates
from counter.services.duplicates import find_candidates, review_new_persons
from counter.store.models import Person
from tests.factories import add_household, person

NIR_A = "255081416802538"


def _town(store) -> dict[str, int]:
    people = {
        "alexis": person("LEFEBVRE", "Alexis, Jean", (1982, 12, 27), "M", birth_insee_code="45234"),
        "twin": person("LEFEBVRE", "Arthur", (1982, 12, 27), "M", birth_insee_code="45234"),
        "older": person("LEFEBVRE", "Alexis", (1950, 3, 1), "M", birth_insee_code="45234"),
        "jeanne": person("ROUX", "Jeanne", (1990, 5, 4), nir=NIR_A),
    }
    add_household(store, "rue des Lilas", 3, [(people["alexis"], "parent"), (people["twin"], "parent"),
                                                (people["older"], "other_guardian"), (people["jeanne"], "parent")])
    with store.read() as session:
        rows = session.execute(text("SELECT id, given_names, birth_year FROM person")).all()
    by_identity = {(r.given_names, r.birth_year): r.id for r in rows}
    keys = {"alexis": ("Alexis, Jean", 1982), "twin": ("Arthur", 1982), "older": ("Alexis", 1950),
            "jeanne": ("Jeanne", 1990)}
    return {name: by_identity[key] for name, key in keys.items()}


def _source(**extra) -> SourcePerson:
    fields = dict(source_id="S1", role="parent", birth_name="Lefèbvre", given_names=("Alexis",), sex="M",
                  birth=BirthDate(1982, 12, 27), birth_insee_code="45234")
    fields.update(extra)
    return SourcePerson(**fields)


def test_find_candidates_by_each_reason(store):
    ids = _town(store)
    with store.write() as session:
        assert find_candidates(session, _source()) == [Candidate(ids["alexis"], (NAME_BIRTH,))]
        assert find_candidates(session, _source(birth_name="LEFBVRE")) == [
            Candidate(ids["alexis"], (TYPO_BIRTH_PLACE,))]
        assert find_candidates(session, _source(birth_name="LEFBVRE", birth_insee_code="45235")) == []
        assert find_candidates(session, _source(birth=BirthDate(1982, 12, 28))) == []
        assert find_candidates(session, _source(birth_name="AUTRE", nir=NIR_A)) == [
            Candidate(ids["jeanne"], (NIR,))]
        assert find_candidates(session, _source(), exclude_ids=[ids["alexis"]]) == []


def test_removed_persons_are_never_candidates(store):
    ids = _town(store)
    with store.write() as session:
        session.get(Person, ids["alexis"]).removed_at = datetime.now(UTC)
    with store.read() as session:
        assert find_candidates(session, _source()) == []


def test_a_crowded_birth_date_is_searched_by_name(store, monkeypatch):
    ids = _town(store)
    monkeypatch.setattr(duplicates, "CROWDED", 1)  # two persons born on 27/12/1982: crowded
    with store.read() as session:
        assert find_candidates(session, _source()) == [Candidate(ids["alexis"], (NAME_BIRTH,))]
        assert find_candidates(session, _source(birth_name="LEFBVRE")) == [
            Candidate(ids["alexis"], (TYPO_BIRTH_PLACE,))]
        assert find_candidates(session, _source(given_names=("Alexsi",))) == [
            Candidate(ids["alexis"], (TYPO_BIRTH_PLACE,))]


def _reviews(store) -> list[tuple]:
    with store.read() as session:
        return [tuple(r) for r in session.execute(text(
            "SELECT person_id, candidate_id, reasons, source, state FROM duplicate_review ORDER BY id")).all()]


def test_review_new_persons_records_pending_pairs_once(store):
    ids = _town(store)
    with store.write() as session:
        new = person("LEFEBVRE", "Alexis", (1982, 12, 27), "M", birth_insee_code="45234")
        session.add(new)
        session.flush()
        new_id = new.id
        assert review_new_persons(session, [new_id], "import") == 1
    assert _reviews(store) == [(new_id, ids["alexis"], "name_birth", "import", "pending")]
    with store.write() as session:  # the same persons again: nothing new
        assert review_new_persons(session, [new_id], "sync") == 0
        assert review_new_persons(session, [ids["alexis"]], "sync") == 0  # the pair the other way round
    assert len(_reviews(store)) == 1


def test_a_dismissed_pair_never_comes_back(store):
    ids = _town(store)
    with store.write() as session:
        new = person("LEFEBVRE", "Alexis", (1982, 12, 27), "M", birth_insee_code="45234")
        session.add(new)
        session.flush()
        new_id = new.id
        review_new_persons(session, [new_id], "import")
    with store.write() as session:
        session.execute(text("UPDATE duplicate_review SET state = 'dismissed'"))
    with store.write() as session:
        assert review_new_persons(session, [new_id], "sync") == 0
    assert [r[4] for r in _reviews(store)] == ["dismissed"]
    assert ids


def test_two_new_persons_of_one_batch(store):
    _town(store)
    with store.write() as session:
        first = person("GIRAUD", "Anne", (1979, 2, 14), nir=None)
        second = person("GIRAUD", "Anne", (1979, 2, 14))
        session.add_all([first, second])
        session.flush()
        pair = first.id, second.id
        assert review_new_persons(session, list(pair), "import") == 1
    assert _reviews(store) == [(pair[1], pair[0], "name_birth", "import", "pending")]


def test_review_is_in_the_callers_transaction(store):
    _town(store)
    with pytest.raises(RuntimeError), store.write() as session:
        new = person("LEFEBVRE", "Alexis", (1982, 12, 27), "M")
        session.add(new)
        session.flush()
        assert review_new_persons(session, [new.id], "import") == 1
        raise RuntimeError("the import fails later")
    assert _reviews(store) == []


def test_unknown_source_refused(store):
    with store.write() as session, pytest.raises(ValueError):
        review_new_persons(session, [1], "elsewhere")


def test_a_new_family_with_a_known_member_is_written_only_once_declared_different(store):
    from counter.domain.identity_checks import PersonInput
    from counter.services.families import FamilyService, LikelyDuplicates

    ids = _town(store)
    with store.read() as session:
        street = session.execute(text("SELECT id FROM street")).scalar_one()
    member = PersonInput(birth_name="lefebvre", given_names="alexis", sex="M", birth_date="27/12/1982",
                         birth_insee_code="45234", role="parent")
    families = FamilyService(store, "agent")
    with pytest.raises(LikelyDuplicates) as raised:
        families.create(street, 5, None, None, [member])
    [match] = raised.value.matches
    assert (match.member_index, match.known.id, match.reasons) == (0, ids["alexis"], (NAME_BIRTH,))
    assert match.known.household_id is not None and match.known.address.street == "rue des Lilas"
    with store.read() as session:
        assert session.execute(text("SELECT count(*) FROM household")).scalar() == 1
    household = families.create(street, 5, None, None, [member], distinct_from=[ids["alexis"]])
    with store.read() as session:
        new = session.execute(text("SELECT person_id FROM household_member WHERE household_id = :h"),
                              {"h": household}).scalar_one()
        details = session.execute(text("SELECT details FROM audit_entry WHERE action = 'duplicate.distinct'")
                                  ).scalar_one()
    assert _reviews(store) == [(new, ids["alexis"], "name_birth", "counter", "dismissed")]
    assert '"candidate": %d' % ids["alexis"] in details and "LEFEBVRE" not in details.upper()


def test_candidates_are_read_through_indexes_never_a_full_scan(store):
    """At a million persons a scan would take seconds per new person: the birth date and
    the NIR are looked up in their indexes (the plan says so on both databases)."""
    from counter.services.duplicates import _birth_where

    where, params = _birth_where((1982, 12, 27))
    queries = {"ix_person_birth": f"SELECT id FROM person WHERE {where} AND removed_at IS NULL LIMIT 10",
               "nir": "SELECT id FROM person WHERE nir = :nir AND removed_at IS NULL"}
    with store.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if not sqlite:
            connection.exec_driver_sql("SET enable_seqscan = off")  # an empty table: show the usable index
        for index, sql in queries.items():
            plan = " ".join(str(r[-1] if sqlite else r[0]) for r in connection.execute(
                text(("EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN ") + sql), {**params, "nir": "x"}))
            assert "Seq Scan" not in plan and "SCAN person" not in plan, plan
            assert index in plan or (index == "nir" and ("autoindex_person" in plan or "person_nir_key" in plan)), plan


def test_review_in_small_chunks_and_on_a_crowded_date(store, monkeypatch):
    ids = _town(store)
    monkeypatch.setattr(duplicates, "CHUNK", 1)  # every new person in a round of its own
    monkeypatch.setattr(duplicates, "CROWDED", 1)  # 27/12/1982 is crowded: names drive
    with store.write() as session:
        typo = person("LEFBVRE", "Alexis", (1982, 12, 27), "M", birth_insee_code="45234")
        other_nir = person("AUTRE", "Nom", (2001, 1, 1), nir="1" + NIR_A[1:-2] + "00")
        nir_twin = person("ROUX", "Jeanne", (1990, 5, 4))
        session.add_all([typo, other_nir, nir_twin])
        session.flush()
        new = [typo.id, other_nir.id, nir_twin.id]
        assert review_new_persons(session, new, "sync") == 2
    assert _reviews(store) == [(new[0], ids["alexis"], "typo_birth_place", "sync", "pending"),
                               (new[2], ids["jeanne"], "name_birth", "sync", "pending")]
