"""The bus's service sends back what was done on board by itself: when the link to
the town's database comes up, and after each visit confirmed while it is up.

One sync at a time in this process (a kick during a sync runs one more after
it); the lease in the town's database keeps a `counter tour sync` typed by hand,
or another bus, from running at the same moment (TourBusy: tried again at the
next kick). A failure is logged without personal data and changes nothing the
next sync cannot resume: each item is applied once, in its own transaction.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from counter.runtime import Runtime
    from counter.store.engine import Store

log = logging.getLogger("counter.service.tour")


class TourSyncer:
    def __init__(self, runtime: Runtime, replica: Callable[[], Store | None], central_url: Callable[[], str],
                 clock: Callable[[], datetime]) -> None:
        self.runtime = runtime
        self._replica = replica  # the service's store once open (None before)
        self._central_url = central_url  # with the keyring's password (never logged)
        self._clock = clock
        self._lock = threading.Lock()
        self._running = False
        self._again = False
        self.last_report = None  # counter.services.tour_sync.SyncReport of the last sync that ran
        self.last_error: str | None = None  # English, for the log and the tests
        self.last_finished: datetime | None = None
        self.finished = threading.Event()  # set after each sync (tests wait on it rather than sleep)
        # (report, when it finished) of the last sync that sent families or visits: what the
        # bus's agents are told (ServiceCore.tour_notice). One tuple: read from other threads.
        self.last_sent: tuple | None = None
        from counter.services.tour_sync import holder_name

        # One holder for the service's life: a sync cut by a dead link could not release
        # its lease; the next one, once the link is back, takes it up again.
        self.holder = holder_name(runtime.bus or "bus")

    @property
    def busy(self) -> bool:
        """A sync is running or asked for."""
        with self._lock:
            return self._running

    def kick(self, *_args) -> None:
        """Sync now in a thread of its own (never on the event loop), or once more after
        the sync under way. Accepts and ignores a link monitor (its callbacks' signature)."""
        with self._lock:
            if self._running:
                self._again = True
                return
            self._running = True
        threading.Thread(target=self._loop, name="tour-sync", daemon=True).start()

    def _loop(self) -> None:
        while True:
            try:
                self.sync_once()
            finally:
                with self._lock:
                    again, self._again = self._again, False
                    if not again:
                        self._running = False
                self.finished.set()
            if not again:
                return

    def sync_once(self):
        """One sync (blocking); its report, or None when it could not run."""
        from counter.service.composition import delivery_targets
        from counter.services.tour_sync import TourBusy, central_store, sync_tour
        from counter.store.failures import admin_message

        replica = self._replica()
        if replica is None:
            self.last_error = "the bus's database is not open"
            return None
        central = None
        try:
            central = central_store(self._central_url())
            rules = self.runtime.rules
            report = sync_tour(replica, central, self.runtime.clock, agent=self.runtime.agent_login or "tour",
                               targets=delivery_targets(self.runtime),
                               library=rules.library if rules is not None else None, holder=self.holder)
        except TourBusy:
            self.last_error = "another tour sync is running"
            log.info("tour sync: another sync holds the lease; tried again later")
            return None
        except Exception as exc:  # noqa: BLE001 — the link dropped, the town's database refused: resumed later
            self.last_error = admin_message(exc)
            log.warning("tour sync stopped: %s", self.last_error)
            return None
        finally:
            if central is not None:
                central.dispose()
        self.last_report, self.last_error, self.last_finished = report, None, self._clock()
        if report.deferred:  # the agent went on working during the sync: what it needs is on the list now
            with self._lock:
                self._again = True
        sent = len(report.items)
        if any(item.kind != "audit" for item in report.items):
            self.last_sent = (report, self.last_finished)
            log.info("tour sync: %d item(s) sent, %d refused or blocked, %d registration(s) placed otherwise",
                     sent, len(report.refused), len(report.changed))
        return report
