"""What a terminal knows before its service tells it more: how to reach the service,
the colours to use, and a guess at the mode for the first frame."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from counter.client.api import CounterClient


@dataclass(frozen=True)
class Terminal:
    connect: Callable[[], CounterClient]
    theme: str = "auto"
    # Until the session says: a training service (banner, no lock at start) or a
    # production one (locked from the first frame).
    training: bool = True
    login: str = ""  # this account's name, for the lock screen before the session comes
    # Called when the service stops answering: a terminal's own private service is
    # started again (it stops after idle minutes, or was killed); None elsewhere.
    revive: Callable[[], None] | None = None
