"""One rate limiter per agency credential: at most N requests in any second.

API Particulier allows 20 requests a second per token and bans the town's
address for hours when its 429s are ignored; the counter service is the only
process holding the token, so one limiter in its backend keeps the whole site
under the limit. Requests take their turn in the order they asked (FIFO), so a
burst of dossiers is served first come, first served.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable

from counter.backend.deadlines import waiting_in_line

# The agency counts arrivals, we count departures: the network's jitter between
# the two could put 21 arrivals in one second. A tenth of a second more per
# window keeps the agency's count under the limit.
MARGIN = 0.1
# Longer in line than this: the request is not queued but answered "trop de
# demandes" with the wait (a loop gone wrong must not queue the whole site).
MAX_WAIT = 30.0


class LineTooLong(Exception):
    """The wait for a turn would exceed ``MAX_WAIT``; ``retry_in`` is its estimate."""

    def __init__(self, retry_in: float) -> None:
        super().__init__(f"rate limiter saturated: about {retry_in:.0f} s in line")
        self.retry_in = retry_in


class RateLimiter:
    def __init__(self, limit: int, period: float = 1.0, *, margin: float = MARGIN, max_wait: float = MAX_WAIT,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if limit < 1:
            raise ValueError("a rate limit allows at least one request")
        self.limit = limit
        self.window = period + margin
        self.max_wait = max_wait
        self.clock = clock
        self._sent: deque[float] = deque()  # when the last `limit` requests were let go
        self._lock = asyncio.Lock()  # FIFO: the lock wakes its waiters in order
        self._waiting = 0

    def _forget_old(self, now: float) -> None:
        while self._sent and now - self._sent[0] >= self.window:
            self._sent.popleft()

    def expected_wait(self) -> float:
        """Seconds a request asking now would wait, about (whole windows ahead of it)."""
        self._forget_old(self.clock())
        ahead = self._waiting + len(self._sent)
        return (ahead // self.limit) * self.window

    async def acquire(self) -> None:
        """Wait for this request's turn; raises LineTooLong instead of waiting too long.
        The wait does not count against the deadlines around (counter.backend.deadlines)."""
        expected = self.expected_wait()
        if expected > self.max_wait:
            raise LineTooLong(expected)
        self._waiting += 1
        try:
            async with waiting_in_line(), self._lock:
                while True:
                    now = self.clock()
                    self._forget_old(now)
                    if len(self._sent) < self.limit:
                        self._sent.append(now)
                        return
                    await asyncio.sleep(self._sent[0] + self.window - now)
        finally:
            self._waiting -= 1
