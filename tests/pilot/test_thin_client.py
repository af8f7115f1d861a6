"""What keeps the search screen light on a thin client's wire: no animation,
one search per burst of keys, a screen that never scrolls, a footer rebuilt
only when its keys change. (The bytes themselves are measured by `make bench`.)"""

from __future__ import annotations

import pytest
from textual.widgets import DataTable

from screens.widgets import SteadyFooter
from tests.factories import add_household, person
from tests.pilot.helpers import started, table_rows, type_text, until
from tests.pilot.test_keys_at_start import burst


@pytest.fixture
def crowded_app(sqlite_store, make_app):
    """Sixty MARTIN households: more than one page of results."""
    for number in range(1, 61):
        add_household(sqlite_store, "rue des Lilas", number,
                      [(person("MARTIN", f"Camille{chr(65 + number % 26)}", (1950 + number % 50, 1, 2)), "parent")])
    return make_app(sqlite_store)


def test_animations_are_off_unless_the_environment_asks(crowded_app, monkeypatch, sqlite_store, make_app):
    assert crowded_app.animation_level == "none"
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "full")
    assert make_app(sqlite_store).animation_level == "full"


async def test_a_burst_of_keys_runs_one_search(crowded_app):
    app = crowded_app
    async with started(app) as pilot:
        service = app.local_service.service.core.services.search  # searches run in the service
        searched = []
        search = service.search

        def counted(text, page=0):
            searched.append(text)
            return search(text, page)

        service.search = counted
        # All at once, as a terminal hands over a burst: pressed one by one, a pause of the
        # machine longer than the debounce between two keys would start a search (correctly).
        burst(app, "martin cam")
        screen = app.screen
        await until(pilot, lambda: screen._shown_for == "martin cam", "results for 'martin cam'")
        assert searched == ["martin cam"]


async def test_fifty_results_fit_between_the_input_and_the_footer(crowded_app):
    app = crowded_app
    async with started(app, (80, 24)) as pilot:
        await type_text(pilot, "martin")
        assert len(table_rows(app)) == 50
        screen = app.screen
        table, footer = screen.query_one("#results", DataTable), screen.query_one(SteadyFooter)
        # The table scrolls, never the screen (a scrolling screen repaints whole).
        assert screen.virtual_size.height == 24
        assert table.region.bottom == footer.region.y
        assert table.max_scroll_y > 0


async def test_the_footer_is_rebuilt_only_when_its_keys_change(crowded_app):
    app = crowded_app
    async with started(app, (80, 24)) as pilot:
        footer = app.screen.query_one(SteadyFooter)
        await until(pilot, lambda: "f6" in [key.key for key in footer.children], "the empty search's keys")
        await type_text(pilot, "martin")
        keys = list(footer.children)
        assert "f2" in [key.key for key in keys] and "f6" not in [key.key for key in keys]
        await type_text(pilot, " cam")  # other results, the same keys
        await pilot.pause()
        assert [k.key for k in footer.children] == [k.key for k in keys]
        assert list(footer.children) == keys


async def test_no_field_blinks_its_cursor_onto_the_wire(town_store, make_app):
    # A blinking cursor is two screen updates a second on the thin client's line.
    from textual.widgets import Input

    from screens.new_family import NewFamilyScreen

    app = make_app(town_store)
    async with started(app, (80, 24)) as pilot:
        assert [field.cursor_blink for field in app.screen.query(Input)] == [False]  # the search
        app.push_screen(NewFamilyScreen())
        await until(pilot, lambda: isinstance(app.screen, NewFamilyScreen) and app.screen.streets, "street list")
        fields = list(app.screen.query(Input))
        assert len(fields) >= 2 and not any(field.cursor_blink for field in fields)
