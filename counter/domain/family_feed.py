"""The family system's change feed (``GET /v1/changes``, contract 1.3) as the
city adapter reads it: pages of changes, each a family created or changed
(whole), a family or a person removed, or two persons merged.

Pure data, no I/O. The counter applies them in ``counter.services.family_sync``.
"""

from __future__ import annotations

from dataclasses import dataclass

from counter.domain.family_records import SourceFamily


@dataclass(frozen=True, slots=True)
class FamilyChanged:
    """A family created or changed: the whole family as the system holds it now."""

    family: SourceFamily


@dataclass(frozen=True, slots=True)
class FamilyRemoved:
    family_id: str


@dataclass(frozen=True, slots=True)
class PersonRemoved:
    person_id: str


@dataclass(frozen=True, slots=True)
class PersonMerged:
    """Two records of one person made one: ``merged_id`` is gone, ``kept_id`` stays."""

    merged_id: str
    kept_id: str


@dataclass(frozen=True, slots=True)
class UnreadableChange:
    """An entry the adapter could not read (a field missing or mistyped): counted as
    rejected, with the family's id when it was readable. ``reason`` is English and
    names fields, never values."""

    reason: str
    family_id: str | None = None


Change = FamilyChanged | FamilyRemoved | PersonRemoved | PersonMerged | UnreadableChange


@dataclass(frozen=True, slots=True)
class ChangesPage:
    changes: tuple[Change, ...]
    next: str  # the cursor to ask from next time (opaque)
    more: bool  # more changes wait after ``next``
