"""The session, the lock and the PIN."""

from __future__ import annotations

from dataclasses import dataclass

from counter.domain.pins import Unlock
from counter.wire.endpoints import NoArgs, endpoint
from counter.wire.session import Session

SESSION = endpoint("session", NoArgs, Session)


@dataclass(frozen=True, slots=True)
class PinArgs:
    pin: str


UNLOCK = endpoint("lock.unlock", PinArgs, Unlock)
SET_PIN = endpoint("lock.set_pin", PinArgs, None)

