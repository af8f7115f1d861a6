"""Likely duplicates as the counter and the supervisors' commands show them (plain data).

``DuplicateMatch``: at the counter, a member of a family being created who may
be a person the town already knows. ``DuplicatePair``: a pair in the review
list (``counter duplicates list``). ``MergeReport``: what a merge moved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from counter.domain.people import PersonSummary


@dataclass(frozen=True, slots=True)
class DuplicateMatch:
    member_index: int  # in the family as typed
    known: PersonSummary  # with their household and its address
    reasons: tuple[str, ...]  # counter.domain.duplicates.REASONS


@dataclass(frozen=True, slots=True)
class DuplicatePair:
    id: int  # the review's
    created_at: datetime
    source: str  # counter | import | sync | tour
    state: str  # pending | merged | dismissed
    reasons: tuple[str, ...]
    person: PersonSummary  # the newer record
    candidate: PersonSummary  # the one it may duplicate


@dataclass(frozen=True, slots=True)
class MergeReport:
    keep: int
    drop: int
    memberships: int  # household memberships moved to the kept person
    visits: int
    registrations: int
    reviews: int  # other pending reviews of the dropped person now the kept one's
    source_id: str  # none | kept | moved | both (both: the dropped record keeps its own)
    filled: tuple[str, ...] = ()  # fields the kept person lacked, taken from the dropped one
