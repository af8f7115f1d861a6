"""The counter's screen names a damaged database file, instead of blaming the network."""

from __future__ import annotations

import pytest

from tests.damage import damage, production_database
from tests.pilot.helpers import until


@pytest.mark.parametrize("how", ["truncated", "header"])
@pytest.mark.parametrize("mode", ["training", "production"])
async def test_the_start_names_a_damaged_file(tmp_path, how, mode):
    from counter.app_factory import build_app
    from counter.clock import FixedClock
    from counter.runtime import Runtime
    from tests.conftest import TODAY

    database = damage(production_database(tmp_path / "counter.sqlite3", people=1500), how)
    runtime = Runtime(mode=mode, data_dir=tmp_path, database_url=f"sqlite:///{database}",
                      clock=FixedClock(TODAY), agent_login="agent")
    app = build_app(runtime)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: bool(app.problem), "the failure to open the database")
        if mode == "production":
            assert app.problem.startswith("La base de données locale est endommagée")
            assert "restaurer la dernière sauvegarde" in app.problem
        else:  # the fictional town only: the trainer builds it again
            assert app.problem.startswith("La base de formation est endommagée")
            assert "counter train --reset" in app.problem
        assert "réseau" not in app.problem
        assert not app.ready


async def test_a_search_meeting_a_damaged_page_names_the_damage(tmp_path, make_app):
    from counter.store.engine import Store
    from tests.pilot.helpers import started, status_text

    database = production_database(tmp_path / "counter.sqlite3", people=3000)
    store = Store(f"sqlite:///{database}")
    app = make_app(store)  # the agent's PIN is written while the file is intact
    store.dispose()
    damage(database, "pages")  # the schema still reads: the counter opens
    async with started(app) as pilot:
        # Names in the damaged half of the file (ENFANT02xxx): with the prefix indexes,
        # « enfant » alone reads only the first pages of its index and finds the children there.
        await pilot.press(*"enfant02")
        await until(pilot, lambda: "endommagée" in status_text(app), "the search's failure")
        # Training: the damaged file is the training database, which « counter train --reset » rebuilds.
        assert status_text(app).startswith("La recherche a échoué : la base de formation est endommagée")
