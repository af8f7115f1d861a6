"""The agent's journey by keyboard: type, read results, open the household, come back."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Input

from screens.household import HouseholdScreen
from screens.search import SearchScreen
from tests.conftest import TODAY
from tests.factories import add_household, person
from tests.pilot.helpers import started, status_text, table_rows, until


@pytest.fixture
def small_app(sqlite_store, make_app):
    """The app on a handful of hand-made households."""
    small_town(sqlite_store)
    return make_app(sqlite_store)


def small_town(store):
    add_household(store, "avenue Jean-Jaurès", 12, [
        (person("ROUX", "Jeanne, Stéphanie", (1987, 6)), "parent"),
        (person("ROUX", "Loïc, Nathan", (1979, 5, 19), sex="M"), "parent"),
        (person("ROUX", "Léa", (2021, 4, 20)), "child"),
    ], caf_number="1234567")
    add_household(store, "rue des Lilas", 3, [(person("ROUXEL", "Marc", (1970, 1, 2), sex="M"), "parent")])
    add_household(store, "rue des Lilas", 5, [(person("[bold]Zoé[/bold]", "[@click=app.quit]x[/]", (1990, 1, 1)), "parent")])


async def test_type_open_household_and_come_back_with_the_query_kept(small_app):
    app = small_app
    async with started(app, (80, 24)) as pilot:
        await pilot.press(*"roux jea")
        await until(pilot, lambda: len(table_rows(app)) == 1, "results")
        assert table_rows(app)[0][:2] == ["ROUX", "Jeanne Stéphanie"]
        assert "1 personne trouvée" in status_text(app)

        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, HouseholdScreen) and app.screen.view is not None, "household")
        members = table_rows(app, "#members")
        assert [row[0] for row in members] == ["Parent", "Parent", "Enfant"]
        assert members[2][5] == "CP"  # born 2021: CP in 2027-2028
        assert "avenue Jean-Jaurès" in str(app.screen.query_one("#summary").render())

        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, SearchScreen), "search screen")
        assert app.screen.query_one("#query", Input).value == "roux jea"
        assert table_rows(app)[0][0] == "ROUX"


async def test_results_update_as_the_agent_types(small_app):
    app = small_app
    async with started(app, (80, 24)) as pilot:
        await pilot.press(*"roux")
        await until(pilot, lambda: len(table_rows(app)) == 4, "four results")
        assert [r[0] for r in table_rows(app)] == ["ROUX", "ROUX", "ROUX", "ROUXEL"]
        await pilot.press(*"el")
        await until(pilot, lambda: len(table_rows(app)) == 1, "one result")
        assert table_rows(app)[0][0] == "ROUXEL"


async def test_keyboard_moves_between_input_and_results(small_app):
    app = small_app
    async with started(app, (80, 24)) as pilot:
        await pilot.press(*"roux")
        await until(pilot, lambda: len(table_rows(app)) == 4, "results")
        await pilot.press("down")
        table = app.screen.query_one("#results", DataTable)
        assert table.has_focus
        await pilot.press("down", "down")
        chosen = table_rows(app)[table.cursor_row][:2]
        assert chosen == ["ROUX", "Loïc Nathan"]  # Jeanne, Léa, Loïc: alphabetical within ROUX
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, HouseholdScreen) and app.screen.view is not None, "household")
        members = app.screen.query_one("#members", DataTable)
        assert table_rows(app, "#members")[members.cursor_row][1:3] == chosen  # opened on that person
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, SearchScreen), "back")
        await pilot.press("escape")  # from the list: back to the input
        assert app.screen.query_one("#query", Input).has_focus
        await pilot.press("escape")  # in the input: clear
        assert app.screen.query_one("#query", Input).value == ""
        await until(pilot, lambda: table_rows(app) == [], "cleared results")


async def test_errors_and_empty_results_are_explained(small_app):
    app = small_app
    async with started(app, (80, 24)) as pilot:
        await pilot.press(*"2 55 08 14 168 025 39")
        await until(pilot, lambda: "clé NIR invalide" in status_text(app), "NIR error")
        app.screen.clear_query()
        await pilot.press(*"zzyzx")
        await until(pilot, lambda: "Aucune personne" in status_text(app), "empty state")
        assert "Essayez" in status_text(app)


async def test_names_are_shown_as_plain_text_never_markup(small_app):
    app = small_app
    async with started(app, (120, 30)) as pilot:
        await pilot.press(*"zoe")
        await until(pilot, lambda: len(table_rows(app)) == 1, "result")
        assert table_rows(app)[0][:2] == ["[bold]Zoé[/bold]", "[@click=app.quit]x[/]"]
        assert app.is_running


async def test_training_banner_on_every_screen_and_not_in_production(small_app, sqlite_store, make_app):
    app = small_app
    async with started(app, (80, 24)) as pilot:
        assert app.screen.query("#training-banner")
        await pilot.press(*"rouxel", "enter")
        await until(pilot, lambda: isinstance(app.screen, HouseholdScreen), "household")
        assert app.screen.query("#training-banner")
    production = make_app(sqlite_store, mode="production")
    async with started(production):
        assert not production.screen.query("#training-banner")


async def test_ctrl_q_quits_and_palette_offers_our_commands(small_app):
    app = small_app
    async with started(app, (80, 24)) as pilot:
        await pilot.press(*"roux")
        await until(pilot, lambda: len(table_rows(app)) == 4, "results")
        await pilot.press("ctrl+p")
        await pilot.press(*"nouvelle")
        await until(pilot, lambda: "CommandPalette" in type(app.screen).__name__, "palette")
        await pilot.pause()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, SearchScreen) and app.screen.query_text == "", "cleared")
        await pilot.press("ctrl+q")
    assert not app.is_running


async def test_the_palette_speaks_french_textuals_entries_too(small_app):
    from textual.command import CommandList

    app = small_app
    async with started(app, (80, 24)) as pilot:
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert titles[:3] == ["Thème", "Quitter", "Touches"]
        assert "Screenshot" not in titles and "Quit" not in titles
        await pilot.press("ctrl+p")
        await until(pilot, lambda: "CommandPalette" in type(app.screen).__name__, "palette")
        await pilot.press(*"quit")
        await until(pilot, lambda: app.screen.query_one(CommandList).option_count > 0, "matches")
        shown = [str(o.prompt) for o in app.screen.query_one(CommandList).options]
        assert any("Quitter" in text for text in shown), shown
        await pilot.press("escape")
        await pilot.press("ctrl+p")
        await until(pilot, lambda: "CommandPalette" in type(app.screen).__name__, "palette")
        await pilot.press(*"inscr")
        await until(pilot, lambda: app.screen.query_one(CommandList).option_count > 0, "matches")
        assert any("Inscriptions" in str(o.prompt) for o in app.screen.query_one(CommandList).options)


async def test_a_database_that_fails_to_open_is_reported_and_retried(tmp_path, sqlite_store):
    from counter.app_factory import build_app
    from counter.service.composition import make_services
    from counter.clock import FixedClock
    from counter.runtime import Runtime
    from counter.service.local import start_local_service

    attempts = []

    def opener():
        attempts.append(1)
        if len(attempts) == 1:
            raise OSError("disk unplugged")
        return sqlite_store

    runtime = Runtime(mode="training", data_dir=tmp_path, database_url="sqlite://", clock=FixedClock(TODAY))
    service = start_local_service(runtime, opener=opener, backends=[], background=False)
    app = build_app(runtime, make_services(sqlite_store, runtime, backends=[]), service=service)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: "Base de données indisponible" in status_text(app), "error shown")
        assert not app.ready
        await pilot.press("f5")
        await until(pilot, lambda: app.ready, "retried")
        assert len(attempts) == 2


async def test_a_burst_of_keys_is_applied_in_order(small_app):
    # Over SSH a typist's keys often arrive together, as one burst.
    from textual import events

    app = small_app
    async with started(app) as pilot:
        burst = [*"rouxz", "backspace", *"el", "ctrl+a", "delete", "r"]
        for key in burst:
            character = key if len(key) == 1 else None
            app.post_message(events.Key(key, character))
        await until(pilot, lambda: app.screen.query_text == "rouxel", "the burst applied in order")
        await until(pilot, lambda: len(table_rows(app)) == 1, "result")
        assert table_rows(app)[0][0] == "ROUXEL"


async def test_no_color_is_respected_and_the_banner_still_says_formation(sqlite_store, make_app, monkeypatch):
    from textual.filter import Monochrome, NoColor

    monkeypatch.setenv("NO_COLOR", "1")  # read when the app is built
    small_town(sqlite_store)
    app = make_app(sqlite_store)
    async with started(app):
        assert app.no_color
        assert any(isinstance(f, (Monochrome, NoColor)) for f in app._filters)
        # Training is said in words, not by the banner's colour alone.
        assert "FORMATION" in str(app.screen.query_one("#training-banner").render())


def test_theme_follows_the_terminal_and_the_configuration():
    from screens.theme import CONSOLE_THEME, DEFAULT_THEME, choose_theme

    assert choose_theme("auto", {"TERM": "linux"}) == CONSOLE_THEME
    assert choose_theme("auto", {"TERM": "xterm-256color"}) == DEFAULT_THEME
    assert choose_theme("auto", {"TERM": "xterm", "COLORTERM": "truecolor"}) == DEFAULT_THEME
    assert choose_theme("auto", {"TERM": "xterm-256color", "TEXTUAL_COLOR_SYSTEM": "standard"}) == CONSOLE_THEME
    assert choose_theme("console", {"TERM": "xterm-256color"}) == CONSOLE_THEME
    assert choose_theme("textual-light", {"TERM": "linux"}) == "textual-light"


@pytest.mark.parametrize("pasted", ["roux\tjeanne", "roux\njeanne\n"], ids=["tab", "two-lines"])
async def test_a_pasted_tab_or_line_break_separates_words_like_a_space(small_app, pasted):
    """Copied from a spreadsheet (cells apart by a tab) or a letter (two lines):
    the paste reaches the box as the terminal sends it, one Paste event."""
    from textual import events

    app = small_app
    async with started(app, (80, 24)) as pilot:
        app.post_message(events.Paste(pasted))
        screen = app.screen
        await until(pilot, lambda: screen.query_text.strip() and screen._shown_for == screen.query_text,
                    "results of the paste")
        assert screen.query_text.strip() == "roux jeanne"
        assert [row[:2] for row in table_rows(app)] == [["ROUX", "Jeanne Stéphanie"]]
