"""The session, the lock and the PIN."""

from __future__ import annotations

from counter import __version__
from counter.service.handlers import handles
from counter.wire import PROTOCOL, api
from counter.wire.session import ScenarioInfo, Session


@handles(api.SESSION)
def session(core, actor, _args) -> Session:
    from counter.domain.rules import default_rules
    from counter.services.lock import LockService

    services = core.ready_services(retry=_args.retry)
    runtime = core.runtime
    scenario = runtime.scenario
    info = None
    if scenario is not None:
        info = ScenarioInfo(scenario.name, scenario.title, scenario.description, scenario.day,
                            tuple(scenario.searches))
    return Session(
        protocol=PROTOCOL, version=__version__, login=actor.login, role=actor.role, training=runtime.training,
        town_name=runtime.town_name, today=runtime.clock.today(), idle_lock_minutes=runtime.idle_lock_minutes,
        rules=runtime.rules or default_rules(), has_pin=LockService(services.store).has_pin(actor.login),
        host=core.host, theme=runtime.theme, scenario=info, sources_ready=core.agencies_ready, notices=tuple(core.notices),
        sync_warning=core.sync_warning(), keymap=tuple(sorted(runtime.keymap.items())),
        bus=runtime.bus, offline_since=core.offline_since(), desk=runtime.desk(),
        link_switch=core.training_link is not None, tour_notice=core.tour_notice(),
    )


@handles(api.TRAINING_LINK)
def training_link(core, actor, args) -> None:
    # Training only (core.TrainingOnly elsewhere): the trainees' own bus, no real link.
    core.switch_training_link(bool(args.up))


@handles(api.UNLOCK)
def unlock(core, actor, args):
    from counter.services.lock import LockService

    return LockService(core.ready_services().store, host=core.host, now=core.utc_now).unlock(actor.login, args.pin)


@handles(api.SET_PIN)
def set_pin(core, actor, args) -> None:
    from counter.services.lock import LockService

    LockService(core.ready_services().store, host=core.host).set_pin(actor.login, args.pin)
