"""Today's date, injectable so that tests and training scenarios can fix it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime


class SystemClock:
    def today(self) -> date:
        return date.today()


@dataclass(frozen=True)
class FixedClock:
    day: date

    def today(self) -> date:
        return self.day


def utc_now() -> datetime:
    return datetime.now(UTC)
