"""The bus's service sends back by itself what was done on board: when the link to the
town's database comes up, and after a visit confirmed while it is up (docs/tour.md)."""

from __future__ import annotations


import pytest

from counter.clock import FixedClock
from counter.services.tour_prepare import prepare_replica
from counter.store.engine import Store
from tests.polling import wait_for
from tests.store.test_tour_sync import TODAY, new_family_on, scalar, school_visit_on, town  # noqa: F401 — fixture

DEADLINE = 60.0  # only turns a hang into a failure


def poll(condition, what: str) -> None:
    wait_for(condition, what, deadline=DEADLINE)


@pytest.fixture
def replica(store, town, tmp_path):  # noqa: F811 — the town fixture above
    path = tmp_path / "bus" / "replica.sqlite3"
    prepare_replica(store, f"sqlite:///{path}", bus="bus-1", streets=[town["street"]])
    bus = Store(f"sqlite:///{path}")
    yield bus
    bus.dispose()


def _bus_service(replica, central_url: str, tmp_path):
    from counter.runtime import Runtime
    from counter.service.local import start_local_service
    from fixtures.agents import ensure_agent

    ensure_agent(replica, "agent-bus")
    runtime = Runtime(mode="production", data_dir=tmp_path / "bus-data", database_url=str(replica.url),
                      clock=FixedClock(TODAY), agent_login="agent-bus", backends={},
                      bus="bus-1", central_url=central_url, link_probe_seconds=2)
    return start_local_service(runtime, store=replica, backends=[])


def test_what_was_done_offline_goes_back_when_the_link_comes_up_and_after_each_visit(store, town, replica,
                                                                                      tmp_path):  # noqa: F811
    # Confirmed on board before the service ever reached the town.
    household, child = new_family_on(replica, town["street"])
    code, _ = school_visit_on(replica, household, child, town["school"])
    central_url = store.url.render_as_string(hide_password=False)
    service = _bus_service(replica, central_url, tmp_path)
    try:
        core = service.service.core
        poll(lambda: core.tour is not None and core.tour.last_report is not None, "the first automatic sync")
        assert core.tour.last_error is None
        assert scalar(store, "SELECT count(*) FROM visit WHERE code = :c", c=code) == 1
        assert scalar(store, "SELECT count(*) FROM tour_applied WHERE bus = 'bus-1'") >= 2

        # A visit confirmed while the link is up leaves at once (the confirmation wakes the sync).
        second = scalar(replica, "SELECT person_id FROM household_member WHERE household_id = :h "
                                 "AND role = 'parent'", h=town["household"])
        assert second is not None
        core.tour.finished.clear()
        code2, _ = school_visit_on(replica, town["household"], town["lea"], town["school"])
        core.wake_outbox()
        poll(lambda: scalar(store, "SELECT count(*) FROM visit WHERE code = :c", c=code2) == 1,
             "the second visit on the town's database")
        poll(core.tour.finished.is_set, "the sync to finish")
        assert scalar(store, "SELECT count(*) FROM visit WHERE code = :c", c=code) == 1  # never twice
    finally:
        service.stop()
