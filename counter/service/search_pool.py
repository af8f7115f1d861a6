"""Searches in worker processes: a search is pure Python ranking over a few hundred
candidates, so one process (one GIL) serves one search at a time however many
terminals type. A site's service spreads them over the machine's cores.

Each worker opens its own connection to the same database (SQLite in WAL mode
or PostgreSQL) and sees what the service commits. Workers are spawned, never
forked: the service has threads (uvicorn, the relay) that a fork would copy
half-way. A dead worker is replaced; meanwhile the search runs in the service.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import date
from typing import TYPE_CHECKING

from counter.wire.codec import Encoded

if TYPE_CHECKING:
    from counter.domain.search_results import SearchOutcome
    from counter.services.search import SearchService
    from counter.store.engine import Store

log = logging.getLogger("counter.service")

MAX_PROCESSES = 8
ORPHAN_CHECK_SECONDS = 1.0

_worker: SearchService | None = None  # in a worker process: its own store and search


def usable(store: Store) -> bool:
    """An in-memory SQLite database lives in one process only."""
    database = store.url.database
    return not store.is_sqlite or bool(database and database != ":memory:" and "mode=memory" not in str(store.url))


class SearchPool:
    def __init__(self, store: Store, processes: int) -> None:
        self._url = store.url.render_as_string(hide_password=False)
        self.processes = max(1, min(processes, MAX_PROCESSES))
        self._lock = threading.Lock()
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_open, initargs=(self._url,))

    def warm(self) -> None:
        """Start every worker now (blocking): the first searches must not wait for
        processes to start and import the search."""
        futures = [self._pool.submit(_ready) for _ in range(self.processes)]
        for future in futures:
            future.result()

    def search(self, text: str, page: int, today: date, fallback: SearchService) -> SearchOutcome | Encoded:
        """The outcome, encoded for the wire by the worker (the service only passes it on)."""
        pool = self._pool
        try:
            return Encoded(pool.submit(_search, text, page, today).result())
        except BrokenProcessPool:
            log.error("a search worker died: the pool is started again")
            with self._lock:
                if self._pool is pool:
                    self._pool = self._new_pool()
            return fallback.search(text, page)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def _open(url: str) -> None:
    global _worker
    from counter.clock import FixedClock
    from counter.services.search import SearchService
    from counter.store.engine import Store

    _worker = SearchService(Store(url), FixedClock(date.today()))
    threading.Thread(target=_leave_with_parent, args=(os.getppid(),), name="orphan-watch", daemon=True).start()


def _leave_with_parent(parent: int) -> None:
    # A service killed outright (kill -9, out of memory) cannot stop its workers:
    # they leave by themselves rather than hold the database open.
    while os.getppid() == parent:
        time.sleep(ORPHAN_CHECK_SECONDS)
    os._exit(0)


def _ready() -> bool:
    with _worker.store.engine.connect():
        return True


def _search(text: str, page: int, today: date) -> bytes:
    from counter.clock import FixedClock
    from counter.wire import codec

    _worker.clock = FixedClock(today)  # the service's clock (a training scenario fixes its date)
    return codec.encode(_worker.search(text, page))
