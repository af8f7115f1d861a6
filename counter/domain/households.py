"""Household-level rules."""

from __future__ import annotations


def normalise_caf_number(number: str | None) -> str | None:
    """CAF allocataire numbers are 1 to 7 digits; agents may type leading zeros."""
    if number is None:
        return None
    digits = number.strip().lstrip("0")
    return digits or "0"
