"""What the counter service is built of: the store, the use cases, the agencies.

Only the service process (``counter serve``, or a service in this process for
tests and replays) and the administrators' direct commands import this module;
the terminal never does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from counter.runtime import Runtime

if TYPE_CHECKING:
    from collections.abc import Callable, Collection

    from counter.backend import Backend
    from counter.services.dossier import DossierService
    from counter.services.households import HouseholdService
    from counter.services.search import SearchService
    from counter.services.visits import VisitService
    from counter.store.engine import Store


@dataclass
class Services:
    store: Store
    search: SearchService
    households: HouseholdService
    visits: VisitService
    # Built after the search is usable: connecting the agencies (in training,
    # building the emulated ones) must not delay the first search.
    dossier: DossierService | None = None

    async def aclose(self) -> None:
        if self.dossier is not None:
            await self.dossier.aclose()
        self.store.dispose()


class NotMigrated(Exception):
    """The production database is behind the code's schema."""


def open_store(runtime: Runtime) -> Store:
    """The training database is created, upgraded and filled on demand; a
    production database must already be at the code's schema."""
    store = _open_store(runtime)
    from counter.store.anchor import anchor_for, target_for

    store.anchor = anchor_for(target_for(runtime))  # every audited write publishes the chain's head
    return store


def _open_store(runtime: Runtime) -> Store:
    if runtime.training and runtime.mobile:  # the bus scenario: a replica of the training town
        from fixtures.bus import open_training_bus

        return open_training_bus(runtime)
    if runtime.training:
        from fixtures.training import load_training_activity, prepare_training_store

        store = prepare_training_store(runtime.database_url)
        if runtime.scenario is not None and runtime.scenario.activity:
            load_training_activity(store, runtime.scenario.day)
        return store

    from counter.store import migrate
    from counter.store.engine import Store

    store = Store(runtime.database_url)
    revision = migrate.current_revision(store)
    if revision != migrate.HEAD:
        store.dispose()
        raise NotMigrated(
            f"la base de données est au schéma {revision or 'vide'}, attendu {migrate.HEAD} : "
            "un administrateur doit lancer « counter db upgrade »."
        )
    from counter.store import dataset

    try:
        dataset.ensure(store, dataset.PRODUCTION)
    except dataset.MixedData:
        store.dispose()
        raise
    return store


def secret_names(runtime: Runtime) -> list[str]:
    """The keyring entries the service reads before it serves: the enabled backends
    that need a secret (real agencies; emulated ones in-process need none, so the
    training defaults need none), and on the bus the town's database password when
    its URL holds none (``mobile.central``)."""
    names = []
    if runtime.backends is not None:
        from counter import registry

        names = [name for name, settings in runtime.backends.items()
                 if settings.enabled and settings.base_url is not None and registry.load(settings.kind).needs_secret]
    if runtime.mobile and central_needs_secret(runtime.central_url):
        from counter.service.link import CENTRAL_SECRET

        names.append(CENTRAL_SECRET)
    return names


