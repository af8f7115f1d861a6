"""The BAN export read and checked (counter.domain.addresses, counter.services.address_import.read_ban)."""

from __future__ import annotations

import gzip

import pytest

from counter.domain.addresses import (
    TownNumber,
    exact_number,
    match_numbers,
    number_label,
    ordered,
    read_ban_row,
    split_street_line,
)
from counter.services.address_import import TOO_LARGE, ban_rows, read_ban
from counter.services.csv_input import ImportFileError

HEADER = ("id;id_fantoir;numero;rep;nom_voie;code_postal;code_insee;nom_commune;code_insee_ancienne_commune;"
          "nom_ancienne_commune;x;y;lon;lat;type_position;alias;nom_ld;libelle_acheminement;nom_afnor;"
          "source_position;source_nom_voie;certification_commune;cad_parcelles")
LILAS = ("45999_0150_00012_bis;459990150;12;bis;Rue des Lilas;45999;45999;Bellerive-sur-Loire;;;619000.5;"
         "6745000.2;1.91;47.90;entrée;;;BELLERIVE SUR LOIRE;RUE DES LILAS;commune;commune;1;")
CHAMPS = ("45999_0990_99999;;99999;;Les Grands Champs;45998;45999;Bellerive-sur-Loire;;;;;1.93;47.88;segment;;"
          "Les Grands Champs;BELLERIVE SUR LOIRE;LES GRANDS CHAMPS;commune;commune;0;")


def row(**values) -> dict[str, str]:
    base = {"id": "45999_0150_00012", "numero": "12", "rep": "", "nom_voie": "Rue des Lilas",
            "code_postal": "45999", "code_insee": "45999", "nom_commune": "Bellerive-sur-Loire", "nom_ld": ""}
    return {**base, **values}


def test_a_row_gives_its_street_key_number_suffix_and_id():
    address, problems = read_ban_row(2, row(id="45999_0150_00012_bis", rep="BIS", nom_voie="  Rue  des Lilas "))
    assert problems == []
    assert (address.ban_id, address.street_key, address.number, address.suffix, address.street_name) == (
        "45999_0150_00012_bis", "45999_0150", 12, "bis", "Rue des Lilas")
    assert not address.lieu_dit


@pytest.mark.parametrize("numero", ["99999", ""])
def test_a_lieu_dit_has_no_number_and_may_be_named_by_nom_ld_only(numero):
    address, problems = read_ban_row(3, row(id="45999_a990_99999", numero=numero, nom_voie="", nom_ld="La Motte"))
    assert problems == []
    assert (address.number, address.street_name, address.street_key, address.lieu_dit) == (
        None, "La Motte", "45999_a990", True)


@pytest.mark.parametrize("values, says", [
    ({"id": "rue des lilas"}, "is not a BAN address id"),
    ({"id": "45998_0150_00012"}, "is not an address of commune 45999"),
    ({"code_insee": "4599"}, "is not an INSEE commune code"),
    ({"code_postal": "4599"}, "code_postal: '4599' is not 5 digits"),
    ({"numero": "12a"}, "numero: '12a' is not a number"),
    ({"numero": "١٢"}, "is not a number"),  # Arabic-Indic digits: decimal, not ASCII
    ({"rep": "b-is"}, "is not a suffix"),
    ({"numero": "99999", "rep": "bis"}, "a suffix without a number"),
    ({"nom_voie": ""}, "nom_voie: empty"),
    ({"nom_voie": "Rue\x1b]52;c;aGk=\x07"}, "control or invisible character"),
    ({"nom_voie": "x" * 121}, "longer than 120"),
    ({"nom_commune": ""}, "nom_commune: empty"),
])
def test_a_bad_row_says_which_column(values, says):
    address, problems = read_ban_row(7, row(**values))
    assert address is None
    assert any(says in p for p in problems), problems


def lines(*texts: str):
    return iter(t + "\n" for t in texts)


def test_the_export_is_read_by_column_name_whatever_the_order_and_extra_columns():
    addresses = ban_rows(lines("nouvelle_colonne;nom_commune;code_insee;code_postal;nom_voie;rep;numero;id",
                               "x;Bellerive;45999;45999;Rue des Lilas;;3;45999_0150_00003",
                               "",
                               "y;Bellerive;45999;45998;Rue des Lilas;a;3;45999_0150_00003_a"))
    assert [(a.line, a.ban_id, a.postal_code, a.suffix) for a in addresses] == [
        (2, "45999_0150_00003", "45999", None), (4, "45999_0150_00003_a", "45998", "a")]


def test_the_reference_rows_read():
    addresses = ban_rows(lines(HEADER, LILAS, CHAMPS))
    assert [(a.ban_id, a.number, a.suffix, a.postal_code) for a in addresses] == [
        ("45999_0150_00012_bis", 12, "bis", "45999"), ("45999_0990_99999", None, None, "45998")]


