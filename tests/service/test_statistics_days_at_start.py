"""The counter service keeps the last year's statistics days when it starts (issue 16,
docs/statistics.md): the supervisor's first opening after an upgrade reads no year of
visits again."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from tests.activity import utc  # noqa: F401 — fixture
from tests.polling import wait_for


def test_the_service_keeps_the_last_year_s_days_at_its_start(utc, tmp_path):  # noqa: F811
    from counter.clock import FixedClock
    from counter.runtime import Runtime
    from counter.service.server import Service, ServiceThread
    from counter.services.stats_days import AGENCY, VISITS, kept_days
    from counter.store import migrate
    from counter.store.engine import Store
    from fixtures.activity import MONTH, load

    store = Store(f"sqlite:///{tmp_path / 'town.sqlite3'}")
    migrate.upgrade(store)
    load(store, MONTH)
    runtime = Runtime(mode="production", data_dir=tmp_path, database_url=str(store.url),
                      clock=FixedClock(date(2026, 12, 1)), agent_login="chef")
    with tempfile.TemporaryDirectory(prefix="svc") as short:  # a socket path has at most 107 bytes
        service = Service(runtime, Path(short) / "s.sock", identify=lambda uid: "chef", store=store, backends=[])
        thread = ServiceThread(service).start()
        try:
            wait_for(lambda: kept_days(store, VISITS) == kept_days(store, AGENCY) == 366,
                     "the last 366 days kept, visits and agencies")
            assert "statistics-days" in {t.get_name() for t in service.core._tasks}
        finally:
            thread.stop()
    store.dispose()
