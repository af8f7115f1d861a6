from datetime import date

import pytest

from counter.domain.query import (
    MSG_CAF_POSTCODE,
    MSG_NIR_KEY,
    MSG_NIR_SHAPE,
    MSG_TWO_DATES,
    CafFilter,
    DateFilter,
    parse_query,
    search_text,
)
from counter.domain.text import printable

TODAY = date(2026, 11, 25)


def parse(text):
    return parse_query(text, TODAY)


def test_names_in_any_order_folded():
    assert parse("Lef Alex").words == ("lef", "alex")
    assert parse("  GÉRÔME  ").words == ("gerome",)
    assert parse("n'diaye jean-ph").words == ("ndiaye", "jean", "ph")


@pytest.mark.parametrize("text, words", [
    ("jean-pierre", ("jean", "pierre")),
    ("Jean–Pierre", ("jean", "pierre")),  # an en dash, as a paste may give
    ("lefebvre-alexis", ("lefebvre", "alexis")),
    ("dupont-moreau dupont", ("dupont", "moreau")),
    ("-jean- -", ("jean",)),
    ("d'arc jeanne", ("darc", "jeanne")),  # an apostrophe joins
])
def test_a_hyphen_splits_words_like_a_space(text, words):
    assert parse(text).words == words


def test_a_hyphen_between_digits_is_still_a_date():
    assert parse("jean-pierre 27-12-1982").birth == DateFilter(1982, 12, 27)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("27/12/1982", DateFilter(1982, 12, 27)),
        ("27-12-1982", DateFilter(1982, 12, 27)),
        ("27.12.1982", DateFilter(1982, 12, 27)),
        ("27121982", DateFilter(1982, 12, 27)),
        ("7/1/2001", DateFilter(2001, 1, 7)),
        ("27/12/82", DateFilter(1982, 12, 27)),
        ("03/04/19", DateFilter(2019, 4, 3)),
        ("12/1982", DateFilter(1982, 12)),
        ("1982", DateFilter(1982)),
    ],
)
def test_birth_dates_filter(text, expected):
    parsed = parse(f"martin {text}")
    assert parsed.birth == expected
    assert parsed.words == ("martin",)


@pytest.mark.parametrize("text", ["31/02/1982", "12/13/1982", "13/1982", "01/01/2030"])
def test_impossible_dates_are_explained(text):
    parsed = parse(text)
    assert parsed.error and "Date invalide" in parsed.error and text in parsed.error


def test_one_date_only():
    assert parse("martin 1982 1983").error == MSG_TWO_DATES


def test_nir_with_spaces_finds_and_wrong_key_is_refused():
    assert parse("2 55 08 14 168 025 38").nir == "255081416802538"
    assert parse("2 55 08 14 168 025 39").error == MSG_NIR_KEY
    assert "clé NIR invalide" in MSG_NIR_KEY
    assert parse("1 84 12 2a 004 123").nir == "184122A004123"
    assert parse("25508141680253").error == MSG_NIR_SHAPE


def test_caf_number_with_postal_code():
    assert parse("1234567 45999").caf == CafFilter("1234567", "45999")
    assert parse("CAF 0012345 45999").caf == CafFilter("0012345", "45999")
    assert parse("caf 12345").error == MSG_CAF_POSTCODE


def test_empty_and_punctuation_only():
    assert parse("").is_empty
    assert parse("   ").is_empty
    assert parse("' -").is_empty


def test_oversized_queries_are_refused_with_a_message():
    from counter.domain.query import MSG_TOO_LONG, MSG_TOO_MANY_WORDS

    assert parse("a" * 10_000).error == MSG_TOO_LONG
    assert parse("a b c d e f g h i").error == MSG_TOO_MANY_WORDS
    assert parse("a b c d e f g h").words == tuple("abcdefgh")


@pytest.mark.parametrize("pasted", [
    "roux\tjeanne", "roux\njeanne", "roux\r\njeanne", "roux\u2028jeanne", "roux\u0085jeanne", "roux\xa0jeanne",
])
def test_a_pasted_tab_or_line_break_separates_words_like_a_space(pasted):
    # What the search box keeps of a paste (a spreadsheet's cells, two lines of
    # a letter): the spacing becomes spaces, never a '�' that joins the words.
    kept = search_text(pasted)
    assert printable(kept) == kept and "\ufffd" not in kept
    assert parse(kept).words == ("roux", "jeanne")


def test_the_search_box_keeps_other_controls_for_printable_to_mark():
    assert search_text("roux\x1b[2Jjeanne") == "roux\x1b[2Jjeanne"
    assert search_text("mar\u200btin") == "mar\u200btin"  # invisible, not spacing: the word stays whole
