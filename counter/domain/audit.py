"""The audit trail as the supervisors' screen shows it: entries and the chain's first break.

Light on purpose: these cross the service's socket; counter.services.audit
reads and checks the chain.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True, slots=True)
class Break:
    """The first entry where the chain does not hold."""

    seq: int
    what: str  # changed | removed | inserted
    at: datetime | None = None
    action: str = ""

    def describe(self) -> str:
        when = self.at.astimezone(UTC).strftime("%d/%m/%Y %H:%M:%S UTC") if self.at else "?"
        return f"entry {self.seq} ({when}, {self.action or '?'}) {self.what}"


@dataclass(frozen=True, slots=True)
class EntryView:
    seq: int
    at: datetime
    agent: str
    host: str
    action: str
    target_type: str
    target_id: str
    details: str
