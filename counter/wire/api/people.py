"""Search and households."""

from __future__ import annotations

from dataclasses import dataclass

from counter.domain.people import HouseholdView
from counter.domain.search_results import SearchOutcome
from counter.wire.endpoints import endpoint


@dataclass(frozen=True, slots=True)
class SearchArgs:
    text: str
    page: int = 0


SEARCH = endpoint("search", SearchArgs, SearchOutcome)


@dataclass(frozen=True, slots=True)
class HouseholdArgs:
    household_id: int


@dataclass(frozen=True, slots=True)
class PersonArgs:
    person_id: int


HOUSEHOLD = endpoint("household", HouseholdArgs, HouseholdView | None)
REVEAL_NIR = endpoint("household.reveal_nir", PersonArgs, str | None)
