"""`counter import addresses`: the town's BAN export, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from counter.domain.identity_checks import PersonInput
from counter.services.address_import import import_addresses
from counter.services.csv_input import ImportFileError
from counter.services.families import FamilyError, FamilyService
from tests.factories import add_household, person

HEADER = "id;id_fantoir;numero;rep;nom_voie;code_postal;code_insee;nom_commune;lon;lat;nom_ld;certification_commune"
FIRST = f"""{HEADER}
45999_0150_00010;459990150;10;;Rue des Lilas;45999;45999;Bellerive-sur-Loire;1.91;47.90;;1
45999_0150_00012;459990150;12;;Rue des Lilas;45999;45999;Bellerive-sur-Loire;1.91;47.90;;1
45999_0150_00012_bis;459990150;12;bis;Rue des Lilas;45999;45999;Bellerive-sur-Loire;1.91;47.90;;1
45999_0150_00012_a;459990150;12;a;Rue des Lilas;45999;45999;Bellerive-sur-Loire;1.91;47.90;;1
45999_0200_00001;459990200;1;;Avenue du Port;45998;45999;Bellerive-sur-Loire;1.92;47.91;;1
45999_0200_00003;459990200;3;;Avenue du Port;45998;45999;Bellerive-sur-Loire;1.92;47.91;;1
45999_0300_00005;459990300;5;;Impasse des Saules;45999;45999;Bellerive-sur-Loire;1.92;47.91;;1
45999_a990_99999;;99999;;Les Grands Champs;45998;45999;Bellerive-sur-Loire;1.93;47.88;Les Grands Champs;0
"""
# A year later: avenue du Port renamed (same key), 12 a and the impasse gone, 14 new.
SECOND = f"""{HEADER}
45999_0150_00010;459990150;10;;Rue des Lilas;45999;45999;Bellerive-sur-Loire;1.91;47.90;;1
45999_0150_00012;459990150;12;;Rue des Lilas;45999;45999;Bellerive-sur-Loire;1.91;47.90;;1
45999_0150_00012_bis;459990150;12;bis;Rue des Lilas;45999;45999;Bellerive-sur-Loire;1.91;47.90;;1
45999_0150_00014;459990150;14;;Rue des Lilas;45999;45999;Bellerive-sur-Loire;1.91;47.90;;1
45999_0200_00001;459990200;1;;Avenue Simone-Veil;45998;45999;Bellerive-sur-Loire;1.92;47.91;;1
45999_0200_00003;459990200;3;;Avenue Simone-Veil;45998;45999;Bellerive-sur-Loire;1.92;47.91;;1
45999_a990_99999;;99999;;Les Grands Champs;45998;45999;Bellerive-sur-Loire;1.93;47.88;Les Grands Champs;0
"""
NAMES = iter(["Ana", "Léo", "Zoé", "Noé", "Eva", "Timéo", "Inès", "Yanis", "Lou", "Malo"] * 10)


def parent() -> PersonInput:
    """A parent the town does not know yet (no likely duplicate of the ones before)."""
    given = next(NAMES)
    return PersonInput(birth_name=f"Nouveau{given}", given_names=given, sex="F", birth_date="02/03/1990",
                       birth_insee_code="45234", role="parent")


def write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def rows(store, sql: str, **params) -> list[tuple]:
    with store.engine.connect() as connection:
        return [tuple(r) for r in connection.execute(text(sql), params).all()]


def counts(store) -> dict[str, int]:
    return {t: rows(store, f"SELECT count(*) FROM {t}")[0][0] for t in ("street", "town_address", "audit_entry")}


def street_id(store, name: str) -> int:
    return rows(store, "SELECT id FROM street WHERE name = :n", n=name)[0][0]


def test_the_export_makes_streets_numbers_and_lieux_dits(store, tmp_path):
    report = import_addresses(store, write(tmp_path, "a.csv", FIRST), "admin")
    assert (report.lines, report.insee_code, report.postal_codes) == (8, "45999", ("45998", "45999"))
    assert sorted(report.streets_added) == ["Avenue du Port, 45998", "Impasse des Saules, 45999",
                                            "Les Grands Champs, 45998", "Rue des Lilas, 45999"]
    assert rows(store, "SELECT name, postal_code, city, ban_key, insee_code, lieu_dit, retired FROM street "
                       "ORDER BY ban_key") == [
        ("Rue des Lilas", "45999", "Bellerive-sur-Loire", "45999_0150", "45999", False, False),
        ("Avenue du Port", "45998", "Bellerive-sur-Loire", "45999_0200", "45999", False, False),
        ("Impasse des Saules", "45999", "Bellerive-sur-Loire", "45999_0300", "45999", False, False),
        ("Les Grands Champs", "45998", "Bellerive-sur-Loire", "45999_a990", "45999", True, False)]
    families = FamilyService(store, "agent")
    assert [n.label for n in families.numbers(street_id(store, "Rue des Lilas"))] == ["10", "12", "12 bis", "12 a"]
    lieu_dit = families.numbers(street_id(store, "Les Grands Champs"))
    assert [(n.ban_id, n.label) for n in lieu_dit] == [("45999_a990_99999", "sans numéro")]
    # Audited with counts only: no name, no address.
    action, target, details = rows(store, "SELECT action, target_id, details FROM audit_entry")[0]
    assert (action, target) == ("addresses.import", "45999")
    assert json.loads(details)["addresses_added"] == 8 and "Lilas" not in details


def test_the_same_file_twice_changes_nothing_and_a_dry_run_writes_nothing(store, tmp_path):
    path = write(tmp_path, "a.csv", FIRST)
    dry = import_addresses(store, path, "admin", dry_run=True)
    assert dry.changed and dry.addresses_added == 8 and len(dry.streets_added) == 4
    assert counts(store) == {"street": 0, "town_address": 0, "audit_entry": 0}
    import_addresses(store, path, "admin")
    before = (counts(store), rows(store, "SELECT * FROM street ORDER BY id"),
              rows(store, "SELECT * FROM town_address ORDER BY id"))
    again = import_addresses(store, path, "admin")
    assert not again.changed and again.addresses_kept == 8
    assert (counts(store), rows(store, "SELECT * FROM street ORDER BY id"),
            rows(store, "SELECT * FROM town_address ORDER BY id")) == before


def test_a_newer_export_adds_renames_and_retires_but_never_deletes(store, tmp_path):
    import_addresses(store, write(tmp_path, "a.csv", FIRST), "admin")
    families = FamilyService(store, "agent")
    lilas, saules = street_id(store, "Rue des Lilas"), street_id(store, "Impasse des Saules")
    household = families.create(lilas, None, None, None, [parent()], ban_id="45999_0150_00012_a")
    moved = families.create(saules, 5, None, None, [parent()])
    dry = import_addresses(store, write(tmp_path, "b.csv", SECOND), "admin", dry_run=True)
    assert (dry.addresses_added, dry.addresses_retired) == (1, 2)
    report = import_addresses(store, write(tmp_path, "b.csv", SECOND), "admin")
    assert report.streets_renamed == [("Avenue du Port", "Avenue Simone-Veil")]
    assert report.streets_retired == ["Impasse des Saules"]
    assert (report.addresses_added, report.addresses_retired, report.retired_in_use) == (1, 2, 2)
    assert counts(store)["town_address"] == 9  # nothing deleted
    assert rows(store, "SELECT retired FROM town_address WHERE ban_id = '45999_0150_00012_a'") == [(True,)]
    # The families still live there, as they did.
    assert rows(store, "SELECT a.number, a.suffix, a.ban_id FROM household h JOIN address a ON a.id = h.address_id "
                       "WHERE h.id IN (:a, :b) ORDER BY h.id", a=household, b=moved) == [
        (12, "a", "45999_0150_00012_a"), (5, None, "45999_0300_00005")]
    # Retired: not offered, not accepted for a new address.
    assert "Impasse des Saules" not in [name for _, name in families.streets()]
    assert "Avenue Simone-Veil" in [name for _, name in families.streets()]
    assert [n.label for n in families.numbers(lilas)] == ["10", "12", "12 bis", "14"]
    with pytest.raises(FamilyError) as refused:
        families.create(lilas, None, None, None, [parent()], ban_id="45999_0150_00012_a")
    assert refused.value.errors[0][1].field == "number"
    # The first file again: what came back is offered again.
    back = import_addresses(store, write(tmp_path, "a.csv", FIRST), "admin")
    assert back.streets_restored == ["Impasse des Saules"] and back.addresses_restored == 2
    assert back.streets_renamed == [("Avenue Simone-Veil", "Avenue du Port")] and back.addresses_retired == 1


def test_streets_known_without_a_key_are_adopted_not_doubled(store, tmp_path):
    # As `import sectors` or an older set-up left them: another spelling, no BAN key.
    add_household(store, "rue des lilas", 12, [(person("GIRAUD", "Léa", (2020, 3, 1)), "child")])
    known = street_id(store, "rue des lilas")
    report = import_addresses(store, write(tmp_path, "a.csv", FIRST), "admin")
    assert report.streets_adopted == ["Rue des Lilas"] and report.streets_renamed == []
    assert rows(store, "SELECT id, name, ban_key FROM street WHERE name LIKE '%ilas'") == [
        (known, "Rue des Lilas", "45999_0150")]
    assert counts(store)["street"] == 4


def test_a_street_moved_to_another_postal_code_is_updated_not_nothing(store, tmp_path):
    import_addresses(store, write(tmp_path, "a.csv", FIRST), "admin")
    moved = FIRST.replace("Rue des Lilas;45999;", "Rue des Lilas;45998;")
    report = import_addresses(store, write(tmp_path, "m.csv", moved), "admin")
    assert (report.streets_updated, report.addresses_updated, report.changed) == (1, 4, True)
    assert rows(store, "SELECT postal_code FROM street WHERE name = 'Rue des Lilas'") == [("45998",)]
    assert rows(store, "SELECT count(*) FROM audit_entry")[0][0] == 2


def test_a_family_picks_its_number_and_keeps_the_ban_id(store, tmp_path):
    import_addresses(store, write(tmp_path, "a.csv", FIRST), "admin")
    families = FamilyService(store, "agent")
    port, champs = street_id(store, "Avenue du Port"), street_id(store, "Les Grands Champs")
    picked = families.create(port, None, None, "Bât. A", [parent()], ban_id="45999_0200_00003")
    typed = families.create(street_id(store, "Rue des Lilas"), 12, "bis", None, [parent()])  # typed, in the list
    off_list = families.create(street_id(store, "Rue des Lilas"), 99, None, None, [parent()])  # typed, not in it
    hamlet = families.create(champs, None, None, None, [parent()], ban_id="45999_a990_99999")
    assert rows(store, "SELECT a.number, a.suffix, a.postal_code, a.complement, a.ban_id FROM household h "
                       "JOIN address a ON a.id = h.address_id WHERE h.id IN (:a, :b, :c, :d) ORDER BY h.id",
                a=picked, b=typed, c=off_list, d=hamlet) == [
        (3, None, "45998", "Bât. A", "45999_0200_00003"), (12, "bis", "45999", None, "45999_0150_00012_bis"),
        (99, None, "45999", None, None), (None, None, "45998", None, "45999_a990_99999")]
    with pytest.raises(FamilyError):  # an address of another street
        families.create(port, None, None, None, [parent()], ban_id="45999_0150_00010")


def test_an_agency_address_on_a_town_street_is_taken_as_that_street(store, tmp_path):
    import_addresses(store, write(tmp_path, "a.csv", FIRST), "admin")
    household = add_household(store, "Rue des Lilas", 10, [(person("GIRAUD", "Léa", (1990, 3, 1)), "parent")])
    families = FamilyService(store, "agent")
    families.set_address(household, None, line="12 BIS RUE DES LILAS", postal_code="45999", city="BELLERIVE")
    families.set_address(household, None, line="12 BIS RUE DES LILAS", postal_code="45000", city="ORLEANS")
    families.set_address(household, None, line="12 A R DES LILAS", postal_code="45999", city="BELLERIVE")
    written = rows(store, "SELECT street_id, number, suffix, line, ban_id FROM address ORDER BY id")[-3:]
    lilas = street_id(store, "Rue des Lilas")
    assert written == [(lilas, 12, "bis", None, "45999_0150_00012_bis"),  # the town's postal code
                       (None, None, None, "12 BIS RUE DES LILAS", None),  # another town's
                       (lilas, 12, "a", None, "45999_0150_00012_a")]  # "R" is rue, "A" its suffix


def test_a_bad_file_or_another_commune_writes_nothing(store, tmp_path, monkeypatch):
    import_addresses(store, write(tmp_path, "a.csv", FIRST), "admin")
    before = counts(store)
    other = FIRST.replace("45999_", "45998_").replace(";45999;Bellerive", ";45998;Bellerive")
    with pytest.raises(ImportFileError) as caught:
        import_addresses(store, write(tmp_path, "o.csv", other), "admin")
    assert "holds the addresses of commune 45999, the file those of 45998" in caught.value.problems[0][1]
    with pytest.raises(ImportFileError):
        import_addresses(store, write(tmp_path, "bad.csv", SECOND + "x;;1;;Rue;45999;45999;B;;;;\n"), "admin")
    # A failure after the streets were written rolls them back with the rest.
    from counter.services import address_import

    def broken(*_args):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(address_import, "_apply_addresses", broken)
    with pytest.raises(RuntimeError):
        import_addresses(store, write(tmp_path, "b.csv", SECOND), "admin")
    assert counts(store) == before
    assert rows(store, "SELECT count(*) FROM street WHERE retired = :t OR name = 'Avenue Simone-Veil'", t=True) == [
        (0,)]


def test_the_command_twice_dry_run_and_exit_status_2(store, tmp_path, capsys, monkeypatch):
    from counter import cli

    monkeypatch.setattr("counter.cli.common.open_current_store", lambda runtime: store.__class__(str(store.url)))
    path = str(write(tmp_path, "a.csv", FIRST))
    assert cli.main(["import", "addresses", "--dry-run", path]) == 0
    out = capsys.readouterr().out
    assert "addresses: 8 to add" in out and "dry run: nothing was written" in out
    assert counts(store)["town_address"] == 0
    assert cli.main(["import", "addresses", path]) == 0
    assert "streets: 4 added" in capsys.readouterr().out
    assert cli.main(["import", "addresses", path]) == 0
    assert "nothing to change: the database already matches the file" in capsys.readouterr().out
    assert cli.main(["import", "addresses", str(write(tmp_path, "b.csv", SECOND))]) == 0
    out = capsys.readouterr().out
    assert "renamed: Avenue du Port -> Avenue Simone-Veil" in out
    assert "street retired (kept for the families living there, no longer offered): Impasse des Saules" in out
    assert cli.main(["import", "addresses", str(write(tmp_path, "c.csv", FIRST.replace(";", ",")))]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[0].endswith("c.csv: not imported, nothing was written:")
    assert "separated by commas" in err and "Traceback" not in err


def test_progress_follows_the_addresses_as_they_are_applied(store, tmp_path, monkeypatch):
    from counter.services import address_import

    monkeypatch.setattr(address_import, "BATCH", 3)
    seen: list[tuple[int, int]] = []
    import_addresses(store, write(tmp_path, "a.csv", FIRST), "admin", progress=lambda done, total: seen.append(
        (done, total)))
    assert seen == [(3, 8), (6, 8), (8, 8)]
    assert counts(store)["town_address"] == 8
