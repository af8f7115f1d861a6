"""The statistics screen, driven by keys: opened with Ctrl+T from the search screen, the
periods and the site by keyboard; its totals are the export's; an agent sees their own
figures only, without the agent filter."""

from __future__ import annotations

import json
from datetime import date

import pytest

from counter.domain import statistics as st
from screens.statistics import StatisticsScreen
from tests.activity import month_store, utc, year_store  # noqa: F401 — fixtures
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


async def _typed_period(pilot, first: str, last: str) -> None:
    """p, then both days typed over the current ones (each field's text is selected on focus)."""
    from screens.statistics import TypedPeriod

    await pilot.press("p")
    await until(pilot, lambda: isinstance(pilot.app.screen, TypedPeriod), "the period's form")
    await pilot.press(*first, "tab", *last, "enter")
    await pilot.pause()


async def test_a_typed_period_changes_the_figures_and_a_bad_one_is_said_and_changes_nothing(month_store, make_app):
    from screens.statistics import TypedPeriod

    app = make_app(month_store)
    async with started(app) as pilot:
        await pilot.press("ctrl+t")
        month = await _figures(pilot)
        await _typed_period(pilot, "10/11/2026", "20/11/26")
        days = await _figures(pilot, month)
        assert days.query == st.StatsQuery(date(2026, 11, 10), date(2026, 11, 20))
        assert 0 < days.visits < month.visits
        assert "Du 10/11/2026 au 20/11/2026 (11 jours) · tous les sites" in _text(app, "#status")
        assert f"Visites : {st.number(days.visits)}" in _text(app, "#summary")

        # Bad days: said in the form, which stays open on the field to correct; the figures stay.
        for since, until_, message, field in (
            ("31/02/2026", "20/11/2026", "⚠ Date invalide : « 31/02/2026 » (ce jour n'existe pas).", "since"),
            ("20/11/2026", "10/11/2026", "⚠ La date de fin (10/11/2026) précède la date de début (20/11/2026).",
             "until"),
            ("01/01/2025", "03/01/2027", f"⚠ Période trop longue : 733 jours ({st.MAX_DAYS} au plus).", "until"),
            ("1er nov.", "20/11/2026", "⚠ Date invalide : « 1er nov. » (attendu jj/mm/aaaa).", "since"),
        ):
            await _typed_period(pilot, since, until_)
            assert isinstance(app.screen, TypedPeriod), message
            assert _text(app, "#period-error") == message
            assert app.focused.id == field
            await pilot.press("escape")
            assert isinstance(app.screen, StatisticsScreen) and not app.screen.workers
            assert app.screen._stats is days and app.screen._query().since == days.query.since

        # ← / → move a typed period by its own length; m goes back to the month it starts in.
        await _typed_period(pilot, "10/11/2026", "20/11/2026")
        days = await _figures(pilot, days)
        await pilot.press("right")
        following = await _figures(pilot, days)
        assert (following.query.since, following.query.until) == (date(2026, 11, 21), date(2026, 12, 1))
        await pilot.press("m")
        again = await _figures(pilot, following)
        assert (again.query.since, again.query.until) == (date(2026, 11, 1), date(2026, 11, 30))
        assert again.visits == month.visits


async def test_a_years_weeks_are_all_reachable_by_keys_at_80x24(year_store, make_app):
    app = make_app(year_store)
    async with started(app) as pilot:
        await pilot.press("ctrl+t")
        month = await _figures(pilot)
        await pilot.press("a")
        year = await _figures(pilot, month)
        assert (year.query.since, year.query.until) == (date(2026, 1, 1), date(2026, 12, 31))
        await pilot.press("5")
        await pilot.pause()
        screen = app.screen
        bars = screen._charts[screen._chart]
        assert bars.title.startswith("Attente médiane par semaine") and len(bars.labels) == 53
        title = _text(app, "#chart-title")
        assert "lignes 1–" in title and "sur 53" in title
        scroll = screen.query_one("#chart-scroll")
        assert scroll.max_scroll_y > 0
        await pilot.press("end")
        await pilot.pause()
        assert scroll.scroll_y == scroll.max_scroll_y
        assert "–53 sur 53" in _text(app, "#chart-title")
        await pilot.press("home", "pagedown")
        await pilot.pause()
        assert 0 < scroll.scroll_y
        await pilot.press("up")
        await pilot.pause()
        first = round(scroll.scroll_y) + 1
        assert f"lignes {first}–" in _text(app, "#chart-title")
        await pilot.press("1")  # a chart that fits: no rows to say
        await pilot.pause()
        assert "lignes" not in _text(app, "#chart-title") and scroll.scroll_y == 0


async def test_a_period_typed_in_one_burst_is_read_whole_before_enter(month_store, make_app):
    """A terminal may hand over « 10/11/2026⇥20/11/2026⏎ » at once (a paste, a fast link):
    Enter applies what was typed before it, never the days the form opened with."""
    from textual import events

    from screens.statistics import TypedPeriod

    app = make_app(month_store)
    async with started(app) as pilot:
        await pilot.press("ctrl+t")
        month = await _figures(pilot)
        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, TypedPeriod), "the period's form")
        for key in [*"10/11/2026", "tab", *"20/11/2026", "enter"]:  # as the driver posts a burst
            char = {"tab": "\t", "enter": "\r"}.get(key, key)
            app.post_message(events.Key({"/": "slash"}.get(key, key), char))
        days = await _figures(pilot, month)
        assert (days.query.since, days.query.until) == (date(2026, 11, 10), date(2026, 11, 20))
