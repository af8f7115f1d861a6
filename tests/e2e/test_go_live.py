"""Going live, as docs/go-live.md says it, command by command, on an empty SQLite
or PostgreSQL database: db upgrade, the first supervisor, the town's addresses
(BAN), its carte scolaire, its families; then an agent at 80x24 finds Anne
GIRAUD, opens her household and registers her daughter at school."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from counter.store.engine import Store
from registrations.school.form import SchoolForm
from screens.household import HouseholdScreen
from screens.receipt import ReceiptScreen
from screens.visit import ConfirmVisit, VisitScreen
from tests.e2e.test_served_agencies import counter, env  # noqa: F401 (a fixture)
from tests.pilot.helpers import started, type_text, until
from tests.pilot.test_visit import fill

REPO = Path(__file__).resolve().parents[2]
GO_LIVE = REPO / "fixtures" / "data" / "go-live"
BAN = REPO / "fixtures" / "data" / "town" / "adresses-45999.csv"


def _config(tmp_path: Path, database_url: str) -> str:
    config = tmp_path / "counter.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\n[database]\nurl = "{database_url}"\n', encoding="utf-8")
    return str(config)


def _run(env, config: str, *args: str, status: int = 0) -> str:  # noqa: F811
    done = counter(env, "--config", config, *args)
    assert done.returncode == status, f"{args}: {done.stdout}{done.stderr}"
    assert "Traceback" not in done.stderr
    return done.stdout


async def test_from_an_empty_database_to_a_child_registered(database_url, env, tmp_path, make_app):  # noqa: F811
    config = _config(tmp_path, database_url)
    _run(env, config, "db", "upgrade")
    _run(env, config, "agents", "add", "mchef", "--role", "supervisor")
    # (the supervisor adds the agents through the service; here the test's service does)
    assert "streets: " in _run(env, config, "import", "addresses", str(BAN))
    _run(env, config, "import", "schools", str(GO_LIVE / "schools.csv"))
    _run(env, config, "import", "sectors", str(GO_LIVE / "sectors.csv"))
    # Two families of the shipped file are refused on purpose (their rows in the reject file).
    out = _run(env, config, "import", "families", str(GO_LIVE / "families.csv"), "--rejects",
               str(tmp_path / "rejects.csv"), status=1)
    assert "families: 7,998 created" in out and "2 refused" in out
    assert "Anne" not in out and "GIRAUD" not in out

    store = Store(database_url)
    try:
        with store.engine.connect() as c:
            lea = c.execute(text("SELECT id FROM person WHERE source_id = 'P001111'")).scalar_one()
            anne_address = c.execute(text(
                "SELECT a.ban_id FROM household h JOIN address a ON a.id = h.address_id "
                "WHERE h.source_id = 'F00441'")).scalar_one()
        assert anne_address == "45999_1180_00086"  # her address found among the BAN's
        app = make_app(store, mode="production", agent="guichet")
        async with started(app, (80, 24)) as pilot:
            await type_text(pilot, "giraud anne")
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, HouseholdScreen) and app.screen.view is not None,
                        "household")
            assert [m.person.given_names[0] for m in app.screen.view.members][:1] == ["Anne"]
            await pilot.press("f4")
            await until(pilot, lambda: isinstance(app.screen, VisitScreen) and app.screen.context is not None,
                        "visit")
            await pilot.press("e")
            await until(pilot, lambda: isinstance(app.screen, SchoolForm), "school form")
            await fill(pilot, app.screen, {"#person": lea, "#separated": "non"})
            await pilot.press("ctrl+s")
            await until(pilot, lambda: isinstance(app.screen, VisitScreen), "back to the visit")
            await pilot.press("ctrl+s")
            await until(pilot, lambda: isinstance(app.screen, ConfirmVisit), "summary")
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, ReceiptScreen), "receipt")
            assert [line.kind for line in app.screen.receipt.lines] == ["school"]
        with store.engine.connect() as c:
            registered = c.execute(text("SELECT r.kind, s.uai FROM registration r JOIN school s ON s.id = r.school_id "
                                        "WHERE r.person_id = :p"), {"p": lea}).all()
        assert len(registered) == 1 and registered[0].kind == "school"
    finally:
        store.dispose()
