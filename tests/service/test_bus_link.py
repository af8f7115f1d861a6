"""The roaming bus's counter service (docs/tour.md): it watches its link to the
town's database (a real listener the test opens and closes stands for it), says
in the session since when it is offline, and runs neither the outbox relay nor
the syncs that central runs."""

from __future__ import annotations

import asyncio
import socket
import time
from datetime import UTC, datetime

import pytest

from counter.clock import FixedClock
from counter.service import link as link_module
from counter.service.link import LinkMonitor, endpoint_of
from tests.conftest import TODAY
from tests.polling import wait_for

DEADLINE = 30.0  # only turns a hang into a failure


class Central:
    """A TCP listener standing for the town's database server: really up or down."""

    def __init__(self) -> None:
        self.port = 0
        self.sock: socket.socket | None = None

    def up(self) -> Central:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(16)
        self.sock, self.port = sock, sock.getsockname()[1]
        return self

    def down(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    @property
    def url(self) -> str:
        return f"postgresql://counter@127.0.0.1:{self.port}/town"


@pytest.fixture
def central():
    server = Central().up()
    yield server
    server.down()


class Ticking:
    """The service's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def poll(condition, what: str) -> None:
    wait_for(condition, what, deadline=DEADLINE)


async def test_the_monitor_follows_a_real_server_going_down_and_coming_back(central):
    clock = Ticking()
    restored = []
    monitor = LinkMonitor(central.url, probe_seconds=15, clock=clock)
    monitor.on_link_restored.append(lambda m: restored.append(m.since))
    assert monitor.online is None and monitor.offline_since is None  # not probed yet

    assert await monitor.probe_once() is True
    assert monitor.online and monitor.offline_since is None and restored == [clock.now]
    assert monitor.next_delay() >= 60  # less often while up

    central.down()
    clock.now = datetime(2026, 11, 25, 10, 30, tzinfo=UTC)
    assert await monitor.probe_once() is False
    assert monitor.offline_since == clock.now and monitor.next_delay() == 15
    lost = clock.now
    clock.now = datetime(2026, 11, 25, 10, 45, tzinfo=UTC)
    assert await monitor.probe_once() is False
    assert monitor.offline_since == lost  # since when it went down, not the last try

    central.up()  # the same port again
    clock.now = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)

    async def sync(m):  # the shape the tour sync will have: async, given the monitor
        restored.append(("async", m.online))

    monitor.on_link_restored.append(sync)
    assert await monitor.probe_once() is True
    assert monitor.offline_since is None and monitor.since == clock.now
    assert restored == [datetime(2026, 11, 25, 9, 0, tzinfo=UTC), clock.now, ("async", True)]
    assert await monitor.probe_once() is True
    assert len(restored) == 3  # up and still up: not restored again


async def test_a_failing_callback_stops_neither_the_others_nor_the_monitor(central):
    seen = []

    def broken(_m):
        raise RuntimeError("bug")

    monitor = LinkMonitor(central.url, probe_seconds=15, clock=Ticking())
    monitor.on_link_restored.extend([broken, lambda m: seen.append("after")])
    assert await monitor.probe_once() is True and seen == ["after"]


async def test_a_server_that_never_answers_is_given_up_at_the_time_out():
    # A listener whose queue is full takes no more connection: the SYN is left
    # unanswered, as on a dead 4G link.
    with socket.socket() as quiet:
        quiet.bind(("127.0.0.1", 0))
        quiet.listen(0)
        port = quiet.getsockname()[1]
        fillers = []
        try:
            for _ in range(8):  # fill the accept queue
                s = socket.socket()
                s.setblocking(False)
                try:
                    s.connect(("127.0.0.1", port))
                except BlockingIOError:
                    pass
                fillers.append(s)
            monitor = LinkMonitor(f"postgresql://c@127.0.0.1:{port}/town", probe_seconds=15, clock=Ticking(),
                                  timeout=0.5)
            started = time.monotonic()
            up = await monitor.probe_once()
            elapsed = time.monotonic() - started
        finally:
            for s in fillers:
                s.close()
    # Cut at its time-out (Linux drops a SYN to a full queue): offline, never waited past it.
    assert up is False and monitor.offline_since is not None
    assert elapsed < 3.0


async def test_the_probe_never_blocks_the_event_loop(central):
    central.down()
    monitor = LinkMonitor(central.url, probe_seconds=15, clock=Ticking())
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    try:
        await monitor.probe_once()
    finally:
        task.cancel()
    assert ticks > 0


def test_where_the_towns_database_listens():
    assert endpoint_of("postgresql://u:p@db.mairie.example:6543/town").describe() == "db.mairie.example:6543"
    assert endpoint_of("postgresql://u@db.mairie.example/town").port == 5432
    assert endpoint_of("postgresql:///town").path == "/var/run/postgresql/.s.PGSQL.5432"
    assert endpoint_of("sqlite:////tmp/town.sqlite3").sqlite
    with pytest.raises(ValueError):
        endpoint_of("not a url")


def test_the_password_comes_from_the_keyring_when_the_url_has_none(central):
    monitor = LinkMonitor(central.url, probe_seconds=15, clock=Ticking(), password="s3cret")
    assert monitor.central_url() == f"postgresql://counter:s3cret@127.0.0.1:{central.port}/town"
    given = LinkMonitor("postgresql://counter:own@127.0.0.1:1/town", probe_seconds=15, clock=Ticking(),
                        password="s3cret")
    assert given.central_url() == "postgresql://counter:own@127.0.0.1:1/town"


def test_the_bus_reads_the_towns_password_with_the_agencies_secrets(tmp_path):
    from counter.runtime import Runtime
    from counter.service.composition import secret_names

    bus = Runtime(mode="production", data_dir=tmp_path, database_url="sqlite:///x", backends={},
                  bus="bus-1", central_url="postgresql://counter@db.mairie.example/town")
    assert secret_names(bus) == ["mobile.central"]
    from dataclasses import replace

    assert secret_names(replace(bus, central_url="postgresql://counter:pw@db.mairie.example/town")) == []
    assert secret_names(replace(bus, bus="", central_url="")) == []


# -- the bus's service ------------------------------------------------------------------------


@pytest.fixture
def sqlite_store(tmp_path):
    from counter.store import migrate
    from counter.store.engine import Store

    store = Store(f"sqlite:///{tmp_path / 'replica.sqlite3'}")
    migrate.upgrade(store)
    yield store
    store.dispose()


@pytest.fixture
def bus_service(sqlite_store, tmp_path, central, monkeypatch):
    from counter import registry
    from counter.runtime import Runtime
    from counter.service.local import start_local_service
    from fixtures.agents import ensure_agent

    monkeypatch.setattr(link_module, "UP_EVERY", 0.2)  # probed every second, up or down
    ensure_agent(sqlite_store, "agent")
    # A family system configured: a town hall's service would pull its feed.
    city = registry.load("city").Settings(kind="city", base_url="http://127.0.0.1:9")
    runtime = Runtime(mode="production", data_dir=tmp_path, database_url=str(sqlite_store.url),
                      clock=FixedClock(TODAY), agent_login="agent", backends={"city": city},
                      bus="bus-1", central_url=central.url, link_probe_seconds=1)
    service = start_local_service(runtime, store=sqlite_store, backends=[])
    yield service
    service.stop()


def test_the_session_says_since_when_the_bus_is_offline(bus_service, central):
    from counter.client.api import CounterClient

    core = bus_service.service.core
    client = CounterClient.at(bus_service.service.socket_path)
    try:
        poll(lambda: core.link.online is True, "the first probe")
        session = client.session()
        assert session.bus == "bus-1" and session.offline_since is None

        before = datetime.now(UTC)
        central.down()
        poll(lambda: client.session().offline_since is not None, "the session to say offline")
        since = client.session().offline_since
        assert before <= since <= datetime.now(UTC) and since.tzinfo is not None

        central.up()
        poll(lambda: client.session().offline_since is None, "the session to say online again")
    finally:
        client.close()


def test_the_bus_runs_no_relay_and_no_sync(bus_service):
    from counter.service.composition import background_work

    core = bus_service.service.core
    poll(lambda: core.agencies_ready, "the agencies")
    agencies = next(t for t in core._tasks if t.get_name() == "agencies")
    poll(agencies.done, "the background work to be started")
    names = {t.get_name() for t in core._tasks}
    assert names.isdisjoint({"outbox-relay", "waiting-lists", "family-sync"}), names
    assert "link" in names
    assert core._relay is None and not core.sync_configured() and core.sync_warning() == ""
    assert background_work(core.runtime) == ()


def test_a_town_halls_service_has_no_link_and_runs_its_background_work(tmp_path):
    from counter.runtime import Runtime
    from counter.service.composition import BACKGROUND_WORK, background_work
    from counter.service.core import ServiceCore

    runtime = Runtime(mode="production", data_dir=tmp_path, database_url="sqlite:///x", backends={})
    core = ServiceCore(runtime)
    assert core.link is None and core.offline_since() is None and not core.is_offline()
    assert background_work(runtime) == BACKGROUND_WORK


def test_the_configurations_mobile_table_makes_a_bus(tmp_path):
    from counter.runtime import resolve

    replica, town = tmp_path / "replica.sqlite3", tmp_path / "town.sqlite3"
    config = tmp_path / "bus.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{replica}"\n\n[mobile]\nbus = "bus-1"\n'
                      'central_url = "postgresql://counter@db.mairie.example/town"\nprobe_seconds = 20\n',
                      encoding="utf-8")
    runtime = resolve(str(config), env={}, agent_login="agent")
    assert runtime.mobile and runtime.bus == "bus-1" and runtime.link_probe_seconds == 20
    assert runtime.central_url == "postgresql://counter@db.mairie.example/town"
    town_hall = tmp_path / "mairie.toml"
    town_hall.write_text(f'[database]\nurl = "sqlite:///{town}"\n', encoding="utf-8")
    assert not resolve(str(town_hall), env={}, agent_login="agent").mobile


def test_counter_doctor_says_what_the_bus_does_not_run(tmp_path, central):
    from counter.credentials import KeyringRead
    from counter.doctor import mobile_checks
    from counter.runtime import Runtime

    bus = Runtime(mode="production", data_dir=tmp_path, database_url="sqlite:///x", backends={},
                  bus="bus-1", central_url=central.url, secrets=KeyringRead({"mobile.central": "pw"}))
    checks = {c.name: c for c in mobile_checks(bus)}
    assert checks["mobile central"].ok and "reachable" in checks["mobile central"].detail
    assert "password in keyring entry 'mobile.central'" in checks["mobile central"].detail
    assert ":pw@" not in checks["mobile central"].detail
    assert checks["mobile background"].detail.startswith(
        "not run on a bus: outbox-relay, waiting-lists, family-sync")
    central.down()
    down = {c.name: c for c in mobile_checks(bus)}["mobile central"]
    assert not down.ok and not down.required and "unreachable now (offline)" in down.detail
    assert mobile_checks(Runtime(mode="production", data_dir=tmp_path, database_url="sqlite:///x")) == []


def test_the_towns_password_is_stored_under_its_own_keyring_entry_on_a_bus(tmp_path):
    from counter.cli.credentials import _backend_names
    from counter.runtime import Runtime

    town_hall = Runtime(mode="production", data_dir=tmp_path, database_url="sqlite:///x", backends={})
    assert _backend_names(town_hall) == []
    from dataclasses import replace

    assert _backend_names(replace(town_hall, bus="bus-1", central_url="postgresql://c@h/t")) == ["mobile.central"]
