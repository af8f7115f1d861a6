"""The statistics' periods (issue 16), without Textual: the month, week or year holding
a day and the one before or after it, their French wording — and a period of days
typed by an agent, « du jj/mm/aaaa au jj/mm/aaaa », read and checked.

Days are written as agents write them: ``01/11/2026``, ``1/11/2026``, ``01/11/26``
(a two-digit year is in the 2000s), ``01.11.2026``, ``01-11-2026``, ``01112026``.
Every refusal is a :class:`PeriodError` whose message is French, for the screen,
and which names the field at fault (``since`` or ``until``) so the form can focus it.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from counter.domain.facts_text import MONTHS
from counter.domain.statistics import MAX_DAYS, day_text

# Years a period of the counter's figures may fall in (the counter has none before).
FIRST_YEAR, LAST_YEAR = 2000, 2099
EXPECTED = "attendu jj/mm/aaaa"

_DAY = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})|(\d{2})(\d{2})(\d{2}|\d{4})")


class PeriodError(ValueError):
    """A typed period that cannot be used: ``str()`` is the French message."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field  # "since" or "until": where the agent corrects it


def parse_day(text: str, field: str = "since") -> date:
    """One day, jj/mm/aaaa (or jj/mm/aa, 2000s); PeriodError with a French message."""
    written = (text or "").strip()
    what = "de début" if field == "since" else "de fin"
    if not written:
        raise PeriodError(f"Date {what} manquante ({EXPECTED}).", field)
    shown = written if len(written) <= 20 else written[:20] + "…"
    match = _DAY.fullmatch(written)
    if not match:
        raise PeriodError(f"Date invalide : « {shown} » ({EXPECTED}).", field)
    day, month, year = (match[1], match[2], match[3]) if match[1] else (match[4], match[5], match[6])
    full_year = int(year) + (2000 if len(year) == 2 else 0)
    try:
        parsed = date(full_year, int(month), int(day))
    except ValueError:
        raise PeriodError(f"Date invalide : « {shown} » (ce jour n'existe pas).", field) from None
    if not FIRST_YEAR <= parsed.year <= LAST_YEAR:
        raise PeriodError(f"Date invalide : « {shown} » (année de {FIRST_YEAR} à {LAST_YEAR}).", field)
    return parsed


def parse_period(since: str, until: str, max_days: int = MAX_DAYS) -> tuple[date, date]:
    """The first and last days (both included) of a typed period; PeriodError when the
    days are not days, the end comes before the start, or it lasts more than ``max_days``."""
    first = parse_day(since, "since")
    last = parse_day(until, "until")
    if last < first:
        raise PeriodError(f"La date de fin ({day_text(last)}) précède la date de début ({day_text(first)}).",
                          "until")
    days = (last - first).days + 1
    if days > max_days:
        raise PeriodError(f"Période trop longue : {days} jours ({max_days} au plus).", "until")
    return first, last


# -- the month, the week (Monday to Sunday), the calendar year -----------------------------

def period_of(kind: str, anchor: date) -> tuple[date, date]:
    """The month, week or calendar year (``kind``) holding ``anchor``."""
    if kind == "week":
        monday = anchor - timedelta(days=anchor.weekday())
        return monday, monday + timedelta(days=6)
    if kind == "year":
        return date(anchor.year, 1, 1), date(anchor.year, 12, 31)
    first = anchor.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def shifted(kind: str, anchor: date, step: int) -> date:
    """A day of the ``kind`` of period ``step`` periods before or after ``anchor``'s."""
    if kind == "week":
        return anchor + timedelta(days=7 * step)
    if kind == "year":
        return date(anchor.year + step, 1, 1)
    month = anchor.year * 12 + anchor.month - 1 + step
    return date(month // 12, month % 12 + 1, 1)


def shifted_days(since: date, until: date, step: int) -> tuple[date, date]:
    """A typed period moved by its own length: as many days before or after."""
    length = timedelta(days=(until - since).days + 1) * step
    return since + length, until + length


def period_words(kind: str, since: date, until: date) -> str:
    """« novembre 2026 », « 2026 », « semaine du 23/11/2026 au 29/11/2026 »."""
    if kind == "month":
        return f"{MONTHS[since.month - 1]} {since.year}"
    if kind == "year":
        return str(since.year)
    return f"semaine du {day_text(since)} au {day_text(until)}"


def period_heading(kind: str, since: date, until: date) -> str:
    """The status line's period: « Novembre 2026 (du 01/11/2026 au 30/11/2026) », or for a
    typed one (``days``) « Du 01/09/2026 au 30/11/2026 (91 jours) »."""
    if kind == "days":
        days = (until - since).days + 1
        return f"Du {day_text(since)} au {day_text(until)} ({days} jour{'s' if days > 1 else ''})"
    return f"{period_words(kind, since, until).capitalize()} (du {day_text(since)} au {day_text(until)})"
