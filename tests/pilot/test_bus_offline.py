"""The roaming bus at 80x24 (docs/tour.md): while its link to the town's database is
down, every status line says « Hors ligne depuis hh:mm », in words (not colour
alone), and says nothing once the link is back. The town's database is a real
listener the test closes and opens; the bus's service probes it every second."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from counter.clock import FixedClock
from counter.domain.mobile import offline_line
from counter.service import link as link_module
from tests.conftest import TODAY
from tests.pilot.helpers import screen_lines, started, status_text, until
from tests.service.test_bus_link import Central


@pytest.fixture
def central():
    server = Central().up()
    yield server
    server.down()


@pytest.fixture
def bus_counter(sqlite_store, tmp_path, central, monkeypatch):
    from counter.app_factory import build_app
    from counter.runtime import Runtime
    from counter.service.local import start_local_service
    from fixtures.agents import ensure_agent, preset_pin

    monkeypatch.setattr(link_module, "UP_EVERY", 0.2)
    preset_pin(sqlite_store, "agent")
    ensure_agent(sqlite_store, "agent")
    runtime = Runtime(mode="production", data_dir=tmp_path, database_url=str(sqlite_store.url),
                      clock=FixedClock(TODAY), agent_login="agent", backends={},
                      bus="bus-1", central_url=central.url, link_probe_seconds=1)
    service = start_local_service(runtime, store=sqlite_store, backends=[])
    app = build_app(runtime, service=service)
    app.BUS_SESSION_REFRESH_SECONDS = 0.2  # the test's pace; a bus reads its session every 5 s
    return app


async def test_the_status_line_says_since_when_the_bus_is_offline(bus_counter, central):
    app = bus_counter
    central.down()
    lost = datetime.now(UTC).astimezone()
    async with started(app, size=(80, 24)) as pilot:
        await until(pilot, lambda: "Hors ligne depuis" in status_text(app), "the offline line")
        since = app.session.offline_since.astimezone()
        assert since.replace(second=0, microsecond=0) >= lost.replace(second=0, microsecond=0)
        wanted = f"Hors ligne depuis {since:%H:%M} (bus-1) : ce qui est saisi est gardé à bord."
        assert wanted in status_text(app)
        # Whole on one row of the 80 columns, in words: no colour needed to read it.
        assert any(wanted in line for line in screen_lines(app)), screen_lines(app)

        central.up()
        await until(pilot, lambda: "Hors ligne" not in status_text(app), "the line to go once the link is back")
        assert app.session.bus == "bus-1" and app.link_warning == ""

        central.down()
        await until(pilot, lambda: "Hors ligne depuis" in status_text(app), "offline again")


def test_the_offline_line_in_french():
    since = datetime(2026, 11, 25, 13, 5, tzinfo=UTC)
    local = since.astimezone()
    assert offline_line(None, "bus-1") == ""
    assert offline_line(since, "bus-1", today=local.date()) == (
        f"Hors ligne depuis {local:%H:%M} (bus-1) : ce qui est saisi est gardé à bord.")
    assert offline_line(since, "bus-1", today=date(2026, 12, 1)) == (
        f"Hors ligne depuis le {local:%d/%m/%Y} à {local:%H:%M} (bus-1) : ce qui est saisi est gardé à bord.")
