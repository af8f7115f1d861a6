"""The accueil de loisirs' pure rules: the holiday calendar, weeks, age groups,
daily prices by QF, papers, places and the receipt's words."""

from __future__ import annotations

import tomllib
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from counter.domain.dates import BirthDate
from registrations.alsh.calendar import (
    DEFAULT_ZONE,
    ZONES,
    CalendarError,
    bookable_weeks,
    coming_holidays,
    easter,
    parse_calendar,
    public_holidays,
    shipped_calendar,
    weeks_of,
)
from registrations.alsh.rules import (
    DEFAULT_BRACKETS,
    HEALTH_RECORD,
    INSURANCE,
    QF_PROOF,
    AgeGroup,
    AgeRefused,
    AlshRequest,
    DailyBracket,
    Places,
    WeekPlace,
    age_group,
    alsh_papers,
    alsh_quote,
    check_alsh,
    check_brackets,
    chosen_weeks,
    daily_bracket,
    groups_of,
    overall_state,
    place_weeks,
    receipt_detail,
    receipt_what,
)

CALENDAR = shipped_calendar()
DAY = st.dates(min_value=date(2026, 9, 1), max_value=date(2027, 8, 31))


# -- the calendar ---------------------------------------------------------------------------


def test_the_shipped_calendar_has_every_period_in_every_zone():
    for zone in ZONES:
        names = [p.name for p in CALENDAR.of_zone(zone)]
        assert names == ["toussaint", "noel", "hiver", "printemps", "ete"], zone
    # Common periods are common; winter and spring are staggered, C first in 2026-2027.
    winter = {p.zone: p.start for p in CALENDAR.periods if p.name == "hiver"}
    assert winter["C"] < winter["A"] < winter["B"]
    assert len({p.start for p in CALENDAR.periods if p.name == "noel"}) == 1
    assert DEFAULT_ZONE == "B"


def test_holidays_start_after_a_saturday_and_resume_on_a_monday():
    for period in CALENDAR.periods:
        assert period.start.weekday() == 5, period.key
        if period.resume is not None:
            assert period.resume.weekday() == 0, period.key


def test_christmas_2026_has_two_weeks_without_christmas_and_new_years_day():
    noel = CALENDAR.period("2026-noel-B")
    assert noel.label == "vacances de Noël 2026"
    weeks = weeks_of(noel)
    assert [w.monday for w in weeks] == [date(2026, 12, 21), date(2026, 12, 28)]
    assert date(2026, 12, 25) not in weeks[0].days and len(weeks[0].days) == 4
    assert date(2027, 1, 1) not in weeks[1].days and len(weeks[1].days) == 4
    assert weeks[0].days_label == ("4 jours : lundi 21 décembre, mardi 22 décembre, mercredi 23 décembre, "
                                   "jeudi 24 décembre")
    assert weeks[0].closed == (date(2026, 12, 25),)
    assert weeks[1].short_label == "Semaine du 28/12/2026 — 4 jours (fermé le 01/01)"
    assert noel.title == "Vacances de Noël 2026"


def test_the_summer_runs_to_31_august_while_the_next_rentree_is_unknown():
    summer = CALENDAR.period("2026-ete-B")
    weeks = weeks_of(summer)
    assert weeks[0].monday == date(2027, 7, 5) and len(weeks[0].days) == 5
    assert date(2027, 7, 14) not in next(w for w in weeks if w.monday == date(2027, 7, 12)).days
    assert weeks[-1].monday == date(2027, 8, 30) and weeks[-1].days == (date(2027, 8, 30), date(2027, 8, 31))


def test_easter_and_the_public_holidays():
    assert easter(2026) == date(2026, 4, 5) and easter(2027) == date(2027, 3, 28)
    assert easter(2024) == date(2024, 3, 31) and easter(2038) == date(2038, 4, 25)
    holidays = public_holidays(2027)
    assert len(holidays) == 11
    assert {date(2027, 3, 29), date(2027, 5, 6), date(2027, 5, 17)} <= holidays  # Easter Monday, Ascension, Pentecost


@given(DAY, st.sampled_from(ZONES))
def test_weeks_are_mondays_to_fridays_of_days_off(today, zone):
    for period in CALENDAR.of_zone(zone):
        for week in weeks_of(period):
            assert week.monday.weekday() == 0 and week.days
            for day in week.days:
                assert week.monday <= day <= week.monday + timedelta(days=4)
                assert period.first_day <= day <= period.last_day
                assert day not in public_holidays(day.year)


