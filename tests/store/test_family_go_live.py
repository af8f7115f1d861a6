"""The shipped go-live families file: current with the town, imported by the command,
Anne GIRAUD found with her household (SQLite; the import's rules on both databases
are in test_family_import.py)."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text

from counter.clock import FixedClock
from counter.services.households import HouseholdService
from counter.services.search import SearchService
from counter.store.models import Street
from fixtures.go_live import GO_LIVE_DIR, TOWN_DIR, town_rows, write_families
from fixtures.town.writer import read_rows

TODAY = date(2026, 11, 25)


def test_the_shipped_file_is_the_towns_families_in_our_format():
    buffer = io.StringIO()
    write_families(buffer, town_rows())
    assert (GO_LIVE_DIR / "families.csv").read_text(encoding="utf-8") == buffer.getvalue(), \
        "regenerate it: python -m fixtures.go_live"


def test_the_family_ids_are_the_city_emulators():
    from fixtures.emulators.city.world import family_key, person_key

    members = {m["person_id"]: m["household_id"] for m in read_rows(TOWN_DIR, "household_members")}
    anne = next(r for r in town_rows() if r["person_id"] == person_key(1108))
    assert anne["family_id"] == family_key(members[1108])


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_go_live_file_is_imported_and_anne_giraud_found_with_her_household(store, tmp_path, capsys,
                                                                                monkeypatch):
    from counter import cli

    with store.write() as session:  # the town's streets, as `import addresses` leaves them
        for street in read_rows(TOWN_DIR, "streets"):
            session.add(Street(**street))
    monkeypatch.setattr("counter.cli.common.open_current_store", lambda runtime: store.__class__(str(store.url)))
    status = cli.main(["import", "families", str(GO_LIVE_DIR / "families.csv"), "--rejects",
                       str(tmp_path / "rejects.csv")])
    out = capsys.readouterr().out
    assert status == 1, out  # two families of staging identities are refused on purpose
    assert "families: 7,998 created, 0 updated, 0 unchanged, 2 refused" in out
    results = SearchService(store, FixedClock(TODAY)).search("giraud anne").results
    anne = next(r.person for r in results if r.person.given_names == ("Anne",))
    household = HouseholdService(store).get(anne.household_id)
    assert household.address is not None and household.address.street == "rue des Sablons"
    assert [m.person.given_names for m in household.members][0] == ("Anne",)
    with store.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM person")).scalar_one() == 20_052
    assert Path(tmp_path / "rejects.csv").read_text(encoding="utf-8").count("\n") == 4  # header and three rows


def test_the_shipped_carte_scolaire_is_the_towns():
    from fixtures.go_live import carte_scolaire

    schools, sectors = carte_scolaire()
    assert (GO_LIVE_DIR / "schools.csv").read_text(encoding="utf-8") == schools, "regenerate: python -m fixtures.go_live"
    assert (GO_LIVE_DIR / "sectors.csv").read_text(encoding="utf-8") == sectors, "regenerate: python -m fixtures.go_live"
