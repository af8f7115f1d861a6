"""What makes two person records likely the same person: the rules, pure.

Three reasons, each enough on its own:

- ``nir``: both records carry the same NIR;
- ``name_birth``: the same surname (birth name or usage name, on either side) and
  the same first given name, once folded (case, accents, ligatures, hyphens,
  spaces and apostrophes aside), and the same birth date;
- ``typo_birth_place``: the same birth date and the same birthplace, and names
  one typo apart (one letter changed, added, removed, or two neighbours swapped,
  in the surname or the first given name, as the search's near matches: words
  of 5 letters or more).

A birth date is the same when what civil status knows of it is the same: a
record with the year only never matches one with a full date. A birthplace is
the same commune (INSEE code) for a birth in France, the same country abroad; a
birth in France whose commune is unknown has no birthplace to compare.

Likely, not certain: the counter shows the candidates to the agent, imports and
syncs put them in a review list; nothing is ever merged without a person.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from counter.domain.names import name_parts, split_given_names
from counter.domain.typos import MIN_TYPO_LENGTH, within_one_edit

NIR = "nir"
NAME_BIRTH = "name_birth"
TYPO_BIRTH_PLACE = "typo_birth_place"
# Two records the family system merged into one (the change feed), which the counter
# could not merge itself: both have visits or registrations (counter.services.family_sync).
MERGED_BY_SOURCE = "merged_by_source"
REASONS = (NIR, NAME_BIRTH, TYPO_BIRTH_PLACE, MERGED_BY_SOURCE)  # the order they are listed in

# French, for the agent at the counter.
REASON_LABELS = {
    NIR: "même NIR",
    NAME_BIRTH: "même nom et même date de naissance",
    TYPO_BIRTH_PLACE: "nom proche, même date et même lieu de naissance",
    MERGED_BY_SOURCE: "fiches fusionnées par le système famille",
}
# English, for the administrators' commands.
REASON_ENGLISH = {
    NIR: "same NIR",
    NAME_BIRTH: "same name and birth date",
    TYPO_BIRTH_PLACE: "name one typo apart, same birth date and place",
    MERGED_BY_SOURCE: "records merged in the family system",
}

FRANCE = "99100"


@dataclass(frozen=True, slots=True)
class Candidate:
    """A person already known who may be the same as a new one, and why."""

    person_id: int
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Identity:
    """What the rules compare; ``given_names`` comma-separated, civil-status order."""

    birth_name: str
    given_names: str
    birth_year: int
    birth_month: int | None = None
    birth_day: int | None = None
    usage_name: str | None = None
    birth_insee_code: str | None = None
    birth_country_code: str | None = FRANCE
    nir: str | None = None

    @property
    def birth(self) -> tuple[int, int | None, int | None]:
        return (self.birth_year, self.birth_month, self.birth_day)


def identity_of(person) -> Identity:
    """An ``Identity`` from anything person-like: a person row, an import's or the
    feed's ``SourcePerson`` (``birth``: a BirthDate, ``given_names`` a tuple), a
    checked ``PersonInput`` of the counter's form, or an ``Identity``."""
    if isinstance(person, Identity):
        return person
    year = getattr(person, "birth_year", None)
    if year is not None:  # a person row (the most common: read first, without probing)
        given = person.given_names
        return Identity(person.birth_name, given if isinstance(given, str) else ", ".join(given), year,
                        person.birth_month, person.birth_day, person.usage_name or None,
                        person.birth_insee_code or None, person.birth_country_code or FRANCE, person.nir or None)
    if hasattr(person, "to_person_fields"):  # the counter's form, already checked
        fields = person.to_person_fields()
        return Identity(fields["birth_name"], fields["given_names"], fields["birth_year"], fields["birth_month"],
                        fields["birth_day"], fields["usage_name"], fields["birth_insee_code"],
                        fields["birth_country_code"], getattr(person, "nir", None) or None)
    birth = getattr(person, "birth", None)
    if birth is not None:
        year, month, day = birth.year, birth.month, birth.day
    else:
        year, month, day = person.birth_year, person.birth_month, person.birth_day
    given = person.given_names
    if not isinstance(given, str):
        given = ", ".join(given)
    return Identity(person.birth_name, given, year, month, day, getattr(person, "usage_name", None) or None,
                    getattr(person, "birth_insee_code", None) or None,
                    getattr(person, "birth_country_code", None) or FRANCE, getattr(person, "nir", None) or None)


