"""The rules of a likely duplicate (counter.domain.duplicates): each reason, and near misses."""

from __future__ import annotations

import pytest

from counter.domain.dates import BirthDate
from counter.domain.duplicates import (
    NAME_BIRTH,
    NIR,
    TYPO_BIRTH_PLACE,
    Identity,
    identity_of,
    join_reasons,
    reasons,
    split_reasons,
    words,
)
from counter.domain.family_records import SourcePerson
from counter.domain.identity_checks import PersonInput

NIR_A = "255081416802538"


def who(birth_name="LEFEBVRE", given="Alexis, Jean", born=(1982, 12, 27), usage=None, insee="45234",
        country="99100", nir=None) -> Identity:
    year, month, day = (tuple(born) + (None, None))[:3]
    return Identity(birth_name, given, year, month, day, usage, insee, country, nir)


def test_same_folded_names_and_birth_date():
    assert reasons(who(), who(birth_name="Lefèbvre", given="alexis")) == (NAME_BIRTH,)
    # Compound names fold whole: spaces, hyphens, apostrophes aside.
    assert reasons(who("DE LA FONTAINE", "Jean-Pierre"), who("Delafontaine", "Jean Pierre")) == (NAME_BIRTH,)
    # Birth name on one side, usage name on the other (a married name).
    assert reasons(who("MARTIN", "Sophie"), who("DUPONT", "Sophie", usage="Martin")) == (NAME_BIRTH,)


def test_partial_dates_match_only_the_same_partial_date():
    assert reasons(who(born=(1950,)), who(born=(1950,))) == (NAME_BIRTH,)
    assert reasons(who(born=(1950,)), who(born=(1950, 1, 1))) == ()
    assert reasons(who(born=(1987, 6)), who(born=(1987, 6, 12))) == ()


def test_same_nir():
    assert reasons(who(nir=NIR_A), who("AUTRE", "Nom", born=(1990, 1, 1), nir="2 55 08 14 168 025 38")) == (NIR,)
    assert reasons(who(nir=NIR_A), who(nir=NIR_A)) == (NIR, NAME_BIRTH)
    assert reasons(who(nir=None), who(nir=NIR_A)) == (NAME_BIRTH,)


def test_one_typo_with_the_same_birth_date_and_place():
    assert reasons(who("LEFEBVRE"), who("LEFBVRE")) == (TYPO_BIRTH_PLACE,)  # a letter missing
    assert reasons(who("LEFEBVRE"), who("LEFEBVTE")) == (TYPO_BIRTH_PLACE,)  # a letter changed
    assert reasons(who("LEFEBVRE"), who("LEFBEVRE")) == (TYPO_BIRTH_PLACE,)  # two neighbours swapped
    assert reasons(who(given="Alexis"), who(given="Alexsi")) == (TYPO_BIRTH_PLACE,)  # in the given name
    # Born abroad: the country is the place.
    assert reasons(who("NGUYEN", insee=None, country="99243"),
                   who("NGUYENN", insee=None, country="99243")) == (TYPO_BIRTH_PLACE,)


@pytest.mark.parametrize("known", [
    who(born=(1982, 12, 28)),  # same names, another day
    who(born=(1983, 12, 27)),  # another year
    who(given="Alexandre"),  # same surname and date, another first given name
    who(given="Jean, Alexis"),  # Alexis is not the first given name there
    who("LEFBVRE", insee="45235"),  # one typo, but born in another commune
    who("LEFBVRE", born=(1982, 12, 26)),  # one typo, another date
    who("LEFBVRE", insee=None),  # one typo, commune of birth unknown: no place to compare
    who("LEFBVRE", insee=None, country="99243"),  # one typo, born abroad
    who("LEFBRE"),  # two typos
    who("LEFBVRE", given="Alexsi"),  # a typo in each name
])
def test_near_misses_are_not_duplicates(known):
    assert reasons(who(), known) == ()


def test_short_names_are_not_typos():
    # Four letters: one wrong letter changes the name too much (as the search's near matches).
    assert reasons(who("ROUX", "Jade"), who("ROUS", "Jade")) == ()
    assert reasons(who("ROUX", "Jade"), who("ROUX", "Jada")) == ()


def test_identity_of_a_source_person_and_a_counter_form():
    source = SourcePerson(source_id="P1", role="parent", birth_name="Lefebvre", given_names=("Alexis", "Jean"),
                          sex="M", birth=BirthDate(1982, 12, 27), birth_insee_code="45234", nir=NIR_A)
    assert identity_of(source) == who("Lefebvre", "Alexis, Jean", nir=NIR_A)
    typed = PersonInput(birth_name="lefebvre", given_names="alexis jean", sex="M", birth_date="27/12/1982",
                        birth_insee_code="45234", role="parent")
    assert reasons(typed, source) == (NAME_BIRTH,)


def test_reasons_stored_and_worded():
    assert join_reasons([TYPO_BIRTH_PLACE, NIR]) == "nir,typo_birth_place"
    assert split_reasons("nir,typo_birth_place,unknown") == (NIR, TYPO_BIRTH_PLACE)
    assert words((NIR, NAME_BIRTH)) == "même NIR ; même nom et même date de naissance"
