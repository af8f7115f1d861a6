"""Retention durations as administrators write them: 30d, 12w, 6m, 1y."""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(r"(\d{1,4})([dwmy])")
_DAYS = {"d": 1, "w": 7, "m": 30, "y": 365}


def parse_duration(value: str) -> timedelta:
    """'30d', '12w', '6m', '1y' → a timedelta (months of 30 days, years of 365);
    ValueError with an English message for anything else."""
    match = _DURATION.fullmatch((value or "").strip().lower())
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"invalid duration {str(value)[:40]!r}: a number and a unit (d, w, m, y), "
                         "e.g. 30d, 12w, 6m, 1y")
    return timedelta(days=int(match.group(1)) * _DAYS[match.group(2)])
