"""The carte scolaire: a number in a street → the sector, from the street's rules."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from counter.domain.sectors import sector_for


@dataclass(frozen=True)
class Rule:
    number_from: int
    number_to: int
    parity: str
    sector_id: int


# Odd side to sector 1, even side to sector 2 up to 98; beyond 99 everything in sector 3.
SPLIT = (Rule(0, 99, "odd", 1), Rule(0, 98, "even", 2), Rule(100, 9999, "all", 3))


@pytest.mark.parametrize("number, sector", [
    (1, 1), (99, 1), (2, 2), (98, 2), (0, 2), (100, 3), (101, 3), (9999, 3), (10_000, None),
])
def test_parity_and_ranges(number, sector):
    assert sector_for(number, SPLIT) == sector


def test_one_range_split_by_side():
    sides = (Rule(0, 9999, "odd", 1), Rule(0, 9999, "even", 2))
    assert [sector_for(n, sides) for n in (1, 2, 3, 4, 0)] == [1, 2, 1, 2, 2]


def test_a_street_without_rules_has_no_sector():
    assert sector_for(12, []) is None
    assert sector_for(None, []) is None


def test_a_gap_between_ranges_has_no_sector():
    assert sector_for(40, (Rule(0, 30, "all", 1), Rule(50, 9999, "all", 2))) is None


def test_the_narrower_rule_wins_an_overlap():
    rules = (Rule(0, 9999, "all", 1), Rule(10, 20, "even", 2))
    assert sector_for(12, rules) == 2 and sector_for(13, rules) == 1 and sector_for(30, rules) == 1
    assert sector_for(12, (Rule(0, 50, "all", 1), Rule(0, 50, "even", 2))) == 2


def test_without_a_number_only_a_street_with_one_sector_answers():
    assert sector_for(None, (Rule(0, 9999, "all", 4),)) == 4
    assert sector_for(None, (Rule(0, 50, "all", 4), Rule(51, 9999, "all", 4))) == 4
    assert sector_for(None, SPLIT) is None


def test_rules_may_be_any_iterable():
    assert sector_for(3, (rule for rule in SPLIT)) == 1
