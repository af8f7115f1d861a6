"""Dates as agents read them (jj/mm/aaaa), ages, and partial birth dates.

Some people's civil status lacks the birth day or month (often people born
abroad); the agencies key their records on exactly what is known, so the store
keeps year, month and day separately and never invents the missing parts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime


@dataclass(frozen=True, slots=True)
class BirthDate:
    year: int
    month: int | None = None
    day: int | None = None

    def __post_init__(self) -> None:
        if self.day is not None and self.month is None:
            raise ValueError("a birth day needs a birth month")
        # Raises ValueError for an impossible date such as 31/02.
        date(self.year, self.month or 1, self.day or 1)

    @classmethod
    def of(cls, d: date) -> BirthDate:
        return cls(d.year, d.month, d.day)

    @property
    def complete(self) -> bool:
        return self.day is not None

    def earliest(self) -> date:
        """The first day the person can have been born on."""
        return date(self.year, self.month or 1, self.day or 1)

    def latest(self) -> date:
        """The last day the person can have been born on."""
        import calendar

        month = self.month or 12
        return date(self.year, month, self.day or calendar.monthrange(self.year, month)[1])

    def display(self) -> str:
        """``27/12/1982``; unknown parts as dashes: ``--/06/1987``, ``--/--/1950``."""
        day = f"{self.day:02d}" if self.day is not None else "--"
        month = f"{self.month:02d}" if self.month is not None else "--"
        return f"{day}/{month}/{self.year:04d}"

    def age_on(self, today: date) -> int:
        """Age in completed years; with unknown parts, the age reached at the earliest date."""
        born = self.earliest()
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))

    def months_old(self, today: date) -> int:
        born = self.earliest()
        months = (today.year - born.year) * 12 + today.month - born.month
        return months - (today.day < born.day)

    def age_label(self, today: date) -> str:
        """``44`` (years), or ``8 m`` (months) before two years: crèche ages matter."""
        if self.earliest() > today:
            return "à naître"
        if self.age_on(today) < 2:
            return f"{self.months_old(today)} m"
        return str(self.age_on(today))

    def age_text(self, today: date) -> str:
        """The age as French writes it: ``8 mois``, ``1 an``, ``44 ans``."""
        years = self.age_on(today)
        if years < 1:
            return f"{max(self.months_old(today), 0)} mois"
        return f"{years} an{'s' if years > 1 else ''}"


def parse_french_date(text: str) -> date | None:
    """``27/12/1982`` (also 27-12-1982, 27.12.1982, 27121982) → a date; None if not one."""
    import re

    match = re.fullmatch(r"\s*(\d{1,2})[/.-]?(\d{1,2})[/.-]?(\d{4})\s*", text or "")
    if not match:
        return None
    try:
        return date(int(match[3]), int(match[2]), int(match[1]))
    except ValueError:
        return None


def as_utc(moment: datetime | None) -> datetime | None:
    """SQLite gives datetimes back naive (they were written in UTC); PostgreSQL aware."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