def central_needs_secret(url: str) -> bool:
    """A PostgreSQL URL of the town's database without its password."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return parsed.get_backend_name() == "postgresql" and not parsed.password


# What a counter service runs in the background besides serving, by name (the
# tasks of ServiceCore): delivering the outbox to the agencies, the crèche waiting
# lists from the town, the family system's change feed, the statistics' days of the
# last year kept once (the supervisor's first opening after an upgrade then waits for
# nothing but today).
BACKGROUND_WORK = ("outbox-relay", "waiting-lists", "family-sync", "statistics-days")


def background_work(runtime: Runtime) -> tuple[str, ...]:
    """Which of BACKGROUND_WORK this service runs. The bus ([mobile]) runs none: its
    outbox is never relayed (central writes and delivers the messages when it
    confirms the bus's visits, after `counter tour sync`) and its replica takes no
    feed (central does). The family feed still needs a family system configured
    (ServiceCore.sync_configured) and [sync] enabled."""
    return () if runtime.mobile else BACKGROUND_WORK


def link_restored_hooks(runtime: Runtime) -> list:
    """More callbacks for the bus's link monitor to run when the link to the town's
    database comes up (each ``callback(monitor)``, sync or async; ``monitor.central_url()``
    gives the URL with its password), after the tour sync that ServiceCore starts
    itself (counter.service.tour_auto). None yet."""
    return []


def read_backend_secrets(runtime: Runtime):
    """The keyring read once for every backend that needs it (never raises)."""
    from counter.credentials import read_secrets

    return read_secrets(secret_names(runtime))


def build_backends(runtime: Runtime, secrets=None, kinds: Collection[str] | None = None) -> list[Backend]:
    """Every enabled backend of the configuration (training: the emulated agencies);
    only those of ``kinds`` when given.

    Secrets come from ``secrets`` (a KeyringRead), else ``runtime.secrets``,
    else the keyring is read now (administrators' commands).
    """
    from counter import registry
    from counter.backend import BackendContext

    read = secrets if secrets is not None else runtime.secrets
    if read is None:
        read = read_backend_secrets(runtime)
    settings_by_name = runtime.backends
    if settings_by_name is None:
        from counter.config import TRAINING_BACKENDS

        settings_by_name = {
            name: registry.load(raw["kind"]).Settings.model_validate(dict(raw))
            for name, raw in TRAINING_BACKENDS.items()
        }
    backends = []
    for name, settings in settings_by_name.items():
        if not settings.enabled or (kinds is not None and settings.kind not in kinds):
            continue
        plugin = registry.load(settings.kind)
        transport, secret = None, None
        if settings.base_url is None:  # training only: configuration validation sees to it
            from fixtures.emulators.plugin import emulated_transport

            transport = emulated_transport(settings.kind, runtime.emulators.get(name), scenario=runtime.scenario)
        else:
            secret = read.secrets.get(name)
        context = BackendContext(name=name, settings=settings, secret=secret, transport=transport,
                                 training=runtime.training, secret_unreadable=read.problem is not None)
        backends.append(plugin.create(context))
    return backends


def make_services(store: Store, runtime: Runtime, backends: list[Backend] | None = None) -> Services:
    """The services over an open store; the dossier too when ``backends`` are given
    (else :func:`attach_dossier` builds it later)."""
    from counter.services.households import HouseholdService
    from counter.services.search import SearchService
    from counter.services.visits import VisitService

    codes = runtime.rules.library.codes if runtime.rules is not None else None
    visits = VisitService(store, runtime.clock, runtime.agent_login, delivery_targets(runtime), library_codes=codes)
    services = Services(store, SearchService(store, runtime.clock), HouseholdService(store), visits)
    if backends is not None:
        attach_dossier(services, runtime, backends)
    return services


def delivery_targets(runtime: Runtime) -> dict[str, str]:
    """Which backend receives each kind of registration: the first enabled backend of
    the kind's ``target`` (a backend kind), else one named like it."""
    from counter.config import TRAINING_BACKENDS

    kinds = {}
    if runtime.backends is None:
        kinds = {name: raw["kind"] for name, raw in TRAINING_BACKENDS.items()}
    else:
        kinds = {name: s.kind for name, s in runtime.backends.items() if s.enabled}
    from counter.domain.kinds import all_kinds

    return {kind.id: next((n for n, k in kinds.items() if k == kind.target), kind.target) for kind in all_kinds()}


def attach_dossier(services: Services, runtime: Runtime, backends: list[Backend] | None = None,
                   secrets=None, offline: Callable[[], bool] | None = None) -> None:
    """``offline``: whether the bus's link is down now (its agencies' failures are said so).
    On the bus, a failing agency's section is answered from the dossiers taken along
    (counter.services.tour_dossiers)."""
    from counter.services.dossier import DossierService

    backends = build_backends(runtime, secrets) if backends is None else backends
    kept = None
    if runtime.mobile:
        from counter.services.tour_dossiers import stored_answer

        def kept(person_id: int, source: str, section: str):
            return stored_answer(services.store, person_id, source, section, runtime.clock.today())

    services.dossier = DossierService(services.store, backends, runtime.clock, offline=offline, kept_answers=kept,
                                      site=runtime.desk().site)


def open_services(runtime: Runtime) -> Services:
    return make_services(open_store(runtime), runtime)
