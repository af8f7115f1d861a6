"""`counter duplicates list|merge|dismiss` through the service and directly, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

from sqlalchemy import text

from counter.services.duplicates import review_new_persons
from counter.store.models import OutboxMessage, Person, Registration, Visit
from tests.factories import add_household, person
from tests.store.test_admin_through_service import AGENT, SUPERVISOR, site  # noqa: F401 (a fixture)


def _pair(store, *, school_years=(2026,), newer_years=(), newer_source_id=None, known_source_id=None):
    """A known child and, in another household, the same child recorded again by an import;
    school registrations for each given year. (known id, newer id, review id)."""
    add_household(store, "rue des Lilas", 3, [
        (person("GIRAUD", "Anne", (1985, 4, 2), birth_insee_code="45234"), "parent"),
        (person("GIRAUD", "Léa", (2020, 5, 4), birth_insee_code="45234", source_id=known_source_id), "child")])
    add_household(store, "rue Pasteur", 12, [
        (person("GIRAUD", "Lea", (2020, 5, 4), birth_insee_code="45234", source_id=newer_source_id,
                phone="0601020304"), "child")])
    with store.write() as session:
        known, newer = session.execute(text(
            "SELECT id FROM person WHERE birth_year = 2020 ORDER BY id")).scalars().all()
        assert review_new_persons(session, [newer], "import") == 1
        for person_id, years in ((known, school_years), (newer, newer_years)):
            household = session.execute(text("SELECT household_id FROM household_member WHERE person_id = :p"),
                                        {"p": person_id}).scalar_one()
            for year in years:
                visit = Visit(household_id=household, person_id=person_id, agent_login=AGENT, state="confirmed")
                session.add(visit)
                session.flush()
                registration = Registration(visit_id=visit.id, person_id=person_id, kind="school",
                                            state="registered", school_year=year, level="PS")
                session.add(registration)
                session.flush()
                session.add(OutboxMessage(registration_id=registration.id, target="city",
                                          operation="city.registration", payload="{}",
                                          idempotency_key=f"key-{registration.id}"))
        review = session.execute(text("SELECT id FROM duplicate_review")).scalar_one()
    return known, newer, review


def _audit(store, action: str) -> list[dict]:
    with store.engine.connect() as connection:
        rows = connection.execute(text("SELECT agent, target_id, details FROM audit_entry WHERE action = :a "
                                       "ORDER BY seq"), {"a": action}).all()
    return [{"agent": r.agent, "target": r.target_id, **json.loads(r.details)} for r in rows]


def test_list_shows_the_pending_pairs_with_names(site, store, capsys):
    known, newer, review = _pair(store)
    capsys.readouterr()
    assert site.run("duplicates", "list") == 0
    out = capsys.readouterr().out
    assert f"review {review}  pending  found " in out
    assert "by import: same name and birth date" in out
    assert f"newer      person {newer}: GIRAUD Lea, born 04/05/2020, household F-" in out
    assert f"candidate  person {known}: GIRAUD Léa, born 04/05/2020, household F-" in out
    assert f"counter duplicates merge {known} {newer}" in out
    assert site.direct("duplicates", "list") == 0
    assert capsys.readouterr().out == out
    # The trail has counts, never names.
    listed = _audit(store, "duplicates.list")
    assert listed[-1] == {"agent": SUPERVISOR, "target": "", "state": "pending", "count": 1}


def test_merge_moves_memberships_visits_and_registrations(site, store, capsys):
    known, newer, review = _pair(store, school_years=(), newer_years=(2026,), newer_source_id="FAM-9")
    capsys.readouterr()
    assert site.run("duplicates", "merge", str(known), str(newer)) == 0
    out = capsys.readouterr().out
    assert f"person {newer} merged into person {known} and removed: moved 1 household membership(s), " \
           "1 visit(s), 1 registration(s)" in out
    assert f"taken from person {newer} (person {known} had none): phone" in out
    assert f"the family system's id of person {newer} is now person {known}'s" in out
    with store.read() as session:
        kept, dropped = session.get(Person, known), session.get(Person, newer)
        assert (kept.source_id, kept.phone, kept.birth_name, kept.given_names) == ("FAM-9", "0601020304",
                                                                                  "GIRAUD", "Léa")
        assert dropped.removed_at is not None and dropped.source_id is None  # kept, never deleted
        assert session.execute(text("SELECT count(*) FROM household_member WHERE person_id = :p"),
                               {"p": known}).scalar() == 2
        assert session.execute(text("SELECT count(*) FROM registration WHERE person_id = :p"),
                               {"p": known}).scalar() == 1
        assert session.execute(text("SELECT state, decided_by FROM duplicate_review WHERE id = :r"),
                               {"r": review}).one() == ("merged", SUPERVISOR)
    merged = _audit(store, "duplicate.merge")
    assert merged == [{"agent": SUPERVISOR, "target": str(known), "dropped": newer, "review": review,
                       "memberships": 1, "visits": 1, "registrations": 1, "reviews": 0, "source_id": "moved",
                       "filled": ["phone"]}]
    assert site.run("audit", "verify") == 0
    assert site.run("duplicates", "list") == 0
    assert "no duplicates to review" in capsys.readouterr().out


def test_merge_keeps_the_kept_source_id_when_both_have_one(site, store, capsys):
    known, newer, _ = _pair(store, school_years=(), newer_source_id="FAM-9", known_source_id="FAM-1")
    capsys.readouterr()
    assert site.direct("duplicates", "merge", str(known), str(newer)) == 0
    assert "merge the two records in the family system too" in capsys.readouterr().out
    with store.read() as session:
        assert session.get(Person, known).source_id == "FAM-1"
        assert session.get(Person, newer).source_id == "FAM-9"


def test_merge_refused_when_both_are_registered_in_one_school_year(site, store, capsys):
    known, newer, review = _pair(store, school_years=(2026,), newer_years=(2026,))
    capsys.readouterr()
    assert site.run("duplicates", "merge", str(known), str(newer)) == 1
    assert capsys.readouterr().err == (
        "counter: refused: both persons have a school registration for 2026-2027: cancel the one too many "
        "(F9 at the counter, a supervisor) before merging; nothing merged\n")
    with store.read() as session:
        assert session.get(Person, newer).removed_at is None
        assert session.execute(text("SELECT state FROM duplicate_review")).scalar_one() == "pending"
    assert _audit(store, "duplicate.merge") == []
    assert site.run("duplicates", "merge", str(known), str(known)) == 1
    assert "KEEP and DROP are the same person" in capsys.readouterr().err
    assert site.run("duplicates", "merge", str(known), "999999") == 1
    assert "no person 999999" in capsys.readouterr().err


def test_dismiss_is_audited_and_the_pair_never_comes_back(site, store, capsys):
    known, newer, review = _pair(store)
    capsys.readouterr()
    assert site.run("duplicates", "dismiss", str(review)) == 0
    assert capsys.readouterr().out == f"review {review} dismissed: the pair will not be proposed again\n"
    assert _audit(store, "duplicate.dismiss") == [
        {"agent": SUPERVISOR, "target": str(review), "person": newer, "candidate": known}]
    with store.write() as session:
        assert review_new_persons(session, [newer], "sync") == 0
    assert site.run("duplicates", "dismiss", str(review)) == 1
    assert capsys.readouterr().err == f"counter: refused: review {review} is already dismissed\n"
    assert site.run("duplicates", "list", "--state", "dismissed") == 0
    assert f"review {review}  dismissed" in capsys.readouterr().out


def test_an_agent_is_refused_and_the_attempt_audited(site, store, capsys):
    known, newer, review = _pair(store)
    site.as_login(AGENT)
    capsys.readouterr()
    for argv in (["list"], ["merge", str(known), str(newer)], ["dismiss", str(review)]):
        assert site.run("duplicates", *argv) == 2, argv
        assert f"refused: '{AGENT}' (role agent) may not do 'duplicates'" in capsys.readouterr().err
    refused = [e for e in _audit(store, "forbidden") if e["action"] == "duplicates"]
    assert [e["agent"] for e in refused] == [AGENT] * 3
    with store.read() as session:
        assert session.execute(text("SELECT state FROM duplicate_review")).scalar_one() == "pending"


def test_merged_pairs_are_listed_with_the_removed_person(site, store, capsys):
    known, newer, review = _pair(store, school_years=())
    assert site.run("duplicates", "merge", str(known), str(newer)) == 0
    capsys.readouterr()
    assert site.run("duplicates", "list", "--state", "merged") == 0
    out = capsys.readouterr().out
    assert f"review {review}  merged" in out and f"newer      person {newer}: GIRAUD Lea" in out
    assert "counter duplicates merge" not in out


def _reviews_service(store, login=SUPERVISOR):
    from counter.services import audit
    from counter.services.duplicate_review import ReviewService

    return ReviewService(store, audit.Actor(login, "supervisor", "test-host"))


def test_merge_within_one_household_and_the_refusals(store):
    import pytest

    from counter.services.duplicate_review import DuplicateError

    add_household(store, "rue des Lilas", 3, [
        (person("GIRAUD", "Anne", (1985, 4, 2), nir="285044523400134"), "parent"),
        (person("GIRAUD", "Anne", (1985, 4, 2)), "parent"),
        (person("GIRAUD", "Anne", (1985, 4, 2), nir="285044523400255"), "parent")])
    with store.read() as session:
        first, second, third = session.execute(text("SELECT id FROM person ORDER BY id")).scalars().all()
        household = session.execute(text("SELECT household_id FROM household_member")).first()[0]
    reviews = _reviews_service(store)
    with pytest.raises(DuplicateError) as refused:
        reviews.merge(first, third)
    assert "two different NIRs" in refused.value.english() and "deux NIR différents" in str(refused.value)
    with store.write() as session:  # an unfinished visit with a request for the second Anne
        session.add(Visit(household_id=household, agent_login=AGENT, state="draft",
                          draft=json.dumps({"requests": [{"kind": "library", "person_id": second}]})))
    with pytest.raises(DuplicateError) as refused:
        reviews.merge(first, second)
    assert "unfinished visit" in refused.value.english()
    with store.write() as session:
        session.execute(text("UPDATE visit SET state = 'abandoned'"))
    report = reviews.merge(first, second)
    assert (report.memberships, report.visits, report.registrations, report.filled) == (0, 0, 0, ())
    with store.read() as session:  # one membership is enough: the dropped one's went
        assert session.execute(text("SELECT person_id FROM household_member ORDER BY person_id")
                               ).scalars().all() == [first, third]
    with pytest.raises(DuplicateError) as refused:
        reviews.merge(first, second)
    assert "removed already" in refused.value.english()
