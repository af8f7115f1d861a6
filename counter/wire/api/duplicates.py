"""Likely duplicates for the supervisors: the review list, merging, dismissing."""

from __future__ import annotations

from dataclasses import dataclass

from counter.domain.duplicate_views import DuplicatePair, MergeReport
from counter.wire.endpoints import endpoint


@dataclass(frozen=True, slots=True)
class DuplicatesListArgs:
    state: str | None = "pending"  # pending | merged | dismissed; None: every pair


@dataclass(frozen=True, slots=True)
class MergeArgs:
    keep: int  # person ids
    drop: int


@dataclass(frozen=True, slots=True)
class ReviewArgs:
    review_id: int


DUPLICATES_LIST = endpoint("duplicates.list", DuplicatesListArgs, list[DuplicatePair])
DUPLICATES_MERGE = endpoint("duplicates.merge", MergeArgs, MergeReport)
DUPLICATES_DISMISS = endpoint("duplicates.dismiss", ReviewArgs, int)
