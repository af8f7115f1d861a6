"""The school holidays an accueil de loisirs opens in, and their weeks.

The calendar is data (``holidays.toml`` beside this module: the Ministry's
dates by zone); the town's zone is the town's choice (``DEFAULT_ZONE``, the
fictional town's). Pure: no clock, no I/O beyond reading the packaged file.

Words used here:

- a *period* is one school holiday in one zone (Noël 2026, hiver 2027 zone B);
  its days off are those after ``start`` (the last day of class, a Saturday)
  and before ``resume`` (the morning classes start again);
- a *week* is Monday to Friday; the accueil is open on the week's days that
  are days off and not public holidays (25 December, 1 January…); a week with
  no open day is not offered;
- the *coming holidays* on a day are the first period with a week that has not
  begun yet: a week can be booked until the Sunday before it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from importlib import resources
from typing import Any

ZONES = ("A", "B", "C")
# Bellerive-sur-Loire (INSEE 45999) is in the Loiret: académie d'Orléans-Tours, zone B.
DEFAULT_ZONE = "B"
PERIOD_NAMES = {
    "toussaint": "vacances de la Toussaint",
    "noel": "vacances de Noël",
    "hiver": "vacances d'hiver",
    "printemps": "vacances de printemps",
    "ete": "vacances d'été",
}
# The summer of a school year whose successor's calendar is not published: the
# accueil runs until 31 August (the town's choice; the rentrée is around 1 September).
SUMMER_CLOSES = (8, 31)
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")
DAY_NAMES = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


class CalendarError(ValueError):
    """The holidays file is not what it must be; the message names the entry (English)."""


@dataclass(frozen=True, slots=True)
class Period:
    name: str  # a PERIOD_NAMES key
    school_year: int  # 2026 = 2026-2027
    zone: str
    start: date  # the last day of class before the holidays
    resume: date | None  # classes start again that morning; None: the summer, to 31 August

    @property
    def first_day(self) -> date:
        return self.start + timedelta(days=1)

    @property
    def last_day(self) -> date:
        if self.resume is not None:
            return self.resume - timedelta(days=1)
        return date(self.start.year, *SUMMER_CLOSES)

    @property
    def key(self) -> str:
        """Stable and short, for drafts and deliveries: ``2026-noel-B``."""
        return f"{self.school_year}-{self.name}-{self.zone}"

    @property
    def label(self) -> str:
        """``vacances de Noël 2026``, ``vacances d'hiver 2027`` (the year they start in)."""
        return f"{PERIOD_NAMES[self.name]} {self.first_day.year}"

    @property
    def title(self) -> str:
        """``Vacances de Noël 2026``: the label starting a sentence."""
        return self.label[0].upper() + self.label[1:]

    def is_off(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day


@dataclass(frozen=True, slots=True)
class Week:
    monday: date
    days: tuple[date, ...]  # the open days, Monday to Friday
    closed: tuple[date, ...] = ()  # days off that are public holidays (the accueil is closed)

    @property
    def label(self) -> str:
        """``semaine du 21/12/2026``."""
        return f"semaine du {self.monday:%d/%m/%Y}"

    @property
    def short_label(self) -> str:
        """``Semaine du 21/12/2026 — 4 jours (fermé le 25/12)``: one line of a form."""
        count = len(self.days)
        text = f"Semaine du {self.monday:%d/%m/%Y} — {count} jour{'s' if count > 1 else ''}"
        if self.closed:
            text += f" (fermé le {' et le '.join(f'{d:%d/%m}' for d in self.closed)})"
        return text

    @property
    def days_label(self) -> str:
        """``5 jours`` or, when not the whole week, ``4 jours : lundi 21 au jeudi 24 décembre``."""
        count = len(self.days)
        text = f"{count} jour{'s' if count > 1 else ''}"
        if count == 5:
            return text
        return f"{text} : {', '.join(day_label(d) for d in self.days)}"


def day_label(day: date) -> str:
    """``jeudi 24 décembre``."""
    return f"{DAY_NAMES[day.weekday()]} {day.day} {MONTHS[day.month - 1]}"


# -- public holidays ----------------------------------------------------------------------


def easter(year: int) -> date:
    """Easter Sunday (the Gregorian computus, anonymous algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month, day = divmod(h + l_ - 7 * m + 114, 31)
    return date(year, month, day + 1)


def public_holidays(year: int) -> frozenset[date]:
    """The eleven French public holidays of metropolitan France (Alsace-Moselle has two more)."""
    sunday = easter(year)
    fixed = ((1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25))
    moving = (sunday + timedelta(days=1), sunday + timedelta(days=39), sunday + timedelta(days=50))
    return frozenset({date(year, m, d) for m, d in fixed} | set(moving))


# -- the calendar ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Calendar:
    periods: tuple[Period, ...]  # every zone, in start order
    sources: dict[int, str]  # school year → where its dates come from

    def of_zone(self, zone: str) -> tuple[Period, ...]:
        if zone not in ZONES:
            raise ValueError(f"unknown zone {zone!r}: A, B or C")
        return tuple(p for p in self.periods if p.zone == zone)

    def period(self, key: str) -> Period | None:
        return next((p for p in self.periods if p.key == key), None)

    @property
    def last_day(self) -> date | None:
        return max((p.last_day for p in self.periods), default=None)


def parse_calendar(data: dict[str, Any], where: str = "holidays.toml") -> Calendar:
    """The holidays file's TOML, checked strictly (an unknown key is an error naming it)."""
    _only(data, {"year"}, where)
    periods: list[Period] = []
    sources: dict[int, str] = {}
    years = data.get("year")
    if not isinstance(years, list) or not years:
        raise CalendarError(f"{where}: [[year]] entries are required")
    for index, year in enumerate(years):
        at = f"{where}: year[{index}]"
        if not isinstance(year, dict):
            raise CalendarError(f"{at}: a table is required")
        _only(year, {"school_year", "source", "rentree", "period"}, at)
        school_year = year.get("school_year")
        if type(school_year) is not int or not 2000 <= school_year <= 2100:
            raise CalendarError(f"{at}.school_year: the year the school year starts in, e.g. 2026")
        if school_year in sources:
            raise CalendarError(f"{at}.school_year: {school_year} is given twice")
        source = year.get("source")
        if not isinstance(source, str) or not source.strip():
            raise CalendarError(f"{at}.source: say where the dates come from")
        sources[school_year] = source
        rentree = year.get("rentree")
        if not isinstance(rentree, date) or rentree.year != school_year:
            raise CalendarError(f"{at}.rentree: a date in {school_year}")
        entries = year.get("period")
        if not isinstance(entries, list) or not entries:
            raise CalendarError(f"{at}.period: [[year.period]] entries are required")
        for number, entry in enumerate(entries):
            periods += _periods(entry, school_year, rentree, f"{at}.period[{number}]")
    seen: dict[str, Period] = {}
    for period in periods:
        if period.key in seen:
            raise CalendarError(f"{where}: {period.key} is given twice")
        seen[period.key] = period
    for zone in ZONES:
        ordered = sorted((p for p in periods if p.zone == zone), key=lambda p: p.start)
        for before, after in zip(ordered, ordered[1:], strict=False):
            if after.first_day <= before.last_day:
                raise CalendarError(f"{where}: {before.key} and {after.key} overlap")
    return Calendar(tuple(sorted(periods, key=lambda p: (p.start, p.zone))), sources)


def _periods(entry: Any, school_year: int, rentree: date, at: str) -> list[Period]:
    if not isinstance(entry, dict):
        raise CalendarError(f"{at}: a table is required")
    _only(entry, {"name", "zones", "start", "resume"}, at)
    name = entry.get("name")
    if name not in PERIOD_NAMES:
        raise CalendarError(f"{at}.name: one of {', '.join(PERIOD_NAMES)}")
    zones = entry.get("zones")
    if (not isinstance(zones, list) or not zones or len(set(zones)) != len(zones)
            or not all(z in ZONES for z in zones)):
        raise CalendarError(f"{at}.zones: distinct zones among A, B, C")
    start, resume = entry.get("start"), entry.get("resume")
    if not isinstance(start, date) or start <= rentree:
        raise CalendarError(f"{at}.start: a date after the rentrée")
    if resume is None:
        if name != "ete":
            raise CalendarError(f"{at}.resume: required (only the summer may leave it out)")
    elif not isinstance(resume, date) or resume <= start + timedelta(days=1):
        raise CalendarError(f"{at}.resume: a date after start")
    if start.year > school_year + 1:
        raise CalendarError(f"{at}.start: within the school year {school_year}-{school_year + 1}")
    return [Period(name, school_year, zone, start, resume) for zone in zones]


def _only(table: dict, allowed: set[str], at: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise CalendarError(f"{at}: unknown key {unknown[0]!r}")


@cache
def shipped_calendar() -> Calendar:
    """The calendar shipped beside this module."""
    text = resources.files(__package__).joinpath("holidays.toml").read_text(encoding="utf-8")
    return parse_calendar(tomllib.loads(text))


# -- weeks and the coming holidays --------------------------------------------------------------


def weeks_of(period: Period) -> tuple[Week, ...]:
    """The period's weeks (Monday to Friday) with at least one open day."""
    first = period.first_day
    monday = first - timedelta(days=first.weekday())
    weeks = []
    while monday <= period.last_day:
        holidays = public_holidays(monday.year) | public_holidays((monday + timedelta(days=4)).year)
        off = [d for d in (monday + timedelta(days=i) for i in range(5)) if period.is_off(d)]
        days = tuple(d for d in off if d not in holidays)
        if days:
            weeks.append(Week(monday, days, tuple(d for d in off if d in holidays)))
        monday += timedelta(days=7)
    return tuple(weeks)


def bookable_weeks(period: Period, today: date) -> tuple[Week, ...]:
    """The period's weeks that have not begun on ``today``."""
    return tuple(w for w in weeks_of(period) if w.monday > today)


def coming_holidays(calendar: Calendar, zone: str, today: date) -> Period | None:
    """The first period of ``zone`` with a week still to come; None beyond the calendar."""
    for period in calendar.of_zone(zone):
        if bookable_weeks(period, today):
            return period
    return None


def week_of(period: Period, monday: date) -> Week | None:
    return next((w for w in weeks_of(period) if w.monday == monday), None)
