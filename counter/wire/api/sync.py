"""The family system's change feed, as supervisors see it: when it last succeeded."""

from __future__ import annotations

from dataclasses import dataclass

from counter.domain.family_feed import SyncStatus
from counter.wire.endpoints import endpoint


@dataclass(frozen=True, slots=True)
class SyncStatusArgs:
    pass


SYNC_STATUS = endpoint("sync.status", SyncStatusArgs, SyncStatus)
