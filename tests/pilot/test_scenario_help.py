"""The scenario's help, from F1 and from the palette; nothing of it without a scenario."""

from __future__ import annotations

from screens.scenario import ScenarioHelp
from tests.pilot.helpers import screen_lines, started, until


def scenario_app(store, tmp_path, name: str | None):
    from counter.app_factory import build_app
    from counter.service.composition import make_services
    from counter.clock import FixedClock
    from counter.runtime import Runtime
    from fixtures.agents import preset_pin
    from fixtures.scenarios import load

    preset_pin(store, "agent")  # not a first use: no PIN setup before the search
    scenario = load(name) if name else None
    runtime = Runtime(mode="training", data_dir=tmp_path, database_url=str(store.url), agent_login="agent",
                      clock=FixedClock(scenario.day if scenario else load("matinee-ordinaire").day),
                      scenario=scenario)
    return build_app(runtime, make_services(store, runtime, []))


async def test_f1_opens_and_closes_the_description(town_store, tmp_path):
    app = scenario_app(town_store, tmp_path, "parents-separes")
    async with started(app) as pilot:
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, ScenarioHelp), "the help")
        shown = "\n".join(screen_lines(app))
        assert "Scénario : Parents séparés, deux adresses" in shown and "besson roche ambre" in shown
        await pilot.press("f1")  # F1 again closes it rather than stacking a second one
        await until(pilot, lambda: not isinstance(app.screen, ScenarioHelp), "closed")
        assert len(app.screen_stack) == 1


async def test_the_palette_offers_the_scenario(town_store, tmp_path):
    app = scenario_app(town_store, tmp_path, "caf-en-panne")
    async with started(app) as pilot:
        await pilot.press("ctrl+p")
        await pilot.press(*"scénario de")
        await until(pilot, lambda: "Scénario de formation" in "\n".join(screen_lines(app)), "the command")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ScenarioHelp), "the help")


async def test_without_a_scenario_f1_does_nothing_and_the_banner_is_the_usual_one(town_store, tmp_path):
    app = scenario_app(town_store, tmp_path, None)
    async with started(app) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        assert not isinstance(app.screen, ScenarioHelp)
        assert "FORMATION — ville fictive, aucune donnée réelle" in "\n".join(screen_lines(app))