@given(DAY, st.sampled_from(ZONES))
def test_the_coming_holidays_are_the_first_with_a_week_not_begun(today, zone):
    coming = coming_holidays(CALENDAR, zone, today)
    if coming is None:  # the last week of the calendar (from 30 August 2027) has begun
        assert today >= date(2027, 8, 30)
        return
    weeks = bookable_weeks(coming, today)
    assert weeks and all(w.monday > today for w in weeks)
    for earlier in CALENDAR.of_zone(zone):
        if earlier.start < coming.start:
            assert not bookable_weeks(earlier, today)


def test_coming_holidays_on_the_towns_days():
    assert coming_holidays(CALENDAR, "B", date(2026, 9, 1)).key == "2026-toussaint-B"
    assert coming_holidays(CALENDAR, "B", date(2026, 12, 5)).key == "2026-noel-B"
    # On Sunday 20 December the week of the 21st can still be booked; on Monday it has begun.
    assert [w.monday.day for w in bookable_weeks(CALENDAR.period("2026-noel-B"), date(2026, 12, 20))] == [21, 28]
    assert [w.monday.day for w in bookable_weeks(CALENDAR.period("2026-noel-B"), date(2026, 12, 21))] == [28]
    assert coming_holidays(CALENDAR, "B", date(2027, 1, 2)).key == "2026-hiver-B"
    assert coming_holidays(CALENDAR, "C", date(2027, 1, 2)).start == date(2027, 2, 6)
    assert coming_holidays(CALENDAR, "B", date(2027, 8, 30)) is None  # beyond the calendar


def _calendar(**period) -> dict:
    entry = {"name": "noel", "zones": ["A"], "start": date(2026, 12, 19), "resume": date(2027, 1, 4)} | period
    return {"year": [{"school_year": 2026, "source": "test", "rentree": date(2026, 9, 1), "period": [entry]}]}


@pytest.mark.parametrize(("change", "words"), [
    ({"colour": "blue"}, "unknown key 'colour'"),
    ({"name": "carnaval"}, "name"),
    ({"zones": ["D"]}, "zones"),
    ({"zones": []}, "zones"),
    ({"resume": None}, "only the summer"),
    ({"resume": date(2026, 12, 20)}, "resume"),
    ({"start": date(2026, 8, 1)}, "start"),
])
def test_a_wrong_calendar_is_refused_naming_the_entry(change, words):
    data = _calendar(**change)
    if change.get("resume", 0) is None:
        del data["year"][0]["period"][0]["resume"]
    with pytest.raises(CalendarError, match=words):
        parse_calendar(data)


def test_overlapping_periods_are_refused():
    data = _calendar()
    data["year"][0]["period"].append({"name": "hiver", "zones": ["A"], "start": date(2026, 12, 26),
                                      "resume": date(2027, 1, 11)})
    with pytest.raises(CalendarError, match="overlap"):
        parse_calendar(data)


def test_the_shipped_file_parses_as_toml_strictly():
    from importlib import resources

    text = resources.files("registrations.alsh").joinpath("holidays.toml").read_text(encoding="utf-8")
    assert parse_calendar(tomllib.loads(text)) == CALENDAR


# -- ages --------------------------------------------------------------------------------------


def test_age_groups_on_the_weeks_monday():
    monday = date(2026, 12, 21)
    assert age_group(BirthDate(2023, 12, 21), monday) is AgeGroup.MATERNELLE  # 3 that day
    assert age_group(BirthDate(2020, 12, 22), monday) is AgeGroup.MATERNELLE  # 5, 6 tomorrow
    assert age_group(BirthDate(2020, 12, 21), monday) is AgeGroup.ELEMENTAIRE
    assert age_group(BirthDate(2014, 12, 22), monday) is AgeGroup.ELEMENTAIRE  # 11, 12 tomorrow
    with pytest.raises(AgeRefused, match="à partir de 3 ans : l'enfant aura 2 ans le 21/12/2026"):
        age_group(BirthDate(2023, 12, 22), monday)
    with pytest.raises(AgeRefused, match="jusqu'à 11 ans : l'enfant aura 12 ans"):
        age_group(BirthDate(2014, 12, 21), monday)
    with pytest.raises(AgeRefused, match="pas encore né"):
        age_group(BirthDate(2027, 1, 1), monday)