def folded(name: str | None) -> str:
    """One name as the rules compare it: ``"De La Fontaine"`` → ``"delafontaine"``."""
    return "".join(name_parts(name or ""))


def surnames(identity: Identity) -> set[str]:
    """The folded surnames a person goes by: birth name and usage name."""
    return {s for s in (folded(identity.birth_name), folded(identity.usage_name)) if s}


def first_given_name(identity: Identity) -> str:
    given = split_given_names(identity.given_names)
    return folded(given[0]) if given else ""


def birthplace(identity: Identity) -> tuple[str, str] | None:
    """(country, commune) when known enough to compare, else None."""
    country = (identity.birth_country_code or FRANCE).strip().upper()
    commune = (identity.birth_insee_code or "").strip().upper()
    if country == FRANCE:
        return (country, commune) if commune else None
    return (country, "")


def same_nir(a: Identity, b: Identity) -> bool:
    return bool(a.nir) and bool(b.nir) and _nir(a.nir) == _nir(b.nir)


def _nir(value: str) -> str:
    return "".join(value.split()).upper()


def same_name_and_birth(a: Identity, b: Identity) -> bool:
    if a.birth != b.birth:
        return False
    given = first_given_name(a)
    return bool(given) and given == first_given_name(b) and bool(surnames(a) & surnames(b))


def _one_typo(x: str, y: str) -> bool:
    """One edit apart (not equal), in a word long enough for a typo to be a safe guess."""
    return x != y and min(len(x), len(y)) >= MIN_TYPO_LENGTH - 1 and max(len(x), len(y)) >= MIN_TYPO_LENGTH \
        and within_one_edit(x, y)


def one_typo_apart(a: Identity, b: Identity) -> bool:
    """The names differ by exactly one typo: in a surname (the first given names
    equal) or in the first given name (a surname shared)."""
    given_a, given_b = first_given_name(a), first_given_name(b)
    if not given_a or not given_b:
        return False
    names_a, names_b = surnames(a), surnames(b)
    if given_a == given_b:
        return not (names_a & names_b) and any(_one_typo(x, y) for x in names_a for y in names_b)
    return bool(names_a & names_b) and _one_typo(given_a, given_b)


def same_birth_and_place_with_typo(a: Identity, b: Identity) -> bool:
    if a.birth != b.birth:
        return False
    place = birthplace(a)
    return place is not None and place == birthplace(b) and one_typo_apart(a, b)


def reasons(new, known) -> tuple[str, ...]:
    """Why ``known`` may be the same person as ``new`` (in ``REASONS`` order); () if not."""
    a, b = identity_of(new), identity_of(known)
    found = []
    if same_nir(a, b):
        found.append(NIR)
    if same_name_and_birth(a, b):
        found.append(NAME_BIRTH)
    elif same_birth_and_place_with_typo(a, b):
        found.append(TYPO_BIRTH_PLACE)
    return tuple(found)


def join_reasons(found: Iterable[str]) -> str:
    """As stored in ``duplicate_review.reasons``: comma-separated, in ``REASONS`` order."""
    wanted = set(found)
    return ",".join(r for r in REASONS if r in wanted)


def split_reasons(stored: str) -> tuple[str, ...]:
    return tuple(r for r in (stored or "").split(",") if r in REASONS)


def words(found: Iterable[str], labels: dict[str, str] = REASON_LABELS) -> str:
    """The reasons in words (French by default), joined with « ; »."""
    return " ; ".join(labels[r] for r in found if r in labels)
