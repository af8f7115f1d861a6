"""What the service owns for as long as it runs: the store, the agencies (with
their caches and rate limits), the outbox relay, the waiting-list sync and the
visits terminals have open (their agencies' answers); on the roaming bus, the
link monitor instead of the relay and the syncs (docs/tour.md).

Handlers receive the core and the actor (the peer's account and role); roles
are checked by the services underneath, as they always were.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from counter.runtime import Runtime

if TYPE_CHECKING:
    from counter.service.composition import Services
    from counter.services.audit import Actor
    from counter.store.engine import Store

log = logging.getLogger("counter.service")

# After the store opens, the agencies are connected in the background: building
# them (in training, the emulated agencies with the town's data) takes seconds
# and must not hold the first searches.
READY_TIMEOUT = 120.0
AGENCIES_AFTER_OPEN = 1.0  # seconds


class NotAnAgent(Exception):
    """The peer's account is not an active agent of this counter (French message)."""


class TrainingOnly(Exception):
    """A training device asked of a service that has none (French message)."""


class NotReady(Exception):
    """The database could not be opened; the message says why (French)."""


class ServiceCore:
    def __init__(self, runtime: Runtime, *, identify: Callable[[int], str | None] | None = None,
                 store: Store | None = None, backends: list | None = None, background: bool = True,
                 opener: Callable[[], Store] | None = None, search_processes: int = 0) -> None:
        from counter.peers import login_of

        self.runtime = runtime
        self.identify = identify or login_of
        self.host = socket.gethostname()
        self._given_store = store
        self._opener = opener  # tests hold the opening to send keys meanwhile
        self._given_backends = backends
        self.background = background  # the outbox relay and the waiting-list sync
        from counter.clock import utc_now

        self.utc_now = utc_now  # the lock's clock (tests move it)
        self.services: Services | None = None
        self.search_processes = search_processes
        self.search_pool = None  # counter.service.search_pool.SearchPool, when processes are asked for
        self.problem: str = ""  # French: why the database is not open
        self._opened = threading.Event()
        self._agencies = threading.Event()
        self._reopening = threading.Lock()
        self._connecting = threading.Lock()
        self._tasks: list[asyncio.Task] = []
        self._relay = None
        self._loop: asyncio.AbstractEventLoop | None = None  # the relay's
        self.notices: list[str] = []
        self.sync_passes = 0  # passes of the family system's feed done (whatever their outcome)
        self.sync_pass_done = threading.Event()  # set after each (tests and benchmarks wait on it)
        from counter.service.open_visits import OpenVisits

        self.open_visits = OpenVisits()
        self.training_link = None  # training's bus: the switch the trainer flips (link.TrainingLink)
        self.link = self._link_monitor()  # the bus's link to the town's database; None elsewhere
        self._service_loop: asyncio.AbstractEventLoop | None = None  # the loop start() ran on
        self.tour = None  # the bus's automatic tour sync (counter.service.tour_auto), once started

    def _link_monitor(self):
        runtime = self.runtime
        if not runtime.mobile:
            return None
        from counter.service.link import CENTRAL_SECRET, LinkMonitor, TrainingLink, endpoint_of

        probe = None
        if runtime.training:  # no network in training: the trainer cuts and restores the link
            self.training_link = TrainingLink(endpoint_of(runtime.central_url))
            probe = self.training_link.probe
        secrets = getattr(runtime.secrets, "secrets", None) or {}
        return LinkMonitor(runtime.central_url, probe_seconds=runtime.link_probe_seconds,
                           clock=lambda: self.utc_now(), password=secrets.get(CENTRAL_SECRET), probe=probe)

    # -- lifecycle -----------------------------------------------------------------------

    def open(self) -> None:
        """Open the store (blocking; the training database is built on first use)."""
        from counter.service.composition import NotMigrated, make_services, open_store
        from counter.store import failures
        from counter.store.dataset import MixedData

        try:
            if self._opener is not None:
                store = self._given_store = self._opener()
            else:
                store = self._given_store if self._given_store is not None else open_store(self.runtime)
            self.services = make_services(store, self.runtime)
            self.problem = ""
            self._start_search_pool(store)
        except (NotMigrated, MixedData) as exc:
            self.problem = str(exc)
        except Exception as exc:  # noqa: BLE001 — reported to every client until fixed
            log.exception("opening the database failed: %s", failures.classify(exc).log_reason())
            self.problem = failures.agent_message(
                exc, "Base de données indisponible : prévenez l'administrateur.", training=self.runtime.training)
        finally:
            self._opened.set()

    def _start_search_pool(self, store: Store) -> None:
        from counter.service import search_pool

        if self.search_processes < 1 or self.search_pool is not None or not search_pool.usable(store):
            return
        self.search_pool = search_pool.SearchPool(store, self.search_processes)
        # Workers start in the background; a search arriving meanwhile waits for one.
        threading.Thread(target=self.search_pool.warm, name="search-workers", daemon=True).start()

    def connect_agencies(self) -> None:
        """Build the agencies' backends once (blocking)."""
        from counter.service.composition import attach_dossier

        services = self.services
        if services is None or services.dossier is not None:
            self._agencies.set()
            return
        try:
            attach_dossier(services, self.runtime, backends=self._given_backends,
                           secrets=self.runtime.secrets, offline=self.is_offline)
        except Exception:  # noqa: BLE001 — a broken plugin must not take the service down
            log.exception("building the backends failed")
            attach_dossier(services, self.runtime, backends=[], offline=self.is_offline)
            self.notices.append("Les sources externes n'ont pas pu être configurées : voir « counter doctor ».")
        finally:
            self._agencies.set()

    def restore_receipts(self) -> None:
        """Receipt files lost to a crash between a confirmation and its files: written
        again from the database (blocking)."""
        from counter.services.receipts import restore_missing

        services = self.services
        if services is not None:
            try:
                restore_missing(services.store, self.runtime.data_dir)
            except Exception:  # noqa: BLE001 — the next start tries again
                log.exception("restoring the receipts' files failed")

    async def start(self) -> None:
        self._service_loop = asyncio.get_running_loop()
        if self.link is not None:  # the bus: its link is watched from the start, store or not
            if self.background:  # what runs when the link comes up: the tour sync, first
                from counter.service.composition import link_restored_hooks
                from counter.service.tour_auto import TourSyncer

                link = self.link
                self.tour = TourSyncer(self.runtime, lambda: self.services.store if self.services else None,
                                       link.central_url, lambda: self.utc_now())
                link.on_link_restored.append(self.tour.kick)
                link.on_link_restored.extend(link_restored_hooks(self.runtime))
            self._tasks.append(asyncio.create_task(self.link.run_forever(), name="link"))
        await asyncio.to_thread(self.open)
        if self.services is None:
            return
        self._tasks.append(asyncio.create_task(asyncio.to_thread(self.restore_receipts), name="receipts"))
        self._tasks.append(asyncio.create_task(self._agencies_then_background(), name="agencies"))

    async def _agencies_then_background(self) -> None:
        # Building the agencies (in training, the emulated ones and their data) must
        # not compete with the first searches: a moment after the store is open,
        # unless a dossier or a visit asks for them first (with_agencies).
        await asyncio.sleep(AGENCIES_AFTER_OPEN)
        await asyncio.to_thread(self.with_agencies)
        if not self.background or self.services is None:
            return
        from counter.service.composition import background_work

        work = background_work(self.runtime)
        if self.runtime.mobile:
            log.info("bus %s: no outbox relay, waiting-list or family sync here (central runs them "
                     "after `counter tour sync`)", self.runtime.bus)
        if "outbox-relay" in work:
            self._tasks.append(asyncio.create_task(self._relay_outbox(), name="outbox-relay"))
        if "waiting-lists" in work:
            self._tasks.append(asyncio.create_task(self._sync_waiting_lists(), name="waiting-lists"))
        if "family-sync" in work and self.sync_configured() and self.runtime.sync_enabled:
            self._tasks.append(asyncio.create_task(self._sync_families(), name="family-sync"))
        if "statistics-days" in work:
            self._tasks.append(asyncio.create_task(asyncio.to_thread(self.keep_statistics_days),
                                                   name="statistics-days"))

    def keep_statistics_days(self) -> None:
        """The last year's days of statistics kept, where missing (blocking, once a start)."""
        from counter.services.statistics import keep_days

        services = self.services
        if services is None:
            return
        try:
            kept = keep_days(services.store, self.runtime.clock.today())
        except Exception:  # noqa: BLE001 — the supervisor's first opening keeps them instead
            log.warning("statistics' days not kept", exc_info=True)
        else:
            log.info("statistics: %d days were kept, %d read and kept now (visits and agencies)", *kept)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass
        self._tasks.clear()
        pool, self.search_pool = self.search_pool, None
        if pool is not None:
            await asyncio.to_thread(pool.close)
        services, self.services = self.services, None
        if services is None:
            return
        if self._given_store is None:
            await services.aclose()
        elif services.dossier is not None:  # the store belongs to whoever gave it
            await services.dossier.aclose()

    async def _relay_outbox(self) -> None:
        from counter.services.outbox import OutboxRelay

        services = self.services
        self._loop = asyncio.get_running_loop()
        self._relay = OutboxRelay(services.store, services.dossier.backends, owner=f"{self.host}/counter-service")
        await self._relay.run_forever(asyncio.Event())

    async def _sync_waiting_lists(self) -> None:
        from counter.services.capacities import sync_waiting_lists

        services = self.services
        for backend in services.dossier.backends.values():
            if hasattr(backend, "capacities"):
                try:
                    await sync_waiting_lists(services.store, backend, self.runtime.clock.today())
                except Exception:  # noqa: BLE001 — the town down: the last figures stay
                    log.warning("crèche waiting lists not synchronised", exc_info=True)

    async def _sync_families(self) -> None:
        """A pass of the family system's change feed every [sync] interval_minutes (one per
        site: the pass's lease in the database keeps a second service from running one)."""
        from counter.services.family_sync import FamilySync, SyncBusy, SyncFailed, holder_name

        services = self.services
        backend = next((b for b in services.dossier.backends.values() if hasattr(b, "changes")), None)
        if backend is None:
            return
        sync = FamilySync(services.store, backend, clock=self.utc_now,
                          holder=holder_name(f"{self.host}/counter-service"))
        while True:
            try:
                await sync.run()
            except SyncBusy:
                log.info("family sync: another pass is running; next try in %d min",
                         self.runtime.sync_interval_minutes)
            except SyncFailed as exc:
                log.warning("family sync stopped: %s", exc.english)
            except Exception:  # noqa: BLE001 — the database gone: the next pass tries again
                log.exception("family sync failed")
            self.sync_passes += 1
            self.sync_pass_done.set()
            await asyncio.sleep(self.runtime.sync_interval_minutes * 60)

    def sync_configured(self) -> bool:
        """A production service with a family system (a ``city`` backend at an address)."""
        backends = self.runtime.backends
        if self.runtime.training or self.runtime.mobile or not backends:  # the bus: central pulls the feed
            return False
        return any(getattr(s, "kind", None) == "city" and getattr(s, "base_url", None) and s.enabled
                   for s in backends.values())

    def sync_status(self):
        from counter.services.family_sync import sync_status

        return sync_status(self.ready_services().store, self.utc_now(), configured=self.sync_configured(),
                           warn_after_hours=self.runtime.sync_warn_after_hours)

    def sync_warning(self) -> str:
        """French, for every agent's status line: the families not synchronised for too long."""
        if not self.sync_configured():
            return ""
        try:
            status = self.sync_status()
        except Exception:  # noqa: BLE001 — the session must not fail for this
            log.warning("family sync status unreadable", exc_info=True)
            return ""
        from counter.domain.family_feed import sync_warning

        return sync_warning(status)

    def is_offline(self) -> bool:
        """The bus's link to the town's database is down (never at a town hall's counter)."""
        return self.link is not None and self.link.is_offline()

    def offline_since(self):
        """Since when the bus's link is down (aware UTC, the service's clock); None when up,
        not probed yet, or not a bus."""
        return self.link.offline_since if self.link is not None else None

    def switch_training_link(self, up: bool) -> None:
        """Training's bus: the trainer cuts or restores the link; probed at once (from a
        handler's thread), so that the session says it and a restored link sends back."""
        if self.training_link is None or self.link is None or self._service_loop is None:
            raise TrainingOnly("La liaison ne se coupe qu'en formation, dans le scénario du bus itinérant.")
        self.training_link.up = up
        asyncio.run_coroutine_threadsafe(self.link.probe_once(), self._service_loop).result(timeout=30)

    def tour_notice(self) -> str:
        """French, for the agents of the bus: what the last automatic sync that sent something
        changed (a registration the town hall placed otherwise); "" when nothing to say."""
        sent = self.tour.last_sent if self.tour is not None else None
        if sent is None:
            return ""
        from counter.domain.mobile import Placed, tour_notice

        report, finished = sent
        placed = [Placed(str(item.outcome.get("code", "")), str(registration.get("state", "")),
                         registration.get("rank"))
                  for item, registration in report.changed]
        return tour_notice(finished, report.count("household", "created", "joined"),
                           report.count("visit", "confirmed"), placed, len(report.refused))

    def wake_outbox(self) -> None:
        """Deliver now rather than at the relay's next round. Handlers run in worker
        threads: the relay's event is set on its own loop. On the bus, whose outbox is
        never relayed, send what was just confirmed back to the town's database if the
        link is up (the town's counter delivers it)."""
        if self.tour is not None and self.link is not None and self.link.online:
            self.tour.kick()
        relay, loop = self._relay, self._loop
        if relay is not None and loop is not None:
            try:
                loop.call_soon_threadsafe(relay.wake)
            except RuntimeError:  # the service is stopping: the next start delivers it
                pass

    # -- for handlers ----------------------------------------------------------------------

    def ready_services(self, retry: bool = False) -> Services:
        """The open services, waiting for the store's opening; raises NotReady.

        ``retry``: a store that failed to open is tried again (a terminal asking
        for its session again: F5, or a reconnection)."""
        if not self._opened.wait(READY_TIMEOUT):
            raise NotReady("Le service du guichet démarre : réessayez dans un instant.")
        if self.services is None and retry:
            with self._reopening:
                if self.services is None:
                    self.open()
                    if self.services is not None:
                        threading.Thread(target=self.connect_agencies, daemon=True).start()
        if self.services is None:
            raise NotReady(self.problem or "Le service du guichet démarre : réessayez dans un instant.")
        return self.services

    def with_agencies(self) -> Services:
        services = self.ready_services()
        if not self._agencies.is_set():
            with self._connecting:  # one request builds them, the others wait for it
                if not self._agencies.is_set():
                    self.connect_agencies()
        self._agencies.wait(READY_TIMEOUT)
        return services

    @property
    def agencies_ready(self) -> bool:
        return self._agencies.is_set()

    def actor(self, uid: int, retry: bool = False) -> Actor:
        """The agent behind a peer: their account and, in production, their role in
        the agents table. Raises NotAnAgent (French) for anyone else."""
        from counter.services import audit

        login = self.identify(uid)
        if not login:
            raise NotAnAgent(f"Accès refusé : le compte n° {uid} n'a pas de nom sur ce serveur.")
        if self.runtime.training:
            return audit.Actor(login, "trainer", self.host, True)
        from counter.services.agents import AgentService

        agent = AgentService(self.ready_services(retry).store).get(login)
        if agent is None or not agent.active:
            state = "désactivé" if agent else "inconnu"
            raise NotAnAgent(f"Accès refusé : l'identifiant « {login} » est {state} au guichet. "
                             f"Un superviseur peut l'ajouter : counter agents add {login} --role agent")
        if agent.role == "trainer":
            raise NotAnAgent(f"Accès refusé : l'identifiant « {login} » est formateur : "
                             "le rôle formateur n'existe qu'en mode formation.")
        return audit.Actor(login, agent.role, self.host, False)
