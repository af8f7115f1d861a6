"""The visits terminals have open: each one's context and the agencies' answers.

The answers are asked once per visit and agent (the consultation is audited
for that agent) and kept while the visit is open, so that every save is
priced with them; they are not stored. A restarted service has none: the
terminal is told they are pending and asks again.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from counter.domain.visit_context import VisitContext
from counter.domain.visit_summary import VisitFacts

# Thirty agents, a few visits each; the oldest forgotten first (asked again if reopened).
MAX_OPEN = 256


@dataclass
class _Open:
    context: VisitContext
    facts: VisitFacts | None = None
    asking: asyncio.Future | None = None


class OpenVisits:
    def __init__(self, limit: int = MAX_OPEN) -> None:
        self._open: OrderedDict[tuple[int, str], _Open] = OrderedDict()
        self._lock = threading.Lock()  # handlers' threads and the event loop
        self.limit = limit

    def context(self, visit_id: int, login: str, build: Callable[[], VisitContext],
                fresh: bool = False) -> VisitContext:
        """The visit's context, built once (again when ``fresh``: the visit is opened)."""
        return self._entry((visit_id, login), build, fresh).context

    def _entry(self, key: tuple[int, str], build: Callable[[], VisitContext], fresh: bool = False) -> _Open:
        with self._lock:
            found = self._open.get(key)
            if found is not None and not fresh:
                self._open.move_to_end(key)
                return found
        context = build()  # outside the lock: it reads the database
        with self._lock:
            found = self._open.get(key)
            if found is None:
                self._open[key] = found = _Open(context)
                while len(self._open) > self.limit:
                    self._open.popitem(last=False)
            found.context = context
            return found

    def facts(self, visit_id: int, login: str) -> VisitFacts:
        """The answers received so far; pending while they are asked, or never were here."""
        with self._lock:
            found = self._open.get((visit_id, login))
        if found is None or found.facts is None:
            return VisitFacts(pending=True)
        return found.facts

    async def ask(self, visit_id: int, login: str, gather: Callable[[VisitContext], Awaitable[VisitFacts]],
                  build: Callable[[], VisitContext]) -> VisitFacts:
        """The answers, asked once: a second terminal request waits for the first.
        Runs on the service's event loop (the agencies' clients live there)."""
        found = await asyncio.to_thread(self._entry, (visit_id, login), build)
        if found.facts is not None:
            return found.facts
        if found.asking is None:
            found.asking = asyncio.ensure_future(gather(found.context))
        # Shielded: a terminal that hangs up does not stop the answers for the next one.
        facts = await asyncio.shield(found.asking)
        found.facts, found.asking = facts, None
        return facts

    def close(self, visit_id: int, login: str) -> None:
        """The visit is confirmed or abandoned: its answers are forgotten."""
        with self._lock:
            self._open.pop((visit_id, login), None)
