"""The roaming bus in training (scenario bus-itinerant): the runtime it makes, the
replica and the last place, the trainer's link switch, what the agents are told.
The replay fixtures/replays/bus-itinerant.toml plays it end to end."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from counter.cli.train import under_scenario
from counter.domain.mobile import Placed, tour_notice
from counter.runtime import Runtime
from counter.store.engine import Store
from fixtures.scenarios import ScenarioError, load, load_file

MARCEL_PAGNOL = "0459314E"
PLACES = ("SELECT c.capacity - c.booked FROM school_capacity c JOIN school s ON s.id = c.school_id "
          "WHERE s.uai = :uai AND c.school_year = 2027 AND c.level = 'CP'")


def training_runtime(home: Path, database: Path) -> Runtime:
    return Runtime(mode="training", data_dir=home, database_url=f"sqlite:///{database}", agent_login="formation")


def places_left(url: str) -> int:
    store = Store(url)
    try:
        with store.engine.connect() as connection:
            return connection.execute(text(PLACES), {"uai": MARCEL_PAGNOL}).scalar_one()
    finally:
        store.dispose()


def test_the_bus_scenario_makes_the_training_counter_a_bus_of_the_training_town(tmp_path):
    scenario = load("bus-itinerant")
    assert scenario.bus.name == "bus-1" and scenario.bus.streets == (37, 38, 39)
    assert scenario.bus.last_place == (MARCEL_PAGNOL, "CP")
    runtime = under_scenario(training_runtime(tmp_path, tmp_path / "training" / "counter.sqlite3"), scenario)
    assert runtime.mobile and runtime.bus == "bus-1"
    assert runtime.central_url == f"sqlite:///{tmp_path}/training/counter.sqlite3"  # the town hall's
    assert runtime.database_url == f"sqlite:///{tmp_path}/training/bus/bus-itinerant-bus-1.sqlite3"
    assert runtime.clock.today().isoformat() == "2027-05-19"
    # A town hall's scenario leaves the counter a town hall's.
    assert not under_scenario(training_runtime(tmp_path, tmp_path / "t.sqlite3"), load("caf-en-panne")).mobile


def test_a_bus_scenario_is_refused_outside_training(tmp_path):
    production = Runtime(mode="production", data_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/c.db")
    with pytest.raises(ValueError, match="training mode"):
        under_scenario(production, load("bus-itinerant"))


@pytest.mark.parametrize("body, message", [
    ('[bus]\nname = "Bus 1"\n', "key 'bus.name'"),
    ('[bus]\nname = "bus-1"\nstreets = []\n', "key 'bus.streets'"),
    ('[bus]\nname = "bus-1"\nstreets = [0]\n', "key 'bus.streets'"),
    ('[bus]\nname = "bus-1"\nlast_place = { school = "0459314E", level = "6e" }\n', "key 'bus.last_place.level'"),
    ('[bus]\nname = "bus-1"\nlast_place = { school = "Pagnol", level = "CP" }\n', "key 'bus.last_place.school'"),
    ('[bus]\nname = "bus-1"\nwifi = true\n', "unknown key 'bus.wifi'"),
])
def test_a_bad_bus_table_names_its_key(tmp_path, body, message):
    path = tmp_path / "bus.toml"
    path.write_text('title = "T"\ndescription = "D"\ndate = 2027-05-19\n' + body, encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_file(path)
    assert message in str(caught.value)


def test_the_bus_leaves_with_the_last_place_the_town_hall_then_gives_away(town_database, tmp_path):
    from fixtures.bus import open_training_bus

    central = tmp_path / "training" / "counter.sqlite3"
    central.parent.mkdir()
    shutil.copyfile(town_database, central)
    runtime = under_scenario(training_runtime(tmp_path, central), load("bus-itinerant"))
    replica = open_training_bus(runtime)
    try:
        with replica.engine.connect() as connection:
            assert connection.execute(text(PLACES), {"uai": MARCEL_PAGNOL}).scalar_one() == 1
            meta = dict(connection.execute(text("SELECT key, value FROM store_meta WHERE key LIKE 'tour.%'")).all())
            streets = set(connection.execute(text(
                "SELECT DISTINCT a.street_id FROM household h JOIN address a ON a.id = h.address_id")).scalars())
        assert meta["tour.bus"] == "bus-1" and meta["tour.route"] == "37,38,39"
        assert streets == {37, 38, 39}
        with replica.write_connection() as connection:  # the day's work on board
            connection.execute(text("INSERT INTO store_meta (key, value) VALUES ('test.on_board', 'kept')"))
    finally:
        replica.dispose()
    assert places_left(runtime.central_url) == 0  # given away at the town hall meanwhile
    replica = open_training_bus(runtime)  # a second start: the same replica, its work kept
    try:
        with replica.engine.connect() as connection:
            assert connection.execute(text("SELECT value FROM store_meta WHERE key = 'test.on_board'")).scalar() \
                == "kept"
    finally:
        replica.dispose()


def test_the_link_switch_is_refused_by_a_service_without_one(tmp_path):
    from counter.service.core import ServiceCore, TrainingOnly
    from counter.service.http import problem_of

    core = ServiceCore(training_runtime(tmp_path, tmp_path / "t.sqlite3"))
    assert core.training_link is None
    with pytest.raises(TrainingOnly) as refused:
        core.switch_training_link(True)
    problem = problem_of(refused.value)
    assert problem.code == "refused" and "scénario du bus itinérant" in problem.message


async def test_the_trainers_switch_cuts_and_restores_the_link(tmp_path, town_database):
    from counter.service.core import ServiceCore

    central = tmp_path / "training" / "counter.sqlite3"
    central.parent.mkdir()
    shutil.copyfile(town_database, central)
    runtime = under_scenario(training_runtime(tmp_path, central), load("bus-itinerant"))
    core = ServiceCore(runtime, background=False)
    assert core.training_link is not None and not core.training_link.up  # the bus starts on the road
    assert await core.link.probe_once() is False and core.offline_since() is not None
    core.training_link.up = True
    assert await core.link.probe_once() is True and core.offline_since() is None
    central.unlink()  # the town hall's database gone: the switch alone does not make the link
    assert await core.link.probe_once() is False


def test_what_the_bus_agents_are_told_after_a_sync():
    finished = datetime(2027, 5, 19, 12, 32, tzinfo=UTC)
    local = finished.astimezone()
    assert tour_notice(finished, 0, 0) == ""  # only the audit trail went
    assert tour_notice(finished, 1, 1, [Placed("RCP-7K3M-Q2XD", "waiting_list")]) == (
        f"Envoyé à la mairie à {local:%H:%M} : 1 famille, 1 visite.\n"
        "RCP-7K3M-Q2XD : sur liste d'attente à la mairie : prévenez la famille.")
    assert tour_notice(finished, 0, 2, [Placed("RCP-AAAA-BBBB", "waiting_list", 12)], refused=1) == (
        f"Envoyé à la mairie à {local:%H:%M} : 2 visites.\n"
        "RCP-AAAA-BBBB : sur liste d'attente (rang 12) à la mairie : prévenez la famille.\n"
        "1 envoi(s) refusé(s) par la mairie : prévenez un superviseur (counter tour report).")


def test_the_tour_notice_names_what_the_town_hall_changed():
    """ServiceCore.tour_notice reads the syncer's last report that sent families or visits."""
    from counter.service.core import ServiceCore
    from counter.service.tour_auto import TourSyncer
    from counter.services.tour_sync import ItemResult, SyncReport

    runtime = Runtime(mode="production", data_dir=Path("/nonexistent"), database_url="sqlite:///x.db",
                      bus="bus-1", central_url="sqlite:////nonexistent/central.db")
    core = ServiceCore(runtime)
    assert core.tour_notice() == ""
    core.tour = TourSyncer(runtime, lambda: None, lambda: "", lambda: datetime.now(UTC))
    report = SyncReport("bus-1", [
        ItemResult("bus-1:household:12", "household", "created", {"status": "created"}),
        ItemResult("bus-1:visit:RCP-7K3M-Q2XD", "visit", "confirmed", {
            "code": "RCP-7K3M-Q2XD", "status": "confirmed",
            "registrations": [{"kind": "school", "bus_state": "registered", "state": "waiting_list",
                               "rank": None, "changed": True}]}),
    ])
    core.tour.last_sent = (report, datetime(2027, 5, 19, 12, 32, tzinfo=UTC))
    notice = core.tour_notice()
    assert ": 1 famille, 1 visite." in notice
    assert "RCP-7K3M-Q2XD : sur liste d'attente à la mairie : prévenez la famille." in notice
