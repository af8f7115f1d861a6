"""The outbox as the supervisors' screen shows it: messages, relaunching a refused one."""

from __future__ import annotations

from dataclasses import dataclass

from counter.domain.outbox import OutboxView
from counter.wire.endpoints import endpoint


@dataclass(frozen=True, slots=True)
class OutboxMessagesArgs:
    state: str | None = None  # pending | delivered | refused | cancelled; None: every message


@dataclass(frozen=True, slots=True)
class OutboxMessageArgs:
    message_id: int


OUTBOX_MESSAGES = endpoint("outbox.messages", OutboxMessagesArgs, list[OutboxView])
# One refused message sent again; the answer is the French outcome for the status line.
OUTBOX_RELAUNCH = endpoint("outbox.relaunch", OutboxMessageArgs, str)
