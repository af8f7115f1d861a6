"""Bad search queries typed into the search screen: one app for every case (each
case sets the query and waits for its answer), the message shown literally."""

from __future__ import annotations

import pytest
import pytest_asyncio

from counter.clock import FixedClock
from tests.badinput.corpus import params, text
from tests.conftest import TODAY
from tests.pilot.helpers import assert_layout_intact, status_text, table_rows, until

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def searching(town_database, tmp_path_factory):
    from counter.app_factory import build_app
    from counter.service.composition import make_services
    from counter.runtime import Runtime
    from counter.store.engine import Store

    import shutil

    # A copy: the agent's PIN is written into it, never into the session's shared town.
    folder = tmp_path_factory.mktemp("search-screen")
    shutil.copyfile(town_database, folder / "town.sqlite3")
    store = Store(f"sqlite:///{folder / 'town.sqlite3'}")
    runtime = Runtime(mode="training", data_dir=folder,
                      database_url=str(store.url), clock=FixedClock(TODAY), agent_login="agent")
    from fixtures.agents import preset_pin

    preset_pin(store, "agent")
    app = build_app(runtime, make_services(store, runtime, []))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.ready, "services")
        yield app, pilot
    store.dispose()


@pytest.mark.parametrize("case", params("search"))
async def test_the_search_screen_says_it_literally(case, searching):
    app, pilot = searching
    screen = app.screen
    screen.query_one("#query").value = text(case, "query")
    await until(pilot, lambda: screen._shown_for == screen.query_text, "the answer")
    outcome = case.get("screen_outcome", case["outcome"])
    says = case.get("screen_says", case["says"])
    assert says.lower() in status_text(app).replace("\n", " ").lower()
    assert bool(table_rows(app)) == (outcome == "results")
    assert_layout_intact(app)
