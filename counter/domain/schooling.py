"""School years open to registration, school levels and crèche age (see docs/visits.md).

A child enters petite section (PS) in the September of the calendar year of its
3rd birthday; toute petite section (TPS) is possible from 2. The level
therefore depends only on the birth year and the school year's start.

Source of these rules: the shared domain facts, ``shared/reference/DOMAIN.md``
(sections "School levels (France)" and "Crèche (EAJE financed by the CAF
'PSU')"): PS in the September of the calendar year of the 3rd birthday, TPS
from 2, then MS, GS, CP, CE1, CE2, CM1, CM2; crèches take children from 10
weeks to 3 years (older with a disability: 6, the EAJE limit of the Code de la
santé publique, R2324-17); applications from the 3rd month of pregnancy.
"""

from __future__ import annotations

from datetime import date, timedelta

from counter.domain.dates import BirthDate

LEVELS: tuple[str, ...] = ("TPS", "PS", "MS", "GS", "CP", "CE1", "CE2", "CM1", "CM2")
_FIRST_LEVEL_AGE = 2  # TPS
SCHOOL_YEAR_START_MONTH = 9
# The last day a school year still takes registrations: the summer holidays
# start early in July, so from 1 July only the coming year is offered.
SCHOOL_YEAR_LAST_REGISTRATION = (6, 30)

CRECHE_MIN_AGE = timedelta(weeks=10)
CRECHE_MAX_YEARS = 3
# EAJE take children under 6 (Code de la santé publique, R2324-17): the limit a
# crèche keeps for a child with a disability, where 3 years is the rule.
CRECHE_MAX_YEARS_DISABILITY = 6
# Applications from the 3rd month of pregnancy: a due date at most 7 months ahead.
DUE_DATE_MAX_MONTHS_AHEAD = 7


def coming_school_year(today: date) -> int:
    """Start year of the next school year to register for.

    Before 1 September it is the one starting this September; from 1 September
    on, the current year has begun and registrations are for the next one.
    """
    if (today.month, today.day) < (SCHOOL_YEAR_START_MONTH, 1):
        return today.year
    return today.year + 1


def current_school_year(today: date) -> int | None:
    """Start year of the school year under way, while it still takes registrations
    (a family moving into town mid-year); None from 1 July to 31 August."""
    if (today.month, today.day) >= (SCHOOL_YEAR_START_MONTH, 1):
        return today.year
    if (today.month, today.day) <= SCHOOL_YEAR_LAST_REGISTRATION:
        return today.year - 1
    return None


def open_school_years(today: date) -> tuple[int, ...]:
    """The school years a child can be registered for today, oldest first: the one
    under way (while it runs) and the coming one, which is the default."""
    current = current_school_year(today)
    coming = coming_school_year(today)
    return (current, coming) if current is not None else (coming,)


def school_year_label(start_year: int) -> str:
    return f"{start_year}-{start_year + 1}"


def school_level(birth: BirthDate, start_year: int) -> str | None:
    """TPS…CM2 for the school year starting in September of ``start_year``; None outside."""
    index = start_year - birth.year - _FIRST_LEVEL_AGE
    if 0 <= index < len(LEVELS):
        return LEVELS[index]
    return None


def is_creche_age(birth: BirthDate, today: date) -> bool:
    """Crèches take children from 10 weeks to 3 years; an infant younger than
    10 weeks is counted too, since the application is made before entry."""
    born = birth.earliest()
    if born > today:
        return False
    return birth.age_on(today) < CRECHE_MAX_YEARS


def creche_entry_from(birth: BirthDate) -> date:
    """The earliest day a crèche can take the child (10 weeks old).

    With an unknown day or month, the latest possible birth counts: a child is
    never taken before they can be sure to be 10 weeks old.
    """
    return birth.latest() + CRECHE_MIN_AGE


def creche_leaving_age(disability: bool) -> int:
    return CRECHE_MAX_YEARS_DISABILITY if disability else CRECHE_MAX_YEARS


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day (31/07 + 7 → 29/02)."""
    import calendar

    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def latest_due_date(today: date) -> date:
    """The latest expected birth a crèche application can be made for today."""
    return add_months(today, DUE_DATE_MAX_MONTHS_AHEAD)
