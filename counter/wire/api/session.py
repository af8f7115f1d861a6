"""The session, the lock and the PIN."""

from __future__ import annotations

from dataclasses import dataclass

from counter.domain.pins import Unlock
from counter.wire.endpoints import endpoint
from counter.wire.session import Session

@dataclass(frozen=True, slots=True)
class SessionArgs:
    retry: bool = False  # the agent pressed F5: a store that failed to open is tried again


SESSION = endpoint("session", SessionArgs, Session)


@dataclass(frozen=True, slots=True)
class PinArgs:
    pin: str


UNLOCK = endpoint("lock.unlock", PinArgs, Unlock)
SET_PIN = endpoint("lock.set_pin", PinArgs, None)



@dataclass(frozen=True, slots=True)
class LinkArgs:
    up: bool  # restore (True) or cut (False) the training bus's link to the town hall


TRAINING_LINK = endpoint("training.link", LinkArgs, None)
