"""The family system's change feed (``GET /v1/changes``, contract 1.3) as the
city adapter reads it: pages of changes, each a family created or changed
(whole), a family or a person removed, or two persons merged.

Pure data, no I/O. The counter applies them in ``counter.services.family_sync``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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
    remaining: int | None = None  # how many, when the family system says (a progress bar)


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What one pass of the feed did (counts and ids only: no personal data)."""

    created: int = 0  # families new to the counter
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0  # refused by the counter's rules or unreadable: recorded, skipped
    merges: int = 0  # person merges applied (records moved or nothing to move)
    merges_to_review: int = 0  # both records have history at the counter: a supervisor decides
    removals: int = 0  # families or persons marked removed
    pages: int = 0
    cursor: str | None = None  # where the next pass starts
    restarted: bool = False  # the city no longer knew our cursor: started again from the beginning
    complete: bool = True  # False: stopped before the end of the feed (a page limit)
    rejected_ids: tuple[str, ...] = ()  # the family system's ids of the rejected families (at most 50)

    @property
    def families(self) -> int:
        return self.created + self.updated + self.unchanged + self.rejected


@dataclass(frozen=True, slots=True)
class SyncStatus:
    """The feed's state for supervisors and the status line."""

    configured: bool  # a family system is configured and the service pulls its feed
    last_success_at: datetime | None = None
    last_attempt_at: datetime | None = None
    last_error: str | None = None  # French
    running: bool = False
    warn_after_hours: int = 24
    stale: bool = False  # configured, and no success within warn_after_hours


def local_time(moment: datetime) -> str:
    """jj/mm/aaaa hh:mm in the machine's time zone."""
    return moment.astimezone().strftime("%d/%m/%Y %H:%M")


def sync_warning(status: SyncStatus) -> str:
    """The agents' warning when the families have not been synchronised for too long; "" otherwise."""
    if not status.configured or not status.stale:
        return ""
    # One line at 80 columns: every screen's status line carries it.
    if status.last_success_at is None:
        return "Familles jamais synchronisées avec la mairie : voir un superviseur."
    return f"Familles non synchronisées depuis le {local_time(status.last_success_at)} : voir un superviseur."


def sync_line(status: SyncStatus) -> str:
    """The supervisors' line: when the last synchronisation succeeded, and the last failure."""
    if not status.configured:
        return ""
    if status.last_success_at is None:
        line = "Système famille : aucune synchronisation réussie pour l'instant."
    else:
        line = f"Système famille : dernière synchronisation le {local_time(status.last_success_at)}."
    if status.running:
        line += " Synchronisation en cours."
    elif status.last_error and (status.last_attempt_at is None or status.last_success_at is None
                                or status.last_attempt_at > status.last_success_at):
        line += f" Dernier essai en échec : {status.last_error}"
    return line
