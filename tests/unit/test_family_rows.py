"""Reading a families file's rows, dates, values and mappings (no database)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from counter.domain.dates import BirthDate
from counter.domain.family_checks import check_source_family, english
from counter.domain.family_records import SourceAddress
from counter.domain.family_rows import DEFAULT_DATE_FORMATS, RowReading, assemble, read_date, read_row
from counter.services.csv_input import ImportFileError
from counter.services.family_import import read_families_file
from counter.services.family_mapping import MappingError, load_mapping

TODAY = date(2026, 11, 25)
GO_LIVE = Path(__file__).resolve().parents[2] / "fixtures" / "data" / "go-live"
ROW = {"family_id": "F1", "person_id": "P1", "role": "parent", "birth_name": "Martin", "given_names": "anne marie",
       "sex": "F", "birth_date": "1980-04-12", "number": "12 bis", "street": "rue des Lilas", "postal_code": "45999",
       "city": "Bellerive-sur-Loire", "caf_number": "0012345"}


@pytest.mark.parametrize(("text", "formats", "expected"), [
    ("2019", DEFAULT_DATE_FORMATS, BirthDate(2019)),
    ("2019-04", DEFAULT_DATE_FORMATS, BirthDate(2019, 4)),
    ("2019-04-12", DEFAULT_DATE_FORMATS, BirthDate(2019, 4, 12)),
    (" 2019-4-2 ", DEFAULT_DATE_FORMATS, BirthDate(2019, 4, 2)),
    ("12/04/2019", ("%d/%m/%Y",), BirthDate(2019, 4, 12)),
    ("00/04/2019", ("%d/%m/%Y",), BirthDate(2019, 4)),  # day unknown to civil status
    ("00/00/1950", ("%d/%m/%Y",), BirthDate(1950)),
    ("04/2019", ("%d/%m/%Y", "%m/%Y", "%Y"), BirthDate(2019, 4)),
    ("20190412", ("%Y%m%d",), BirthDate(2019, 4, 12)),
])
def test_partial_and_mapped_dates_are_read_as_civil_status_knows_them(text, formats, expected):
    assert read_date(text, formats) == (expected, None)


@pytest.mark.parametrize(("text", "formats", "says"), [
    ("2019-02-30", DEFAULT_DATE_FORMATS, "no such date (2019-02-30)"),
    ("12/04/2019", DEFAULT_DATE_FORMATS, "unreadable (12/04/2019), expected %Y-%m-%d or %Y-%m or %Y"),
    ("2019-13", DEFAULT_DATE_FORMATS, "no such date"),
    ("19", DEFAULT_DATE_FORMATS, "unreadable"),
])
def test_a_date_that_is_not_one_says_why_in_english_and_french(text, formats, says):
    birth, reason = read_date(text, formats)
    assert birth is None and says in reason.en and reason.fr and reason.field == "birth_date"


def test_a_row_becomes_a_person_with_its_address_and_caf_number():
    row, reasons = read_row(2, ROW, RowReading())
    assert reasons == []
    assert row.person.given_names == ("Anne", "Marie") and row.person.birth == BirthDate(1980, 4, 12)
    assert row.person.birth_country_code == "99100"
    assert row.address == SourceAddress(number=12, suffix="bis", street="rue des Lilas", postal_code="45999",
                                        city="Bellerive-sur-Loire")
    assert (row.family_id, row.caf_number) == ("F1", "0012345")


def test_a_row_with_unknown_values_lists_every_reason():
    row, reasons = read_row(2, {**ROW, "role": "PERE", "sex": "X", "birth_date": "", "number": "douze"},
                            RowReading())
    assert row is None
    assert [r.field for r in reasons] == ["role", "sex", "birth_date", "number"]
    assert reasons[0].en == "unknown role 'PERE' (expected: parent, child, other_guardian)"
    assert reasons[0].fr.startswith("Rôle inconnu « PERE »")


def test_the_mapping_values_are_read_ignoring_case():
    reading = RowReading(roles=(("PERE", "parent"),), sexes=(("H", "M"),))
    row, reasons = read_row(2, {**ROW, "role": "pere", "sex": " h "}, reading)
    assert reasons == [] and (row.person.role, row.person.sex) == ("parent", "M")


def test_a_family_lives_at_its_first_adults_address_and_a_member_elsewhere_keeps_theirs():
    child, _ = read_row(2, {**ROW, "person_id": "P2", "role": "child", "birth_date": "2015", "number": "3"},
                        RowReading())
    mother, _ = read_row(3, ROW, RowReading())
    father, _ = read_row(4, {**ROW, "person_id": "P3", "given_names": "Paul", "sex": "M", "number": "",
                             "street": "", "postal_code": "", "city": ""}, RowReading())
    family, reasons = assemble("F1", [child, mother, father])
    assert reasons == [] and family.address.number == 12
    assert [m.address.number if m.address else None for m in family.members] == [3, None, None]
    assert family.caf_number == "0012345"
    _, reasons = assemble("F1", [mother, read_row(5, {**ROW, "caf_number": "777"}, RowReading())[0]])
    assert [r.en for r in reasons] == ["several CAF numbers in one family"]


def test_every_french_message_of_the_counters_rules_has_its_english():
    from counter.domain.family_records import SourceFamily, SourcePerson

    people = (SourcePerson("P1", "child", "Mart1n", ("Anne",), "X", BirthDate(2030), birth_insee_code="99100"),
              SourcePerson("P2", "child", "Martin", ("Jo\u202e",), "F", BirthDate(1800), birth_country_code="1",
                           nir="2800475123456", phone="call me", email="nobody"))
    reasons = check_source_family(SourceFamily("F1", people, caf_number="12345678"), TODAY)
    assert all(r.en and "see the French reason" not in r.en for r in reasons), reasons
    assert {r.field for r in reasons} >= {"birth_name", "sex", "birth_date", "birth_insee_code", "given_names",
                                          "birth_country_code", "nir", "phone", "email", "caf_number", "role"}
    assert english("Nouveau message inconnu", "sex") == "sex: refused (see the French reason)"


def test_the_example_mapping_reads_the_cp1252_export():
    mapping = load_mapping(GO_LIVE / "mapping-example.toml")
    data = read_families_file(GO_LIVE / "families-example-cp1252.csv", mapping)
    assert (data.encoding, data.separator) == ("cp1252", ";")
    rows = [r for rows in data.families.values() for r in rows]
    assert rows and all(r.reasons == [] for r in rows)
    assert any(r.person.person.given_names == ("Léonie", "Marie", "Ambre") for r in rows)  # é from cp1252
    anne = next(r for r in rows if r.person.person.source_id == "P001108")
    assert (anne.person.person.birth_name, anne.person.person.birth) == ("GIRAUD", BirthDate(1988, 12, 1))


def test_the_same_export_read_as_utf8_is_refused_at_its_first_accented_line(tmp_path):
    with pytest.raises(ImportFileError) as refused:
        read_families_file(GO_LIVE / "families-example-cp1252.csv")
    assert refused.value.problems[0][0] == 1 and "not utf-8 text" in refused.value.problems[0][1]


def test_a_mapping_names_only_what_differs_and_unknown_keys_are_refused(tmp_path):
    path = tmp_path / "map.toml"
    path.write_text('date_formats = "%d/%m/%Y"\n[columns]\nbirth_date = "date_naissance"\n')
    mapping = load_mapping(path)
    assert mapping.headers["birth_date"] == "date_naissance" and mapping.headers["family_id"] == "family_id"
    assert mapping.reading.date_formats == ("%d/%m/%Y",)
    path.write_text('[column]\nfamily_id = "x"\n')
    with pytest.raises(MappingError, match=r"column: unknown key \(did you mean columns\?\)"):
        load_mapping(path)
    path.write_text('date_format = "%d/%m/%Y"\n')
    with pytest.raises(MappingError, match=r"date_format: unknown key \(did you mean date_formats\?\)"):
        load_mapping(path)
    path.write_text('[columns]\nfamily_id = "x"\nperson_id = " X"\n')  # headers are read without case
    with pytest.raises(MappingError, match="'x' given for two of our columns"):
        load_mapping(path)
