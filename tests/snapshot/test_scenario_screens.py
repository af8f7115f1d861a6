"""A training scenario as the trainees see it: the banner with its title, F1's description."""

from __future__ import annotations

import pytest

from tests.pilot.helpers import until
from tests.snapshot.test_screens import SIZES


@pytest.fixture
def scenario_app(town_store, tmp_path):
    from counter.app_factory import build_app
    from counter.service.composition import make_services
    from counter.clock import FixedClock
    from counter.runtime import Runtime
    from fixtures.agents import preset_pin
    from fixtures.scenarios import load

    preset_pin(town_store, "agent")  # the trainee chose a PIN already: no first-use setup
    scenario = load("caf-en-panne")
    runtime = Runtime(mode="training", data_dir=tmp_path, database_url=str(town_store.url),
                      clock=FixedClock(scenario.day), agent_login="agent", scenario=scenario)
    return build_app(runtime, make_services(town_store, runtime, []))


def pressing(*keys: str):
    async def run_before(pilot) -> None:
        app = pilot.app
        await until(pilot, lambda: app.ready, "services")
        await pilot.press(*keys)
        await pilot.pause()

    return run_before


def test_the_banner_names_the_scenario(snap_compare, scenario_app):
    assert snap_compare(scenario_app, terminal_size=SIZES["80x24"], run_before=pressing())


@pytest.mark.parametrize("size", SIZES)
def test_f1_shows_the_scenario(snap_compare, scenario_app, size):
    assert snap_compare(scenario_app, terminal_size=SIZES[size], run_before=pressing("f1"))
