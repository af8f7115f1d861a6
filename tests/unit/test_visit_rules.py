"""The rules behind the visit's forms: school years open to registration, crèche
ages and due dates, who is asked for the custody judgment, prices that wait
for the agencies."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from counter.domain.dates import BirthDate
from counter.domain.rules import default_rules
from counter.domain.schooling import (
    add_months,
    creche_entry_from,
    current_school_year,
    latest_due_date,
    open_school_years,
)
from counter.domain.visits import VisitDraft
from counter.services.visit_summary import (
    PENDING,
    VisitFacts,
    confirm_blocker,
    papers_of,
    prices_of,
    qf_text,
    summarise,
)
from counter.services.visits import Member, Option, VisitContext
from registrations.creche.kind import CrecheRequest, check_creche
from registrations.school.kind import SchoolRequest, check_school

TODAY = date(2026, 12, 1)


# -- school years -------------------------------------------------------------------


@pytest.mark.parametrize("today, years", [
    (date(2026, 12, 1), (2026, 2027)),  # mid-year: the year under way and the coming one
    (date(2027, 6, 30), (2026, 2027)),
    (date(2027, 7, 1), (2027,)),  # summer: only the year that starts in September
    (date(2027, 8, 31), (2027,)),
    (date(2027, 9, 1), (2027, 2028)),
])
def test_the_school_year_under_way_is_open_until_the_summer(today, years):
    assert open_school_years(today) == years
    assert current_school_year(today) == (years[0] if len(years) == 2 else None)


def school(**changes) -> SchoolRequest:
    return replace(SchoolRequest(person_id=1, school_year=2027, level="GS", school_id=3, sector_school_id=3,
                                 separated_parents=False), **changes)


JADE = BirthDate(2022, 3, 14)  # MS in 2026-2027, GS in 2027-2028


def test_a_child_moving_in_mid_year_is_registered_for_the_year_under_way():
    years = open_school_years(TODAY)
    assert check_school(school(school_year=2026, level="MS"), JADE, set(), open_years=years) == []
    # The level follows the year chosen.
    assert [e.message for e in check_school(school(school_year=2026, level="PS"), JADE, set(), open_years=years)] == [
        "Le niveau de cet enfant pour 2026-2027 est MS."]


def test_a_year_not_open_is_refused_at_its_field():
    errors = check_school(school(school_year=2025, level="PS"), JADE, set(), open_years=(2026, 2027))
    assert [(e.field, e.message) for e in errors] == [
        ("school_year", "Les inscriptions sont ouvertes pour 2026-2027 et 2027-2028 seulement.")]


def test_one_live_registration_per_child_and_year_still_holds():
    years = open_school_years(TODAY)
    assert [e.field for e in check_school(school(school_year=2026, level="MS"), JADE, {2026}, open_years=years)] == [
        "school_year"]
    assert check_school(school(), JADE, {2026}, open_years=years) == []  # the other year is free


def test_a_lone_parent_is_asked_whether_the_parents_are_separated():
    unstated = school(separated_parents=None)
    assert [e.field for e in check_school(unstated, JADE, set(), open_years=(2027,), custody_asked=True)] == [
        "separated_parents"]
    assert check_school(unstated, JADE, set(), open_years=(2027,)) == []  # the household's data decides
    assert check_school(school(separated_parents=False), JADE, set(), open_years=(2027,), custody_asked=True) == []


# -- crèche ---------------------------------------------------------------------------


def creche(**changes) -> CrecheRequest:
    return replace(CrecheRequest(creche_ids=(1,), start_date=date(2027, 9, 1), days_per_week=4, hours_per_week=32,
                                 person_id=5), **changes)


def fields(errors) -> dict[str, str]:
    return {e.field: e.message for e in errors}


def test_a_child_under_ten_weeks_is_not_taken():
    born = BirthDate(2026, 11, 20)
    assert creche_entry_from(born) == date(2027, 1, 29)
    errors = fields(check_creche(creche(start_date=date(2026, 12, 10)), born, TODAY))  # 20 days old
    assert errors == {"start_date": "Une crèche accueille l'enfant à partir de 10 semaines : "
                                    "entrée possible dès le 29/01/2027."}
    assert check_creche(creche(start_date=date(2027, 1, 29)), born, TODAY) == []


def test_an_expected_birth_starts_ten_weeks_after_the_due_date():
    unborn = creche(person_id=None, due_date=date(2027, 3, 1), start_date=date(2027, 3, 2))  # a day after
    assert fields(check_creche(unborn, None, TODAY)) == {
        "start_date": "Une crèche accueille l'enfant à partir de 10 semaines : entrée possible dès le 10/05/2027."}
    assert check_creche(replace(unborn, start_date=date(2027, 5, 10)), None, TODAY) == []


def test_a_due_date_more_than_seven_months_ahead_is_too_early():
    assert latest_due_date(TODAY) == date(2027, 7, 1)
    assert add_months(date(2026, 7, 31), 7) == date(2027, 2, 28)
    far = creche(person_id=None, due_date=date(2028, 6, 1), start_date=date(2028, 9, 1))  # 18 months away
    assert fields(check_creche(far, None, TODAY)) == {
        "due_date": "Trop tôt : la demande se fait à partir du 3e mois de grossesse "
                    "(naissance prévue au plus tard le 01/07/2027)."}
    assert check_creche(replace(far, due_date=date(2027, 7, 1), start_date=date(2027, 9, 10)), None, TODAY) == []


def test_three_years_at_the_start_date_unless_a_disability_then_six():
    born = BirthDate(2024, 9, 1)
    late = creche(start_date=date(2027, 9, 1))  # 3 on the start date
    assert fields(check_creche(late, born, TODAY)) == {
        "start_date": "À cette date l'enfant aura 3 ans : une crèche accueille jusqu'à 3 ans "
                      "(6 ans en situation de handicap)."}
    assert check_creche(replace(late, start_date=date(2027, 8, 31)), born, TODAY) == []
    assert check_creche(replace(late, disability=True), born, TODAY) == []
    assert "6 ans" in fields(check_creche(replace(late, disability=True), BirthDate(2021, 9, 1),
                                          TODAY))["start_date"]


def test_a_due_date_passed_or_missing():
    assert "passée" in fields(check_creche(creche(person_id=None, due_date=date(2026, 11, 1)), None, TODAY))["due_date"]
    assert "Indiquez" in fields(check_creche(creche(person_id=None), None, TODAY))["due_date"]


# -- the summary: custody paper and prices that wait --------------------------------------


def context(members, separated=False) -> VisitContext:
    return VisitContext(visit_id=1, household_id=1, household="F-00001", address=None, members=tuple(members),
                        separated_parents=separated, school_year=2027, schools=(Option(3, "École A", "X", "maternelle"),),
                        creches=(Option(1, "Crèche B", "C1"),), school_years=(2026, 2027))


PARENT = Member(10, "parent", "MARTIN", None, ("Paul",), "M", BirthDate(1985, 1, 2))
OTHER = Member(11, "parent", "DURAND", None, ("Léa",), "F", BirthDate(1986, 3, 4))
CHILD = Member(1, "child", "MARTIN", None, ("Jade",), "F", JADE)


def custody(papers) -> bool:
    return any(p.label.startswith("Jugement") for p in papers)


def test_the_custody_judgment_follows_what_the_agent_states():
    lone = context([PARENT, CHILD])
    assert lone.lone_parent and lone.separated_default() is None
    assert context([PARENT, OTHER, CHILD]).separated_default() is False
    assert context([PARENT, OTHER, CHILD], separated=True).separated_default() is True
    facts = VisitFacts()
    assert custody(papers_of(school(separated_parents=True), lone, facts, TODAY))
    assert not custody(papers_of(school(separated_parents=False), context([PARENT, OTHER, CHILD], True), facts, TODAY))
    assert custody(papers_of(school(separated_parents=None), context([PARENT, OTHER, CHILD], True), facts, TODAY))


def test_prices_wait_for_the_agencies_and_the_visit_cannot_be_confirmed_meanwhile():
    rules = default_rules()
    ctx = context([PARENT, CHILD])
    request = school(canteen_days=("lun",))
    draft = VisitDraft(requests=[request])
    pending = VisitFacts(pending=True)
    prices = prices_of(request, draft, pending, rules, ctx, TODAY)
    assert prices == ("Cantine et périscolaire : tarif calculé dès que la CAF donne le quotient familial",)
    assert not any("plein" in p for p in prices)
    assert qf_text(draft, pending) == "en attente du quotient familial de la CAF…"
    assert confirm_blocker(pending) == PENDING
    assert summarise(draft, ctx, pending, rules, TODAY).pending
    assert prices_of(creche(), draft, pending, rules, ctx, TODAY) == (
        "Tarif horaire : calculé dès que la CAF donne les ressources de la famille",)

    # The agencies answered without a QF: the full price, saying why.
    done = VisitFacts(qf_missing="la CAF n'a pas répondu")
    assert confirm_blocker(done) is None
    assert prices_of(request, draft, done, rules, ctx, TODAY)[-1] == (
        "Tarif plein : aucun quotient familial connu (la CAF n'a pas répondu)")

    # A declared QF prices at once, marked as declared.
    declared = replace(draft, qf_value=640, qf_source="declared")
    assert prices_of(request, declared, done, rules, ctx, TODAY)[-1] == "Tarif selon QF 640 déclaré"
