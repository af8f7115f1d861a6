"""The administrators' commands: agents, the audit trail, purge, exports, the outbox.

Each checks the role its command needs with ``audit.require`` before acting (a
refusal is audited under the peer's own login), as the direct commands do.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import AsyncIterator, Callable, Iterator

from counter.service.handlers import handles
from counter.wire import api

BATCH = 500  # rows handed from the database thread to the stream at a time
DELIVER_ROUNDS = 1000  # as `counter outbox deliver`: each round delivers or postpones one message at least


def _store(core):
    return core.ready_services().store


def _bad(message: str):
    from counter.wire.codec import WireFormatError

    return WireFormatError(message)


# -- agents -------------------------------------------------------------------------------------


@handles(api.AGENTS_LIST)
def agents_list(core, actor, _args):
    from counter.services import audit
    from counter.services.agents import AgentService

    store = _store(core)
    audit.require(store, actor, "agents")  # the logins and roles of every agent: a supervisor's view
    return AgentService(store).list()


@handles(api.AGENTS_ADD)
def agents_add(core, actor, args):
    from counter.services.agents import AgentService

    return AgentService(_store(core)).add(args.login, args.role, args.display_name, by=actor)


@handles(api.AGENTS_DISABLE)
def agents_disable(core, actor, args):
    from counter.services.agents import AgentService

    return AgentService(_store(core)).disable(args.login, by=actor)


@handles(api.AGENTS_ENABLE)
def agents_enable(core, actor, args):
    from counter.services.agents import AgentService

    return AgentService(_store(core)).enable(args.login, by=actor)


@handles(api.AGENTS_RESET_PIN)
def agents_reset_pin(core, actor, args) -> None:
    from counter.services.agents import AgentError
    from counter.services.lock import LockService

    try:
        LockService(_store(core), host=core.host).reset(args.login, actor)
    except LookupError:
        raise AgentError(f"no agent {args.login[:64]!r}") from None


# -- the audit trail ------------------------------------------------------------------------------


@handles(api.AUDIT_VERIFY)
def audit_verify(core, actor, args) -> api.ChainReport:
    from counter.services import audit
    from counter.store import anchor

    store = _store(core)
    audit.require(store, actor, "audit.view")
    broken, count = audit.verify(store)
    if broken is not None:
        return api.ChainReport(count, broken.describe())
    problem = ""
    if args.publish and store.anchor is not None:
        problem = store.anchor.publish_current(store) or ""
    return api.ChainReport(count, "", anchor.known_identity(store) or "", problem)


@handles(api.AUDIT_AGAINST)
def audit_against(core, actor, args) -> api.AnchorReport:
    from counter.services import audit
    from counter.store import anchor

    store = _store(core)
    audit.require(store, actor, "audit.view")
    database = anchor.known_identity(store) or ""
    checked = audit.against_published(store, [anchor.Head(database, h.seq, h.hash) for h in args.heads])
    problem = ""
    if checked.problem is None and args.publish and store.anchor is not None:
        problem = store.anchor.publish_current(store) or ""
    return api.AnchorReport(checked.problem, checked.heads, checked.furthest, problem)


@handles(api.AUDIT_EXPORT)
async def audit_export(core, actor, args) -> AsyncIterator[api.AuditRow]:
    def rows() -> Iterator[api.AuditRow]:
        from counter.services import audit

        store = _store(core)
        audit.require(store, actor, "audit.export")
        for row in audit.iter_entries(store, args.since):
            yield api.AuditRow(**row)

    async for row in _from_thread(rows):
        yield row


@handles(api.PURGE)
def purge(core, actor, args) -> api.PurgeReport:
    from datetime import UTC, datetime

    from counter.services import audit

    try:
        audit_age = audit.parse_duration(args.older_than or core.runtime.retention_audit)
        drafts_age = audit.parse_duration(args.drafts_older_than or core.runtime.retention_drafts)
    except ValueError as exc:
        raise _bad(str(exc)) from None
    store = _store(core)
    audit.require(store, actor, "audit.export")
    now = datetime.now(UTC)
    report = audit.purge(store, actor, now - audit_age, now - drafts_age)
    return api.PurgeReport(report.audit_entries, report.drafts, report.cached)


# -- exports for the town's services ---------------------------------------------------------------


@handles(api.REGISTRATIONS_EXPORT)
async def registrations_export(core, actor, args) -> AsyncIterator[api.RegistrationRow]:
    def rows() -> Iterator[api.RegistrationRow]:
        from counter.services import audit
        from counter.services.export import FORMATS, iter_registrations

        if args.format not in FORMATS:
            raise _bad(f"unknown format {args.format[:20]!r}")
        store = _store(core)
        audit.require(store, actor, "export")
        count = 0
        for row in iter_registrations(store, args.since):
            yield api.RegistrationRow(**row)
            count += 1
        # Every row has left the service: the export is in the trail even if the
        # client then fails to write its file.
        audit.record(store, actor, "registrations.export", "registrations", "",
                     {"since": args.since.isoformat(), "format": args.format, "count": count})

    async for row in _from_thread(rows):
        yield row


# -- the outbox -------------------------------------------------------------------------------------


def _outbox_store(core, actor):
    from counter.services import audit

    store = _store(core)
    audit.require(store, actor, "outbox")
    return store


@handles(api.OUTBOX_LIST)
def outbox_list(core, actor, args):
    from counter.services.outbox import STATES, list_messages

    if args.state is not None and args.state not in STATES:
        raise _bad(f"unknown state {args.state[:20]!r}")
    return list_messages(_outbox_store(core, actor), args.state)


@handles(api.OUTBOX_RETRY)
def outbox_retry(core, actor, args) -> int:
    from counter.services.outbox import retry

    store = _outbox_store(core, actor)
    count = retry(store, args.ids) if args.ids else 0
    if args.refused:
        count += retry(store, "refused")
    if count:
        core.wake_outbox()
    return count


@handles(api.OUTBOX_DELIVER)
def outbox_deliver(core, actor, _args) -> api.DeliveryReport:
    import anyio.from_thread

    store = _outbox_store(core, actor)
    backends = core.with_agencies().dossier.backends
    # The agencies' clients live on the service's event loop: deliver there.
    return anyio.from_thread.run(_deliver, core, store, backends)


async def _deliver(core, store, backends) -> api.DeliveryReport:
    from counter.services.outbox import OutboxRelay, RelayReport
    from counter.terminal import first_line

    relay = OutboxRelay(store, backends, owner=f"{core.host}/counter-service/deliver")
    total = RelayReport()
    try:
        for _ in range(DELIVER_ROUNDS):
            report = await relay.run_once()
            total += report
            if report.total == 0:  # nothing due: the rest waits for its backoff
                break
    except Exception as exc:  # noqa: BLE001 — the database went away; leases expire, nothing is lost
        return api.DeliveryReport(total.delivered, total.retried, total.refused,
                                  f"{type(exc).__name__}: {first_line(exc)}")
    return api.DeliveryReport(total.delivered, total.retried, total.refused)


# -- streaming what a database thread reads -------------------------------------------------------


async def _from_thread(produce: Callable[[], Iterator]) -> AsyncIterator:
    """The items of ``produce()``, a generator run in ONE worker thread (its
    database session never changes thread), handed to the event loop in batches;
    the reader stops it early by going away."""
    handoff: queue.Queue = queue.Queue(maxsize=4)
    stop = threading.Event()
    end = object()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.5)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        items = produce()
        try:
            batch: list = []
            for item in items:
                batch.append(item)
                if len(batch) >= BATCH:
                    if not put(batch):
                        return
                    batch = []
            if put(batch):
                put(end)
        except BaseException as exc:  # noqa: BLE001 — raised again on the reader's side
            put(exc)
        finally:
            items.close()

    producer = asyncio.get_running_loop().run_in_executor(None, run)
    try:
        while True:
            try:
                got = await asyncio.to_thread(handoff.get, True, 0.5)
            except queue.Empty:
                if producer.done() and handoff.empty():
                    break
                continue
            if got is end:
                break
            if isinstance(got, BaseException):
                raise got
            for item in got:
                yield item
    finally:
        stop.set()

