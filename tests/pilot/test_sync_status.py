"""The family system's synchronisation as the counter shows it: a warning on every
agent's status line when it is older than [sync] warn_after_hours, the last
success on the supervisors' outbox screen. A production service with a family
system configured (its background pass disabled: the test writes the state)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from counter.clock import FixedClock
from counter.domain.family_feed import local_time
from counter.services.family_sync import FEED
from counter.store.models import SyncState
from screens.outbox import OutboxScreen
from tests.conftest import TODAY
from tests.pilot.helpers import started, status_text, until


@pytest.fixture
def make_counter(sqlite_store, tmp_path):
    from counter import registry
    from counter.app_factory import build_app
    from counter.runtime import Runtime
    from counter.service.local import start_local_service
    from fixtures.agents import ensure_agent, give_role, preset_pin

    def make(role: str = "agent", city: bool = True):
        preset_pin(sqlite_store, "agent")
        ensure_agent(sqlite_store, "agent")
        give_role(sqlite_store, "agent", role)
        backends = {"city": registry.load("city").Settings(kind="city", base_url="http://127.0.0.1:9")} if city \
            else {}
        runtime = Runtime(mode="production", data_dir=tmp_path, database_url=str(sqlite_store.url),
                          clock=FixedClock(TODAY), agent_login="agent", backends=backends, sync_enabled=False,
                          sync_warn_after_hours=24)
        service = start_local_service(runtime, store=sqlite_store, backends=[])
        return build_app(runtime, service=service)

    return make


def synced(store, hours_ago: float | None) -> datetime | None:
    moment = None if hours_ago is None else datetime.now(UTC) - timedelta(hours=hours_ago)
    with store.write() as session:
        session.add(SyncState(name=FEED, last_success_at=moment, last_attempt_at=moment))
    return moment


async def test_agents_are_warned_when_the_last_synchronisation_is_too_old(sqlite_store, make_counter):
    last = synced(sqlite_store, hours_ago=30)
    app = make_counter()
    async with started(app) as pilot:
        await until(pilot, lambda: "non synchronisées" in status_text(app), "the warning")
        assert f"depuis le {local_time(last)}" in status_text(app)
        assert app.sync_warning  # on every screen's status line, from the session


async def test_no_warning_when_recent_or_without_a_family_system(sqlite_store, make_counter):
    synced(sqlite_store, hours_ago=2)
    app = make_counter()
    async with started(app) as pilot:
        await until(pilot, lambda: app.session is not None, "the session")
        await pilot.pause()
        assert app.sync_warning == "" and "synchronis" not in status_text(app)


async def test_without_a_family_system_nothing_is_said(sqlite_store, make_counter):
    app = make_counter(city=False)
    async with started(app) as pilot:
        await until(pilot, lambda: app.session is not None, "the session")
        assert app.sync_warning == ""


async def test_supervisors_see_the_last_synchronisation_on_the_outbox_screen(sqlite_store, make_counter):
    last = synced(sqlite_store, hours_ago=1)
    app = make_counter(role="supervisor")
    async with started(app) as pilot:
        await app.push_screen(OutboxScreen())
        await until(pilot, lambda: isinstance(app.screen, OutboxScreen) and "Système famille" in status_text(app),
                    "the sync line")
        assert f"dernière synchronisation le {local_time(last)}." in status_text(app)
