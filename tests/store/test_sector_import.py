"""`counter import schools|sectors`: the carte scolaire from CSV, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import select

from counter.domain.sectors import sector_for
from counter.services.sector_import import ImportFileError, import_schools, import_sectors
from counter.store.models import School, SchoolSector, SectorRule
from tests.factories import add_household, person

SCHOOLS = """uai,name,kind
0459033Z,École maternelle Les Lutins,maternelle
0459121V,École élémentaire Jean-Zay,elementaire
0459500B,École primaire du Port,primaire
"""
SECTORS = """street;postal_code;city;number_from;number_to;parity;sector;maternelle_uai;elementaire_uai
rue des Lilas;45999;Bellerive-sur-Loire;;;;Secteur Centre;0459033Z;0459121V
avenue Jean-Monnet;45999;Bellerive-sur-Loire;1;99;odd;Secteur Centre;;
avenue Jean-Monnet;45999;Bellerive-sur-Loire;0;98;even;Secteur Port;0459500B;0459500B
avenue Jean-Monnet;45999;Bellerive-sur-Loire;100;;all;Secteur Port;;
"""


def write(tmp_path: Path, name: str, content: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode(encoding))
    return path


def counts(store) -> dict[str, int]:
    with store.engine.connect() as c:
        return {t: c.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in ("school", "school_sector", "sector_rule", "street", "audit_entry")}


def sector_of(store, street: str, number: int | None) -> str | None:
    with store.read() as session:
        street_id = session.execute(text("SELECT id FROM street WHERE name = :n"), {"n": street}).scalar_one()
        rules = session.exec(select(SectorRule).where(SectorRule.street_id == street_id)).all()
        found = sector_for(number, rules)
        return session.get(SchoolSector, found).name if found else None


@pytest.fixture
def imported(store, tmp_path):
    # An existing street written differently from the file: it must be found, not doubled.
    add_household(store, "Rue des lilas", 3, [(person("GIRAUD", "Léa", (2022, 3, 1)), "child")])
    import_schools(store, write(tmp_path, "schools.csv", SCHOOLS), "admin")
    report = import_sectors(store, write(tmp_path, "sectors.csv", SECTORS), "admin")
    return report


def test_a_good_file_makes_the_carte_scolaire(store, imported):
    assert imported.rules_added == 4 and imported.rules_removed == 0
    assert sorted(imported.sectors_added) == ["Secteur Centre", "Secteur Port"]
    assert imported.streets_added == ["avenue Jean-Monnet, 45999 Bellerive-sur-Loire"]  # rue des Lilas was known
    assert counts(store)["street"] == 2
    assert sector_of(store, "Rue des lilas", 3) == "Secteur Centre"
    assert sector_of(store, "avenue Jean-Monnet", 7) == "Secteur Centre"
    assert sector_of(store, "avenue Jean-Monnet", 8) == "Secteur Port"
    assert sector_of(store, "avenue Jean-Monnet", 101) == "Secteur Port"
    with store.read() as session:
        port = session.exec(select(SchoolSector).where(SchoolSector.name == "Secteur Port")).one()
        assert session.get(School, port.maternelle_id).uai == "0459500B"
        audit = session.execute(text("SELECT action, details FROM audit_entry ORDER BY id")).all()
    assert [a.action for a in audit] == ["schools.import", "sectors.import"]
    assert json.loads(audit[1].details)["rules_added"] == 4


def test_importing_the_same_files_again_changes_nothing(store, tmp_path, imported):
    before = counts(store)
    again = import_sectors(store, write(tmp_path, "sectors.csv", SECTORS), "admin")
    schools = import_schools(store, write(tmp_path, "schools.csv", SCHOOLS), "admin")
    assert not again.changed and again.rules_kept == 4 and not schools.changed
    assert counts(store) == before  # no audit entry either: nothing happened


def test_a_new_file_replaces_the_rules_and_keeps_unused_sectors(store, tmp_path, imported):
    smaller = "\n".join(SECTORS.splitlines()[:2]) + "\n"
    report = import_sectors(store, write(tmp_path, "smaller.csv", smaller), "admin")
    assert (report.rules_added, report.rules_removed, report.rules_kept) == (0, 3, 1)
    assert report.sectors_unused == ["Secteur Port"]
    assert counts(store)["sector_rule"] == 1 and sector_of(store, "avenue Jean-Monnet", 8) is None


def test_a_dry_run_reports_and_writes_nothing(store, tmp_path):
    import_schools(store, write(tmp_path, "schools.csv", SCHOOLS), "admin")
    before = counts(store)
    report = import_sectors(store, write(tmp_path, "sectors.csv", SECTORS), "admin", dry_run=True)
    assert report.rules_added == 4 and report.dry_run
    assert counts(store) == before


def test_every_bad_line_is_reported_and_nothing_is_written(store, tmp_path):
    import_schools(store, write(tmp_path, "schools.csv", SCHOOLS), "admin")
    before = counts(store)
    bad = (SECTORS.splitlines()[0] + "\n"
           "rue des Lilas;45999;Bellerive-sur-Loire;;;;Secteur Centre;0459033Z;0459121V\n"
           "rue des Roses;4599;Bellerive-sur-Loire;12;3;both;Secteur Centre;;\n"   # line 3: three problems
           "rue des Roses;45999;;a;;;Secteur Centre;;\n"                           # line 4
           "rue des Iris;45999;Bellerive-sur-Loire;;;;Secteur Centre;0459121V;\n"  # 5: other schools than line 2
           "rue des Lilas;45999;Bellerive-sur-Loire;;;;Secteur Nord;0459033Z;\n"   # 6: same range as line 2
           "rue des Pins;45999;Bellerive-sur-Loire;;;;Secteur Neuf;;\n")           # 7: a new sector, no school
    with pytest.raises(ImportFileError) as caught:
        import_sectors(store, write(tmp_path, "bad.csv", bad), "admin")
    problems = caught.value.problems
    lines = [line for line, _ in problems]
    assert lines == sorted(lines) and set(lines) == {3, 4, 5, 6}
    text_of = {line: " / ".join(m for n, m in problems if n == line) for line in set(lines)}
    assert "postal_code" in text_of[3] and "greater than number_to" in text_of[3] and "parity" in text_of[3]
    assert "city: empty" in text_of[4] and "number_from: 'a'" in text_of[4]
    assert "other schools than on line 2" in text_of[5]
    assert "same street and range as line 2" in text_of[6]
    assert counts(store) == before


def test_unknown_or_wrong_kind_schools_and_new_sectors_without_schools_are_refused(store, tmp_path):
    import_schools(store, write(tmp_path, "schools.csv", SCHOOLS), "admin")
    before = counts(store)
    bad = (SECTORS.splitlines()[0] + "\n"
           "rue des Lilas;45999;Bellerive-sur-Loire;;;;Secteur Centre;0459999X;\n"   # no such school
           "rue des Iris;45999;Bellerive-sur-Loire;;;;Secteur Est;0459121V;\n"      # an élémentaire as maternelle
           "rue des Pins;45999;Bellerive-sur-Loire;;;;Secteur Neuf;;\n")            # new, no school given
    with pytest.raises(ImportFileError) as caught:
        import_sectors(store, write(tmp_path, "bad.csv", bad), "admin")
    messages = dict(caught.value.problems)
    assert "no school 0459999X" in messages[2] and "counter import schools" in messages[2]
    assert "of kind elementaire" in messages[3]
    assert "Secteur Neuf' is new" in messages[4]
    assert counts(store) == before


def test_bad_schools_and_unreadable_files_are_refused(store, tmp_path):
    bad = "uai,name,kind\n045903Z,Les Lutins,maternelle\n0459121V,,college\n0459121V,Jean-Zay,elementaire\n"
    with pytest.raises(ImportFileError) as caught:
        import_schools(store, write(tmp_path, "bad.csv", bad), "admin")
    lines = [line for line, _ in caught.value.problems]
    assert lines == [2, 3, 3]
    for content, expected in (("uai,name\n0459033Z,X\n", "missing column(s): kind"),
                              ("uai,name,kind,phone\n", "unknown column(s): phone"),
                              ("uai,name,kind\n", "no data lines"),
                              ("uai,name,kind\n0459033Z,\"open quote,maternelle\n", "unreadable CSV")):
        with pytest.raises(ImportFileError) as caught:
            import_schools(store, write(tmp_path, "f.csv", content), "admin")
        assert expected in caught.value.problems[0][1]
    with pytest.raises(ImportFileError) as caught:
        import_schools(store, write(tmp_path, "latin1.csv", "uai,name,kind\n0459033Z,Élé,maternelle\n", "latin-1"),
                       "admin")
    assert caught.value.problems[0] == (2, "not UTF-8 text (save the file as CSV UTF-8)")
    assert counts(store)["school"] == 0


def test_the_command_prints_problems_with_line_numbers_and_exits_2(store, tmp_path, capsys, monkeypatch):
    from counter import cli

    monkeypatch.setattr("counter.cli.common.open_current_store", lambda runtime: store.__class__(str(store.url)))
    assert cli.main(["import", "schools", str(write(tmp_path, "schools.csv", SCHOOLS))]) == 0
    assert "schools: 3 added, 0 updated" in capsys.readouterr().out
    bad = SECTORS.replace("0;98;even", "0;98;evens")
    assert cli.main(["import", "sectors", str(write(tmp_path, "s.csv", bad))]) == 2
    err = capsys.readouterr().err
    assert "nothing was written" in err and "line 4: parity: 'evens'" in err
    assert cli.main(["import", "sectors", "--dry-run", str(write(tmp_path, "s.csv", SECTORS))]) == 0
    assert "dry run: nothing was written" in capsys.readouterr().out
    assert counts(store)["sector_rule"] == 0
