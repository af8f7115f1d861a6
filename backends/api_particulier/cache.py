"""A small in-memory cache of answers, by section and request parameters.

The counter asks the same questions again within minutes (the agent reopens
a dossier); the API's own cache lasts an hour, so ours does not keep answers
longer. Bounded: least recently used entries go first.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

from counter.backend import SectionAnswer

TTL_SECONDS = 3600.0
MAX_ENTRIES = 1024


class AnswerCache:
    def __init__(self, ttl: float = TTL_SECONDS, max_entries: int = MAX_ENTRIES,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[Hashable, tuple[float, SectionAnswer]] = OrderedDict()

    def get(self, key: Hashable) -> SectionAnswer | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        stored, answer = entry
        if self.clock() - stored >= self.ttl:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return answer

    def put(self, key: Hashable, answer: SectionAnswer) -> None:
        self._entries[key] = (self.clock(), answer)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
