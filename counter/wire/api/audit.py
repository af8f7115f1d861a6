"""The audit screen: the newest entries and the chain's verification (supervisors)."""

from __future__ import annotations

from dataclasses import dataclass

from counter.domain.audit import Break, EntryView
from counter.wire.endpoints import endpoint


@dataclass(frozen=True, slots=True)
class AuditRecentArgs:
    limit: int = 200


@dataclass(frozen=True, slots=True)
class AuditOverview:
    entries: tuple[EntryView, ...]  # newest first
    broken: Break | None  # the chain's first break; None when it holds
    checked: int  # entries verified


AUDIT_RECENT = endpoint("audit.recent", AuditRecentArgs, AuditOverview)
