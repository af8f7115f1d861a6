"""Waiting for something another thread or process does: poll a condition until a
deadline. The deadline only turns a hang into a failure; it is never what a test
measures (no sleep stands for synchronisation)."""

from __future__ import annotations

import time
from collections.abc import Callable

DEADLINE = 60.0


def wait_for(condition: Callable[[], object], what: str, *, deadline: float = DEADLINE,
             every: float = 0.02) -> None:
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(every)