@given(st.dates(min_value=date(2010, 1, 1), max_value=date(2026, 12, 31)), DAY)
def test_every_child_of_3_to_11_has_one_group_and_others_are_refused(born, monday):
    birth = BirthDate.of(born)
    if born > monday:
        with pytest.raises(AgeRefused):
            age_group(birth, monday)
        return
    age = birth.age_on(monday)
    if 3 <= age <= 11:
        assert age_group(birth, monday) is (AgeGroup.MATERNELLE if age < 6 else AgeGroup.ELEMENTAIRE)
    else:
        with pytest.raises(AgeRefused) as refused:
            age_group(birth, monday)
        assert "ans" in str(refused.value)


def test_a_child_turning_6_changes_group_between_weeks():
    noel = CALENDAR.period("2026-noel-B")
    request = AlshRequest(1, noel.key, ("2026-12-21", "2026-12-28"))
    groups = groups_of(request, noel, BirthDate(2020, 12, 25))
    assert [g for _, g in groups] == [AgeGroup.MATERNELLE, AgeGroup.ELEMENTAIRE]


# -- the checks ----------------------------------------------------------------------------------

TODAY = date(2026, 12, 5)
CHILD = BirthDate(2019, 3, 14)


def _check(weeks, birth=CHILD, today=TODAY, period="2026-noel-B", booked=()):
    return [(e.field, e.message) for e in check_alsh(AlshRequest(1, period, tuple(weeks)), birth, today,
                                                      CALENDAR, "B", booked)]


def test_two_weeks_of_the_coming_holidays_are_accepted():
    assert _check(["2026-12-21", "2026-12-28"]) == []


def test_what_the_checks_refuse_in_french():
    assert _check([]) == [("weeks", "Choisissez au moins une semaine.")]
    assert _check(["2026-12-21"], period="2026-hiver-B") == [
        ("period", "Les inscriptions sont ouvertes pour les vacances de Noël 2026 seulement.")]
    assert _check(["2026-12-21", "2026-12-21"]) == [("weeks", "La même semaine est choisie deux fois.")]
    assert _check(["2026-12-22"]) == [("weeks", "Semaine du 22/12/2026 : hors des vacances de Noël 2026 "
                                                "ou déjà commencée.")]
    assert _check(["pas une date"]) == [("weeks", "Semaine inconnue : hors des vacances de Noël 2026 "
                                                  "ou déjà commencée.")]
    assert _check(["2026-12-21"], booked={"2026-12-21"}) == [
        ("weeks", "L'enfant est déjà inscrit pour la semaine du 21/12/2026.")]
    toddler = _check(["2026-12-21", "2026-12-28"], birth=BirthDate(2024, 1, 3))
    assert toddler == [("person_id", "L'accueil de loisirs reçoit les enfants à partir de 3 ans : "
                                     "l'enfant aura 2 ans le 21/12/2026.")]
    assert _check(["2026-12-21"], today=date(2027, 8, 30), period="2026-ete-B")[0][0] == "period"
    assert "non renseigné après le 31/08/2027" in _check(["2026-12-21"], today=date(2027, 8, 30))[0][1]


# -- prices ---------------------------------------------------------------------------------------


def test_the_default_brackets_are_valid_and_without_qf_the_full_price_applies():
    check_brackets(DEFAULT_BRACKETS)
    assert daily_bracket(None, DEFAULT_BRACKETS).daily == Decimal("18.00")
    assert daily_bracket(400, DEFAULT_BRACKETS).daily == Decimal("4.50")
    assert daily_bracket(401, DEFAULT_BRACKETS).daily == Decimal("7.00")
    assert daily_bracket(99_999, DEFAULT_BRACKETS).daily == Decimal("18.00")
    with pytest.raises(ValueError):
        daily_bracket(-1, DEFAULT_BRACKETS)


@pytest.mark.parametrize("brackets", [
    (), (DailyBracket(400, Decimal(1)),), (DailyBracket(700, Decimal(1)), DailyBracket(400, Decimal(1)),
                                           DailyBracket(None, Decimal(2))),
    (DailyBracket(None, Decimal(1)), DailyBracket(None, Decimal(2))), (DailyBracket(None, Decimal(-1)),),
])
def test_wrong_brackets_are_refused(brackets):
    with pytest.raises(ValueError):
        check_brackets(brackets)


@given(st.one_of(st.none(), st.integers(0, 5000)), st.integers(0, 5000))
def test_a_higher_qf_never_pays_less(qf, more):
    lower = daily_bracket(qf, DEFAULT_BRACKETS).daily
    higher = daily_bracket(None if qf is None else qf + more, DEFAULT_BRACKETS).daily
    assert higher >= lower
    assert lower <= daily_bracket(None, DEFAULT_BRACKETS).daily


