from datetime import date

import pytest

from counter.domain.dates import BirthDate
from counter.domain.schooling import coming_school_year, creche_entry_from, is_creche_age, school_level


def test_coming_school_year_switches_on_the_first_of_september():
    assert coming_school_year(date(2026, 8, 31)) == 2026
    assert coming_school_year(date(2026, 9, 1)) == 2027
    assert coming_school_year(date(2026, 11, 25)) == 2027


@pytest.mark.parametrize(
    "born, level",
    [
        (2025, "TPS"), (2024, "PS"), (2023, "MS"), (2022, "GS"), (2021, "CP"),
        (2020, "CE1"), (2019, "CE2"), (2018, "CM1"), (2017, "CM2"),
        (2016, None), (2026, None),
    ],
)
def test_level_depends_on_the_birth_year(born, level):
    # For the school year starting in September 2027, a child born in 2024 turns 3: PS.
    assert school_level(BirthDate(born, 12, 31), 2027) == level


def test_creche_age_and_entry():
    today = date(2026, 11, 25)
    assert is_creche_age(BirthDate(2026, 11, 1), today)
    assert is_creche_age(BirthDate(2023, 11, 26), today)
    assert not is_creche_age(BirthDate(2023, 11, 25), today)
    assert creche_entry_from(BirthDate(2026, 11, 1)) == date(2027, 1, 10)


def test_partial_birth_dates_display_and_age():
    assert BirthDate(1982, 12, 27).display() == "27/12/1982"
    assert BirthDate(1987, 6).display() == "--/06/1987"
    assert BirthDate(1950).display() == "--/--/1950"
    assert BirthDate(1982, 12, 27).age_on(date(2026, 12, 26)) == 43
    assert BirthDate(1982, 12, 27).age_on(date(2026, 12, 27)) == 44
    assert BirthDate(2026, 3, 10).age_label(date(2026, 11, 25)) == "8 m"
    assert BirthDate(1982, 12, 27).age_label(date(2026, 11, 25)) == "43"
    with pytest.raises(ValueError):
        BirthDate(1982, 2, 31)


@pytest.mark.parametrize(
    "born, role, label",
    [
        (BirthDate(2024, 3, 10), "child", "PS · crèche"),   # 2 now, petite section in 2027
        (BirthDate(2025, 6, 1), "child", "TPS · crèche"),
        (BirthDate(2023, 11, 30), "child", "MS"),         # 3 since yesterday: no longer crèche age
        (BirthDate(2023, 12, 5), "child", "MS · crèche"),  # 3 next week
        (BirthDate(2026, 10, 1), "child", "crèche"),      # a baby: no school level yet
        (BirthDate(2018, 7, 11), "child", "CM1"),
        (BirthDate(2010, 1, 1), "child", "—"),
        (BirthDate(1990, 2, 9), "parent", ""),
    ],
)
def test_household_level_shows_school_level_and_creche_age_together(born, role, label):
    from counter.domain.people import MemberView, PersonSummary

    member = MemberView(PersonSummary(1, "ROUX", None, ("Romy",), "F", born), role)
    assert member.level_label(date(2026, 12, 1)) == label
