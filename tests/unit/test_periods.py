"""A period typed on the statistics screen (« du jj/mm/aaaa au jj/mm/aaaa »): read and
checked in the domain, every refusal a French sentence naming the field to correct."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from counter.domain.periods import PeriodError, parse_day, parse_period
from counter.domain.statistics import MAX_DAYS


@pytest.mark.parametrize(("text", "expected"), [
    ("01/11/2026", date(2026, 11, 1)),
    (" 1/11/2026 ", date(2026, 11, 1)),
    ("01/11/26", date(2026, 11, 1)),
    ("01.11.2026", date(2026, 11, 1)),
    ("01-11-2026", date(2026, 11, 1)),
    ("01112026", date(2026, 11, 1)),
    ("011126", date(2026, 11, 1)),
    ("29/02/2028", date(2028, 2, 29)),
])
def test_a_day_is_read_as_agents_write_it(text, expected):
    assert parse_day(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("", "Date de début manquante (attendu jj/mm/aaaa)."),
    ("demain", "Date invalide : « demain » (attendu jj/mm/aaaa)."),
    ("2026-11-01", "Date invalide : « 2026-11-01 » (attendu jj/mm/aaaa)."),
    ("1/11/226", "Date invalide : « 1/11/226 » (attendu jj/mm/aaaa)."),
    ("31/02/2026", "Date invalide : « 31/02/2026 » (ce jour n'existe pas)."),
    ("00/11/2026", "Date invalide : « 00/11/2026 » (ce jour n'existe pas)."),
    ("01/13/2026", "Date invalide : « 01/13/2026 » (ce jour n'existe pas)."),
    ("01/01/1999", "Date invalide : « 01/01/1999 » (année de 2000 à 2099)."),
    ("x" * 40, f"Date invalide : « {'x' * 20}… » (attendu jj/mm/aaaa)."),
])
def test_a_bad_day_is_said_in_french(text, message):
    with pytest.raises(PeriodError) as refused:
        parse_day(text)
    assert str(refused.value) == message and refused.value.field == "since"


def test_a_period_is_its_two_days_both_included():
    assert parse_period("01/11/2026", "15/12/26") == (date(2026, 11, 1), date(2026, 12, 15))
    assert parse_period("01/11/2026", "01/11/2026") == (date(2026, 11, 1), date(2026, 11, 1))


def test_the_longest_period_is_the_services_limit():
    from counter.domain.statistics import StatsQuery, day_text
    from counter.services.statistics import StatisticsError, check_query

    first = date(2025, 1, 1)
    last = first + timedelta(days=MAX_DAYS - 1)  # MAX_DAYS days, both ends included
    assert parse_period("01/01/2025", day_text(last)) == (first, last)
    check_query(StatsQuery(first, last))  # what the service accepts too
    with pytest.raises(PeriodError) as refused:
        parse_period("01/01/2025", day_text(last + timedelta(days=1)))
    assert str(refused.value) == f"Période trop longue : {MAX_DAYS + 1} jours ({MAX_DAYS} au plus)."
    assert refused.value.field == "until"
    with pytest.raises(StatisticsError):
        check_query(StatsQuery(first, last + timedelta(days=1)))


@pytest.mark.parametrize(("since", "until", "message", "field"), [
    ("01/12/2026", "30/11/2026", "La date de fin (30/11/2026) précède la date de début (01/12/2026).", "until"),
    ("32/12/2026", "30/11/2026", "Date invalide : « 32/12/2026 » (ce jour n'existe pas).", "since"),
    ("01/12/2026", "", "Date de fin manquante (attendu jj/mm/aaaa).", "until"),
])
def test_a_bad_period_names_the_field_to_correct(since, until, message, field):
    with pytest.raises(PeriodError) as refused:
        parse_period(since, until)
    assert (str(refused.value), refused.value.field) == (message, field)


def test_a_weeks_bar_says_its_year_when_the_period_runs_over_two_years():
    from counter.domain import statistics as st

    weeks = (st.WeekTimes(date(2025, 1, 6), 3, 300.0, 600.0), st.WeekTimes(date(2026, 1, 5), 2, 120.0, None))
    year = st.Statistics(st.StatsQuery(date(2026, 1, 1), date(2026, 12, 31)), st.ALL, 5, waiting=weeks[1:])
    two = st.Statistics(st.StatsQuery(date(2025, 1, 1), date(2026, 12, 31)), st.ALL, 5, waiting=weeks)
    [in_year] = [c for c in st.charts(year) if c.title.startswith("Attente")]
    [over_two] = [c for c in st.charts(two) if c.title.startswith("Attente")]
    assert in_year.labels == ("05/01",)
    assert over_two.labels == ("06/01/2025", "05/01/2026")
    assert over_two.texts == ("5 min (p90 10 min)", "2 min (p90 —)")


@pytest.mark.parametrize("kind, anchor, period, before, words", [
    ("month", date(2026, 2, 14), (date(2026, 2, 1), date(2026, 2, 28)), date(2026, 1, 1), "février 2026"),
    ("month", date(2026, 1, 31), (date(2026, 1, 1), date(2026, 1, 31)), date(2025, 12, 1), "janvier 2026"),
    ("week", date(2026, 11, 26), (date(2026, 11, 23), date(2026, 11, 29)), date(2026, 11, 19),
     "semaine du 23/11/2026 au 29/11/2026"),
    ("year", date(2026, 6, 1), (date(2026, 1, 1), date(2026, 12, 31)), date(2025, 1, 1), "2026"),
])
def test_the_month_week_and_year_of_a_day_and_the_one_before(kind, anchor, period, before, words):
    from counter.domain.periods import period_heading, period_of, period_words, shifted

    assert period_of(kind, anchor) == period
    assert shifted(kind, anchor, -1) == before and period_of(kind, shifted(kind, before, 1))[0] == period[0]
    assert period_words(kind, *period) == words
    assert period_heading(kind, *period).startswith(words[0].upper() + words[1:])


def test_a_typed_period_moves_by_its_own_length():
    from counter.domain.periods import period_heading, shifted_days

    assert shifted_days(date(2026, 11, 10), date(2026, 11, 20), 1) == (date(2026, 11, 21), date(2026, 12, 1))
    assert period_heading("days", date(2026, 11, 10), date(2026, 11, 10)) == "Du 10/11/2026 au 10/11/2026 (1 jour)"
