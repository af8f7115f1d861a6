"""A site's [keys] reach every terminal with the session: the keys and the footer follow them."""

from __future__ import annotations

from counter.domain.keys import check_keymap
from screens.household import HouseholdScreen
from screens.search import SearchScreen
from tests.pilot.helpers import screen_lines, started, table_rows, until
from tests.pilot.test_search_flow import small_town


async def test_a_remapped_key_opens_the_household_and_the_footer_says_so(sqlite_store, make_app):
    small_town(sqlite_store)
    app = make_app(sqlite_store, keymap=check_keymap({"search.open": "f11", "household.back": "f12"}))
    async with started(app, (80, 24)) as pilot:
        await pilot.press(*"roux jea")
        await until(pilot, lambda: len(table_rows(app)) == 1, "results")
        footer = screen_lines(app)[-1]
        assert "f11 Foyer" in footer and "f2 Foyer" not in footer

        await pilot.press("f2")  # its key no more
        await pilot.press("f11")
        await until(pilot, lambda: isinstance(app.screen, HouseholdScreen) and app.screen.view is not None,
                    "household")
        await pilot.press("escape")  # neither
        await pilot.press("f12")
        await until(pilot, lambda: isinstance(app.screen, SearchScreen), "search screen")
