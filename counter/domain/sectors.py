"""The carte scolaire: a street number → the school sector, from the street's rules."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol


class SectorRuleLike(Protocol):
    number_from: int
    number_to: int
    parity: str  # all | odd | even
    sector_id: int


def _covers(rule: SectorRuleLike, number: int) -> bool:
    if not rule.number_from <= number <= rule.number_to:
        return False
    if rule.parity == "odd":
        return number % 2 == 1
    if rule.parity == "even":
        return number % 2 == 0
    return True


def sector_for(number: int | None, rules: Iterable[SectorRuleLike]) -> int | None:
    """The sector of ``number`` in a street with these rules; None when nothing covers it.

    When rules overlap the narrowest wins (an exception carved out of a
    whole-street rule). Without a number (a lieu-dit, a number not given), the
    sector is known only if every rule of the street names the same one.
    """
    rules = list(rules)
    if number is None:
        sectors = {rule.sector_id for rule in rules}
        return sectors.pop() if len(sectors) == 1 else None
    matching = [rule for rule in rules if _covers(rule, number)]
    if not matching:
        return None
    # Narrowest range first; on equal ranges a one-side (odd/even) rule beats "all".
    return min(matching, key=lambda rule: (rule.number_to - rule.number_from, rule.parity == "all")).sector_id