@pytest.mark.parametrize("content, says", [
    ([HEADER.replace(";", ","), LILAS.replace(";", ",")], "separated by commas, not by semicolons"),
    ([HEADER.replace(";", "\t"), LILAS.replace(";", "\t")], "separated by tabs"),
    ([HEADER.replace("numero;", ""), LILAS], "missing column(s): numero"),
    ([HEADER + ";numero", LILAS + ";12"], "column(s) named twice: numero"),
    ([HEADER, LILAS + ";x" * 9977], "10000 field(s), the header has 23"),
    ([HEADER, LILAS, LILAS], "id 45999_0150_00012_bis already on line 2"),
    ([HEADER, LILAS, LILAS.replace("45999;45999;", "45999;45998;").replace("45999_", "45998_")],
     "addresses of 2 communes (45998, 45999)"),
    ([HEADER], "no data lines"),
    ([""], "empty file"),
])
def test_a_bad_export_is_refused_whole(content, says):
    with pytest.raises(ImportFileError) as caught:
        ban_rows(lines(*content))
    assert any(says in message for _, message in caught.value.problems), caught.value.problems


def test_problems_stop_after_a_thousand():
    bad = [LILAS.replace("45999_0150_00012_bis", f"bad{i}") for i in range(2000)]
    with pytest.raises(ImportFileError) as caught:
        ban_rows(lines(HEADER, *bad))
    assert len(caught.value.problems) == 1001
    assert "stopped after 1000 problems" in caught.value.problems[-1][1]


def test_gzip_bom_and_crlf_are_read(tmp_path):
    plain = tmp_path / "adresses-45999.csv"
    plain.write_bytes(b"\xef\xbb\xbf" + f"{HEADER}\r\n{LILAS}\r\n{CHAMPS}\r\n".encode())
    packed = tmp_path / "export.bin"  # found by its magic bytes, not its name
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    assert read_ban(plain) == read_ban(packed)
    assert len(read_ban(packed)) == 2


def test_cp1252_a_damaged_gzip_and_a_gzip_bomb_are_refused(tmp_path, monkeypatch):
    latin = tmp_path / "latin.csv"
    latin.write_bytes(f"{HEADER}\n{LILAS}\n".encode("cp1252"))
    with pytest.raises(ImportFileError) as caught:
        read_ban(latin)
    assert caught.value.problems == [(2, "not UTF-8 text (save the file as CSV UTF-8)")]
    damaged = tmp_path / "damaged.csv.gz"
    damaged.write_bytes(gzip.compress(f"{HEADER}\n{LILAS}\n".encode())[:-12])
    with pytest.raises(ImportFileError) as caught:
        read_ban(damaged)
    assert "damaged gzip file" in caught.value.problems[0][1]
    # The cap holds for what the gzip file unpacks to (a smaller cap keeps the test quick).
    monkeypatch.setattr("counter.services.address_import.MAX_BYTES", 4 * 1024 * 1024)
    bomb = tmp_path / "bomb.csv.gz"
    blank = (b" " * 1000 + b";") * 22 + b"\n"  # a blank line of 23 empty fields
    with gzip.open(bomb, "wb") as handle:
        handle.write(f"{HEADER}\n".encode())
        handle.write(blank * 200)
    assert bomb.stat().st_size < 100_000 and len(blank) * 200 > 4 * 1024 * 1024
    with pytest.raises(ImportFileError) as caught:
        read_ban(bomb)
    assert caught.value.problems == [(0, TOO_LARGE)]


def test_numbers_are_listed_and_matched_as_the_agent_types():
    numbers = ordered([TownNumber("c", 12, "bis"), TownNumber("a", 120, None), TownNumber("b", 12, None),
                       TownNumber("d", 12, "a"), TownNumber("e", 3, None), TownNumber("f", 12, "ter")])
    assert [n.label for n in numbers] == ["3", "12", "12 bis", "12 ter", "12 a", "120"]
    assert [n.label for n in match_numbers(numbers, "12")] == ["12", "12 bis", "12 ter", "12 a", "120"]
    assert [n.label for n in match_numbers(numbers, "12 b")] == ["12 bis"]
    assert [n.label for n in match_numbers(numbers, "12A")] == ["12 a"]
    assert match_numbers(numbers, "") == numbers
    assert exact_number(numbers, 12, " BIS ").ban_id == "c"
    assert exact_number(numbers, 12, None).ban_id == "b"
    assert exact_number(numbers, 13, None) is None
    assert number_label(None, None) == "sans numéro"


def test_an_agency_street_line_splits_into_number_suffix_and_street():
    assert split_street_line("12 BIS RUE DES LILAS") == (12, "bis", "RUE DES LILAS")
    assert split_street_line("3 a, rue du Port") == (3, "a", "rue du Port")
    assert split_street_line("7 avenue Bellevue") == (7, None, "avenue Bellevue")
    assert split_street_line("rue des Lilas") is None
