"""What the agent typed in the search box, understood.

A query is names (any order, prefixes allowed; a hyphen separates words
like a space), optionally one birth date
(``27/12/1982``, ``12/1982``, ``1982``), or a NIR, or a CAF allocataire
number with its postal code. Problems come back as a French message for the
agent, never as an exception.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from counter.domain import nir as nirs
from counter.domain.names import query_words

_FULL_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})$")
_PACKED_DATE = re.compile(r"^(\d{2})(\d{2})(\d{4})$")
_MONTH_YEAR = re.compile(r"^(\d{1,2})[/.-](\d{4})$")
_YEAR = re.compile(r"^(\d{4})$")
# Digits between date separators that no pattern above reads ("27/12/99999", "1/1/1"):
# a mistyped date, not a name.
_DATE_LIKE = re.compile(r"^\d+(?:[/.-]\d+)+$")
_CAF = re.compile(r"^(?:caf\s*:?\s*)?(?:n[°o]?\s*)?(\d{1,7})\s+(\d{5})$", re.IGNORECASE)
_CAF_WITHOUT_POSTCODE = re.compile(r"^caf\s*:?\s*(?:n[°o]?\s*)?\d{1,7}$", re.IGNORECASE)
_LONG_DIGITS = re.compile(r"^[0-9]{1,7}(?:2A|2B)?[0-9]{2,}$")
# Longer than a CAF number or a packed date: meant as a NIR.
_NIR_MIN_DIGITS = 9

FIRST_BIRTH_YEAR = 1900
MAX_LENGTH = 200
MAX_WORDS = 8

MSG_NIR_KEY = "clé NIR invalide : vérifiez les deux derniers chiffres du numéro."
MSG_NIR_SHAPE = (
    "NIR mal formé : 15 caractères attendus "
    "(sexe, année, mois, département, commune, ordre, clé)."
)
MSG_CAF_POSTCODE = (
    "Numéro allocataire CAF : ajoutez le code postal de l'allocataire "
    "(exemple : 1234567 45999)."
)
MSG_TWO_DATES = "Une seule date de naissance à la fois."
MSG_TOO_LONG = f"Recherche trop longue : {MAX_LENGTH} caractères au plus."
MSG_TOO_MANY_WORDS = f"Trop de mots : {MAX_WORDS} au plus (nom, prénoms, date de naissance)."


@dataclass(frozen=True, slots=True)
class DateFilter:
    year: int
    month: int | None = None
    day: int | None = None


@dataclass(frozen=True, slots=True)
class CafFilter:
    number: str
    postal_code: str


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    text: str
    words: tuple[str, ...] = ()
    birth: DateFilter | None = None
    nir: str | None = None  # compact: 15 characters, or a 13-character body
    caf: CafFilter | None = None
    error: str | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.words or self.birth or self.nir or self.caf or self.error)


def _invalid_date(word: str) -> str:
    return f"Date invalide : « {word} » (attendu jj/mm/aaaa, mm/aaaa ou aaaa)."


def _year(text: str, today: date) -> int:
    year = int(text)
    if len(text) == 2:
        # 27/12/82 → 1982, 03/04/19 → 2019: a two-digit year is never in the future.
        year += 2000 if year <= today.year % 100 else 1900
    return year


def _parse_date(word: str, today: date) -> DateFilter | str | None:
    """A DateFilter, an error message, or None when the word is not a date."""
    for pattern in (_FULL_DATE, _PACKED_DATE):
        if m := pattern.match(word):
            day, month, year = int(m[1]), int(m[2]), _year(m[3], today)
            try:
                born = date(year, month, day)
            except ValueError:
                return _invalid_date(word)
            if born > today or year < FIRST_BIRTH_YEAR:
                return _invalid_date(word)
            return DateFilter(year, month, day)
    if m := _MONTH_YEAR.match(word):
        month, year = int(m[1]), int(m[2])
        if not 1 <= month <= 12 or not FIRST_BIRTH_YEAR <= year <= today.year:
            return _invalid_date(word)
        return DateFilter(year, month)
    if m := _YEAR.match(word):
        year = int(m[1])
        if FIRST_BIRTH_YEAR <= year <= today.year:
            return DateFilter(year)
    if _DATE_LIKE.match(word):
        return _invalid_date(word)
    return None


def search_text(text: str) -> str:
    """What the search box keeps of typed or pasted text: every spacing character
    (tab, line break, no-break space…) as a plain space.

    They separate words in :func:`parse_query`; the box would otherwise show a
    pasted tab as a '�' (``printable``), which joins ``roux<TAB>jeanne`` into one
    word. Other controls stay, for ``printable`` to mark.
    """
    if text.isprintable():  # no spacing but the plain space
        return text
    return "".join(" " if char.isspace() else char for char in text)


def parse_query(text: str, today: date) -> ParsedQuery:
    stripped = text.strip()
    if not stripped:
        return ParsedQuery(text)
    if len(stripped) > MAX_LENGTH:
        return ParsedQuery(text, error=MSG_TOO_LONG)

    compact = nirs.compact(stripped)
    if nirs.looks_like_nir(compact):
        check = nirs.check_nir(compact)
        if check is nirs.NirCheck.BAD_KEY:
            return ParsedQuery(text, error=MSG_NIR_KEY)
        return ParsedQuery(text, nir=compact)
    if m := _CAF.match(stripped):
        return ParsedQuery(text, caf=CafFilter(m[1], m[2]))
    if _CAF_WITHOUT_POSTCODE.match(stripped):
        return ParsedQuery(text, error=MSG_CAF_POSTCODE)
    if len(compact) >= _NIR_MIN_DIGITS and _LONG_DIGITS.match(compact):
        return ParsedQuery(text, error=MSG_NIR_SHAPE)

    words: list[str] = []
    birth: DateFilter | None = None
    for word in stripped.split():
        parsed = _parse_date(word, today)
        if isinstance(parsed, str):
            return ParsedQuery(text, error=parsed)
        if parsed is not None:
            if birth is not None:
                return ParsedQuery(text, error=MSG_TWO_DATES)
            birth = parsed
            continue
        for token in query_words(word):
            if token not in words:
                words.append(token)
    if len(words) > MAX_WORDS:
        return ParsedQuery(text, error=MSG_TOO_MANY_WORDS)
    return ParsedQuery(text, words=tuple(words), birth=birth)
