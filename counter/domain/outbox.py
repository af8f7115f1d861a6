"""One outbox message as the administrators' commands and the supervisors' screen show it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class OutboxView:
    """No personal data: ids, the target, the state and the agency's last error."""

    id: int
    registration_id: int
    kind: str  # school | creche | library
    visit_code: str | None
    target: str
    operation: str
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    delivered_at: datetime | None
    external_ref: str | None
    created_at: datetime
