"""The bus's link to the town's database fails while a sync runs (issue 15): cut
under its feet, holding everything, slow. A loopback proxy the test controls
stands for the 4G link (tests/link_proxy.py); the town's database is the real
PostgreSQL. Whatever happens, nothing is lost and nothing is doubled, and the
sync gives up in bounded time rather than hanging."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from counter.domain.identity_checks import PersonInput
from counter.services import audit
from counter.services.families import FamilyService
from counter.services.tour_prepare import prepare_replica
from counter.services.tour_sync import TourBusy, central_store, holder_name, sync_tour
from counter.store.engine import Store
from tests.link_proxy import LinkProxy
from tests.polling import wait_for
from tests.store.test_tour_sync import CLOCK, TABLES, counts, school_visit_on, town  # noqa: F401 — fixture

FAMILIES = 4
MOTHERS = ("Awa", "Fatou", "Aminata", "Khady")
CHILDREN = ("Moussa", "Ibrahima", "Cheikh", "Ousmane")
SURNAMES = ("Ndiaye", "Diallo", "Sarr", "Faye")
DEADLINE = 60.0  # only turns a hang into a failure

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def _families_and_visits_on(replica, street: int, school: int) -> list[str]:
    """FAMILIES families the town does not know, each with a visit confirmed on board."""
    codes = []
    for n in range(FAMILIES):
        mother = PersonInput(birth_name=SURNAMES[n], given_names=MOTHERS[n], sex="F",
                             birth_date=f"1{n}/03/1990", birth_country_code="99341", role="parent")
        child = PersonInput(birth_name=SURNAMES[n], given_names=CHILDREN[n], sex="M",
                            birth_date=f"0{n + 1}/09/2021", birth_insee_code="45234", role="child")
        household = FamilyService(replica, "agent-bus", host="bus", clock=CLOCK).create(street, 20 + n, None, None,
                                                                                        [mother, child])
        with replica.engine.connect() as connection:
            kid = connection.execute(text("SELECT person_id FROM household_member WHERE household_id = :h "
                                          "AND role = 'child'"), {"h": household}).scalar_one()
        codes.append(school_visit_on(replica, household, kid, school)[0])
    return codes


@pytest.fixture
def replica(store, town, tmp_path):  # noqa: F811
    path = tmp_path / "bus" / "replica.sqlite3"
    prepare_replica(store, f"sqlite:///{path}", bus="bus-1", streets=[town["street"]])
    bus = Store(f"sqlite:///{path}")
    yield bus
    bus.dispose()


@pytest.fixture
def link(store):
    url = make_url(store.url.render_as_string(hide_password=False))
    with LinkProxy((url.host or "127.0.0.1", url.port or 5432)) as proxy:
        proxy.central_url = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        yield proxy


def _applied(store) -> int:
    with store.engine.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM tour_applied WHERE bus = 'bus-1'")).scalar_one()


def _sync_in_thread(central_url: str, replica, holder: str) -> tuple[threading.Thread, dict]:
    outcome: dict = {}

    def run() -> None:
        central = central_store(central_url)
        try:
            outcome["report"] = sync_tour(replica, central, CLOCK, host="bus", holder=holder)
        except Exception as exc:  # noqa: BLE001 — what the test looks at
            outcome["error"] = exc
        finally:
            central.dispose()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def _wait(condition, what: str) -> None:
    wait_for(condition, what, deadline=DEADLINE, every=0.005)


def _everything_once(store, replica, codes: list[str]) -> None:
    with store.engine.connect() as connection:
        for code in codes:
            assert connection.execute(text("SELECT count(*) FROM visit WHERE code = :c"), {"c": code}).scalar_one() == 1
        households = connection.execute(text("SELECT count(*) FROM tour_applied WHERE bus = 'bus-1' "
                                             "AND kind = 'household'")).scalar_one()
    assert households == FAMILIES
    assert audit.verify(store)[0] is None and audit.verify(replica)[0] is None


def test_a_link_cut_in_the_middle_of_a_sync_loses_and_doubles_nothing(store, town, replica, link):  # noqa: F811
    codes = _families_and_visits_on(replica, town["street"], town["school"])
    holder = holder_name("bus-1")  # as the bus's service keeps one for its life
    link.up(delay=0.003)  # a slow link: the sync is still under way when it is cut
    thread, outcome = _sync_in_thread(link.central_url, replica, holder)
    _wait(lambda: _applied(store) >= 2 or not thread.is_alive(), "a few items to reach the town")
    link.reset()  # the 4G modem drops the link: every connection closed
    thread.join(DEADLINE)
    assert not thread.is_alive()
    assert "error" in outcome, "the sync should have been cut"
    partial = counts(store)
    assert _applied(store) < 2 * FAMILIES + 1

    # A sync typed by hand meanwhile waits for the lease the cut sync could not release…
    link.up()
    with pytest.raises(TourBusy):
        sync_tour(replica, central_store(link.central_url), CLOCK, host="bus")
    # …which the bus's service, keeping its holder name, takes up again: the rest goes, once.
    report = sync_tour(replica, central_store(link.central_url), CLOCK, host="bus", holder=holder)
    assert report.refused == []
    _everything_once(store, replica, codes)
    done = counts(store)
    assert all(done[t] >= partial[t] for t in TABLES)
    again = sync_tour(replica, central_store(link.central_url), CLOCK, host="bus", holder=holder)
    assert again.items == [] and counts(store) == done


def test_a_link_that_holds_everything_is_given_up_in_bounded_time(store, town, replica, link):  # noqa: F811
    codes = _families_and_visits_on(replica, town["street"], town["school"])
    link.blackhole()  # the link is gone and nobody says so: nothing answers
    started = time.monotonic()
    central = central_store(link.central_url)
    try:
        with pytest.raises(Exception):  # noqa: B017 — the driver's time-out, whatever its class
            sync_tour(replica, central, CLOCK, host="bus")
    finally:
        central.dispose()
    assert time.monotonic() - started < 15  # the connection's time-out, not for ever
    assert _applied(store) == 0
    link.up()
    sync_tour(replica, central_store(link.central_url), CLOCK, host="bus")
    _everything_once(store, replica, codes)


def test_a_slow_link_sends_everything_once(store, town, replica, link):  # noqa: F811
    codes = _families_and_visits_on(replica, town["street"], town["school"])
    link.up(delay=0.002)
    report = sync_tour(replica, central_store(link.central_url), CLOCK, host="bus")
    assert report.refused == [] and link.bytes_up > 0
    _everything_once(store, replica, codes)
