"""The statistics screen, driven by keys: opened with Ctrl+T from the search screen, the
periods and the site by keyboard; its totals are the export's; an agent sees their own
figures only, without the agent filter."""

from __future__ import annotations

import json
from datetime import date

import pytest

from counter.domain import statistics as st
from screens.statistics import StatisticsScreen
from tests.activity import month_store, utc  # noqa: F401 — fixtures
from tests.pilot.helpers import started, until


pytestmark = pytest.mark.usefixtures("utc")


async def _figures(pilot, previous=None):
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, StatisticsScreen) and app.screen._stats is not None
                and app.screen._stats is not previous and not app.screen.workers, "the figures")
    return app.screen._stats


def _text(app, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


async def test_ctrl_t_opens_the_figures_and_the_keys_change_the_period_and_site(month_store, make_app, tmp_path, capsys):
    app = make_app(month_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.ready, "services")
        await pilot.press("ctrl+t")
        stats = await _figures(pilot)
        assert stats.query == st.StatsQuery(date(2026, 11, 1), date(2026, 11, 30)) and stats.scope == st.ALL
        assert f"Visites : {st.number(stats.visits)}" in _text(app, "#summary")
        assert "1/11 · Visites par heure" in _text(app, "#chart-title")
        await pilot.press("s")
        week = await _figures(pilot, stats)
        assert week.query.since == date(2026, 11, 23) and week.query.until == date(2026, 11, 29)
        assert 0 < week.visits < stats.visits
        await pilot.press("left")
        before = await _figures(pilot, week)
        assert before.query.since == date(2026, 11, 16)
        await pilot.press("m", "l")
        site = await _figures(pilot, before)
        while site.query.site is None or site.query.since != date(2026, 11, 1):
            site = await _figures(pilot, site)
        assert site.query.site == "annexe-nord" and 0 < site.visits < stats.visits
        await pilot.press("v")
        assert "2/11 · Visites par jour de la semaine" in _text(app, "#chart-title")
        await pilot.press("escape")
        assert not isinstance(app.screen, StatisticsScreen)

    # The export, on the same database, says what the screen showed.
    from counter.cli import main
    from fixtures.agents import ensure_agent

    ensure_agent(month_store, "chef", "supervisor")
    config = tmp_path / "counter.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\n[database]\nurl = "{month_store.url}"\n', encoding="utf-8")
    capsys.readouterr()
    assert main(["--config", str(config), "stats", "--since", "2026-11-01", "--until", "2026-11-30", "--format",
                 "json"], agent_login="chef") == 0
    exported = json.loads(capsys.readouterr().out)
    assert exported == [{"figure": r.figure, "key": r.key, "label": r.label, "value": r.value} for r in st.rows(stats)]


async def test_an_agent_sees_their_own_figures_without_the_agent_filter(month_store, make_app):
    from fixtures.activity import AGENTS

    app = make_app(month_store, mode="production", agent=AGENTS[0])
    async with started(app) as pilot:
        await pilot.press("ctrl+t")
        stats = await _figures(pilot)
        assert stats.scope == st.OWN and stats.query.agent == AGENTS[0]
        assert stats.agencies == () and stats.outbox_pending is None
        status = _text(app, "#status")
        assert "vos visites" in status and "g agent" not in status
        assert app.screen.check_action("agent", ()) is False
        assert "Envois en attente" not in _text(app, "#summary")
        assert len(app.screen._charts) == 7  # no agencies' charts
