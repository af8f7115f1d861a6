"""Deadlines that leave out the time a request waits for its turn.

A section's deadline measures the agency's slowness. Waiting behind the
service's own rate limiter (thirty dossiers opened at once share one token) is
not the agency being slow: the time spent in line is added back to every
deadline around it, so the queued sections still get their answers.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextvars import ContextVar


class _Deadline:
    """An ``asyncio.Timeout`` that can be paused (by several waits at once)."""

    def __init__(self, timeout: asyncio.Timeout) -> None:
        self.timeout = timeout
        self.paused = 0
        self.when: float | None = None
        self.since = 0.0

    def pause(self, now: float) -> None:
        if self.paused == 0:
            self.when, self.since = self.timeout.when(), now
            try:
                self.timeout.reschedule(None)
            except RuntimeError:  # a task that outlived the deadline's block: nothing to pause
                self.when = None
        self.paused += 1

    def resume(self, now: float) -> None:
        self.paused -= 1
        if self.paused == 0 and self.when is not None:
            with contextlib.suppress(RuntimeError):  # its block is already over
                self.timeout.reschedule(self.when + (now - self.since))


_around: ContextVar[tuple[_Deadline, ...]] = ContextVar("counter_deadlines", default=())


@contextlib.asynccontextmanager
async def deadline(seconds: float) -> AsyncIterator[None]:
    """``asyncio.timeout(seconds)`` (TimeoutError when over), not counting the
    time spent inside :func:`waiting_in_line` in this task or the tasks it starts."""
    async with asyncio.timeout(seconds) as timeout:
        token = _around.set((*_around.get(), _Deadline(timeout)))
        try:
            yield
        finally:
            _around.reset(token)


@contextlib.asynccontextmanager
async def waiting_in_line() -> AsyncIterator[None]:
    """Time spent here does not count against the deadlines around."""
    loop = asyncio.get_running_loop()
    held = [d for d in _around.get() if not d.timeout.expired()]
    for held_one in held:
        held_one.pause(loop.time())
    try:
        yield
    finally:
        for held_one in held:
            held_one.resume(loop.time())
