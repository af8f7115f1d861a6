"""The counter service pulls the family system's feed in the background when a
family system is configured, and says so in the session; the emulated city is
in-process (its feed positioned near its end, so that a pass is short)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from counter.clock import FixedClock
from counter.client.api import CounterClient
from counter.services.family_sync import FEED
from counter.store.models import Household, SyncState
from fixtures.emulators.city import emulator
from fixtures.emulators.knobs import in_process_transport
from fixtures.emulators.plugin import EmulatorContext
from fixtures.emulators.town_data import town_data
from tests.backends.helpers import make_backend
from tests.conftest import TODAY


@pytest.fixture
def sqlite_store(tmp_path):
    from counter.store import migrate
    from counter.store.engine import Store

    store = Store(f"sqlite:///{tmp_path / 'service.sqlite3'}")
    migrate.upgrade(store)
    yield store
    store.dispose()


def test_the_service_runs_a_pass_and_supervisors_see_it(sqlite_store, tmp_path):
    from counter import registry
    from counter.runtime import Runtime
    from counter.service.local import start_local_service
    from fixtures.agents import ensure_agent, give_role

    app = emulator.create_app(EmulatorContext(town=town_data()))
    with sqlite_store.write() as session:  # the town's history pulled already but its last three families
        session.add(SyncState(name=FEED, cursor=f"c{len(app.state.city.history) - 3}"))
    ensure_agent(sqlite_store, "agent")
    give_role(sqlite_store, "agent", "supervisor")
    city = registry.load("city").Settings(kind="city", base_url="http://city.example")
    runtime = Runtime(mode="production", data_dir=tmp_path, database_url=str(sqlite_store.url),
                      clock=FixedClock(TODAY), agent_login="agent", backends={"city": city})
    backend = make_backend("city", in_process_transport(app, None, emulator.error_body))
    service = start_local_service(runtime, store=sqlite_store, backends=[backend])
    try:
        core = service.service.core
        assert core.sync_pass_done.wait(60), "no pass within a minute"
        with sqlite_store.read() as session:
            state = session.get(SyncState, FEED)
            households = session.scalar(select(func.count()).select_from(Household))
        assert state.last_success_at is not None and state.holder is None
        assert state.cursor == f"c{len(app.state.city.history)}" and 1 <= households <= 3
        client = CounterClient.at(service.service.socket_path)
        try:
            status = client.sync_status()
            assert status.configured and status.last_success_at is not None and not status.stale
            assert client.session().sync_warning == ""
        finally:
            client.close()
    finally:
        service.stop()
