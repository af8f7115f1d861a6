"""Shared test set-up: an isolated environment and stores on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import uuid
from datetime import date
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.requirements import missing

PG_ENV = "COUNTER_TEST_PG_URL"
# Every screen test sees the same day: ages and school years must not drift.
TODAY = date(2026, 11, 25)


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Never read the developer's configuration or write into their data directory;
    the private services a test's `counter` started under it are stopped after it."""
    home = tmp_path / "counter-home"
    monkeypatch.setenv("COUNTER_HOME", str(home))
    monkeypatch.delenv("COUNTER_CONFIG", raising=False)
    monkeypatch.delenv("COUNTER_SOCKET", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("TEXTUAL_ANIMATIONS", raising=False)
    monkeypatch.delenv("TEXTUAL_COLOR_SYSTEM", raising=False)
    # A colour terminal unless a test says otherwise (the theme follows it).
    monkeypatch.setenv("COLORTERM", "truecolor")
    yield home
    _stop_private_services(tmp_path)


def _stop_private_services(tmp_path: Path) -> None:
    """A private service outlives its terminal (15 idle minutes): the ones this test
    started, under any data directory of its temporary folder, stop now."""
    runs = [run for run in tmp_path.glob("**/run") if run.is_dir() and any(run.glob("*.sock"))]
    if not runs:
        return
    from counter.client.locate import stop_private_services

    for run in runs:
        stop_private_services(run.parent)


def _postgres_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        missing(f"{PG_ENV} is not set: PostgreSQL store tests skipped (.ci/run sets it)")
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a private schema on the PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite3'}"
        return
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    base = make_url(_postgres_url()).set(drivername="postgresql+psycopg")
    schema = f"counter_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    with admin.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@pytest.fixture
def store(database_url: str):
    from counter.store import migrate
    from counter.store.engine import Store

    store = Store(database_url)
    migrate.upgrade(store)
    yield store
    store.dispose()


from tests.town import town_database, town_store  # noqa: E402,F401  (shared fixtures)


@pytest.fixture
def make_app(tmp_path):
    """The app from the one factory, on a given store, with today's date fixed.

    No agency sources unless ``backends`` is given: a list of backends, or
    ``"training"`` for the emulated agencies of training mode (``knobs`` by name).
    """
    from counter.app_factory import build_app
    from counter.service.composition import build_backends
    from counter.clock import FixedClock
    from counter.runtime import Runtime

    from fixtures.agents import ensure_agent, preset_pin

    def make(store, mode: str = "training", backends=(), knobs=None, pin: bool = True,
             purpose: str | None = "Instruction d'une demande", agent: str = "agent", gate=None, keymap=None,
             mobile: dict | None = None):
        """``gate``: a threading.Event the service's opening of the store waits for; ``keymap``: the
        configuration's [keys], as checked (counter.domain.keys.check_keymap); ``mobile``: the
        roaming bus's Runtime fields (bus, central_url, link_probe_seconds)."""
        # The test agent has a PIN already (fixtures.agents.TEST_PIN): no PIN setup at start.
        if pin:
            preset_pin(store, agent)
        if mode == "production":
            ensure_agent(store, agent)
        clock = FixedClock(TODAY)
        runtime = Runtime(mode=mode, data_dir=tmp_path, database_url=str(store.url), clock=clock,
                          agent_login=agent, emulators=knobs or {}, keymap=keymap or {}, **(mobile or {}))
        if backends == "training":
            backends = build_backends(runtime)
        # The service asks the agencies (dossiers, visits) and runs the outbox relay and
        # the waiting-list sync, with the test's agencies; the app is its client.
        from counter.service.local import start_local_service

        opener = (lambda: (gate.wait(30), store)[1]) if gate is not None else None
        service = start_local_service(runtime, store=None if gate is not None else store, opener=opener,
                                      backends=list(backends))
        app = build_app(runtime, service=service)
        # A purpose already chosen: the dossier opens without asking (test_trust asks with purpose=None).
        app.purpose_preset = purpose
        return app

    return make