def test_the_quote_prices_each_open_day():
    weeks = weeks_of(CALENDAR.period("2026-noel-B"))
    quote = alsh_quote(weeks, 640, "CNAF")
    assert quote.total == Decimal("56.00") and not quote.declared and not quote.full_price
    assert quote.lines() == ("Prix par jour selon le QF 640 (CAF) : 7,00 €",
                             "Semaine du 21/12/2026 : 4 jours × 7,00 € = 28,00 €",
                             "Semaine du 28/12/2026 : 4 jours × 7,00 € = 28,00 €",
                             "Total : 56,00 €")
    declared = alsh_quote(weeks[:1], 300, "declared")
    assert declared.declared and declared.lines()[0] == "Prix par jour selon le QF 300 déclaré : 4,50 €"
    full = alsh_quote(weeks[:1], None, None)
    assert full.full_price and full.total == Decimal("72.00")
    assert full.lines()[0] == "Prix par jour : 18,00 € (tarif plein, sans quotient familial)"


# -- papers ---------------------------------------------------------------------------------------


def test_papers_and_what_waives_them():
    papers = alsh_papers(schooled_in_town=True, qf_confirmed_by="CAF")
    assert [(p.label, p.confirmed_by) for p in papers] == [
        (HEALTH_RECORD, "mairie (dossier scolaire)"), (INSURANCE, None), (QF_PROOF, "CAF")]
    assert papers[0].text.endswith("déjà confirmé par la mairie (dossier scolaire)")
    assert papers[2].text.endswith("déjà confirmé par la CAF")
    alone = alsh_papers(schooled_in_town=False, qf_confirmed_by=None)
    assert [p.to_provide for p in alone] == [True, True, True]
    assert alone[2].text == ("Attestation de quotient familial de la CAF ou de la MSA (sans elle : tarif plein) : "
                             "à fournir")
    assert alsh_papers(schooled_in_town=False, qf_confirmed_by="MSA")[2].text.endswith("par la MSA")


# -- places ---------------------------------------------------------------------------------------


def test_a_full_week_puts_the_child_on_its_waiting_list():
    noel = CALENDAR.period("2026-noel-B")
    first, second = (w.monday for w in weeks_of(noel))
    places = Places(capacity={(first, AgeGroup.MATERNELLE): 24, (second, AgeGroup.MATERNELLE): 24},
                    taken={(first, AgeGroup.MATERNELLE): 23, (second, AgeGroup.MATERNELLE): 24},
                    waiting={(second, AgeGroup.MATERNELLE): 2})
    request = AlshRequest(1, noel.key, (first.isoformat(), second.isoformat()))
    outcome = place_weeks(groups_of(request, noel, BirthDate(2022, 1, 1)), places)
    assert outcome == (WeekPlace(first, AgeGroup.MATERNELLE), WeekPlace(second, AgeGroup.MATERNELLE, 3))
    assert overall_state(outcome) == "registered"
    again = place_weeks(groups_of(request, noel, BirthDate(2022, 1, 2)), places)
    assert [p.rank for p in again] == [1, 4] and overall_state(again) == "waiting_list"
    assert receipt_detail(outcome) == ("semaine du 21/12/2026 (maternelle, 3-5 ans) : place réservée ; "
                                       "semaine du 28/12/2026 (maternelle, 3-5 ans) : liste d'attente, rang 3")
    assert receipt_what(noel) == "Accueil de loisirs — vacances de Noël 2026 (zone B)"


@given(st.integers(0, 30), st.integers(0, 30), st.integers(0, 5), st.integers(1, 40))
def test_places_are_never_given_beyond_capacity(capacity, taken, waiting, children):
    monday, group = date(2026, 12, 21), AgeGroup.ELEMENTAIRE
    places = Places({(monday, group): capacity}, {(monday, group): taken}, {(monday, group): waiting})
    outcome = [places.book(monday, group) for _ in range(children)]
    placed = sum(p.placed for p in outcome)
    assert placed == (min(children, max(0, capacity - taken)) if not waiting else 0)
    ranks = [p.rank for p in outcome if not p.placed]
    assert ranks == list(range(waiting + 1, waiting + 1 + len(ranks)))


def test_chosen_weeks_follow_the_calendar_order():
    noel = CALENDAR.period("2026-noel-B")
    request = AlshRequest(1, noel.key, ("2026-12-28", "2026-12-21", "2027-02-22"))
    assert [w.monday.day for w in chosen_weeks(request, noel)] == [21, 28]
