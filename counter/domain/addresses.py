"""The town's addresses from the Base Adresse Nationale (BAN): pure rules.

Reading one row of the BAN's per-commune CSV export (columns by name), the
street key an address belongs to, and what an address field offers: the
numbers of a street, written "12 bis", filtered as the agent types.
The importer (counter.services.address_import) and the screens share them.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass

from counter.domain.text import has_controls

# Columns the importer needs; the export has more (x, y, lon, lat…), ignored.
BAN_REQUIRED = ("id", "numero", "rep", "nom_voie", "code_postal", "code_insee", "nom_commune")
LIEU_DIT_NUMBER = 99999  # the BAN's "numéro" of a lieu-dit without numbers
MAX_NAME, MAX_CITY, MAX_SUFFIX = 120, 80, 10
MAX_BAN_ID, MAX_STREET_KEY = 60, 40
# Suffixes in the order a street lists them; others (a, b, c…) after, alphabetically.
SUFFIX_ORDER = ("bis", "ter", "quater", "quinquies")

# <insee>_<voie>_<numéro>[_<rep>]: the voie code is 4 characters, letters since 2020.
_BAN_ID = re.compile(r"((?:\d{2}|2[AB])\d{3})_([0-9a-z]{4})_(\d{5})(?:_([0-9a-z]{1,10}))?", re.IGNORECASE)
_POSTAL_CODE = re.compile(r"\d{5}")
_INSEE = re.compile(r"(?:\d{2}|2[AB])\d{3}")
_SUFFIX = re.compile(r"[a-z0-9]{1,10}")


@dataclass(frozen=True, slots=True)
class BanAddress:
    """One address of the export, checked (slots, and the strings a street's addresses
    share interned: a large commune has hundreds of thousands)."""

    line: int
    ban_id: str
    street_key: str  # <insee>_<voie>, kept by the BAN when a street is renamed
    street_name: str
    number: int | None  # None: a lieu-dit without numbers
    suffix: str | None
    postal_code: str
    insee_code: str
    city: str

    @property
    def lieu_dit(self) -> bool:
        return self.number is None


@dataclass(frozen=True)
class TownNumber:
    """An address a street offers (crosses the socket): the BAN id and how it reads."""

    ban_id: str
    number: int | None
    suffix: str | None

    @property
    def label(self) -> str:
        return number_label(self.number, self.suffix)


def number_label(number: int | None, suffix: str | None) -> str:
    """ "12", "12 bis", "3 a"; a lieu-dit without numbers is "sans numéro"."""
    if number is None:
        return "sans numéro"
    return f"{number} {suffix}" if suffix else str(number)


def _spaces(text: str) -> str:
    return " ".join(text.split())


def read_ban_row(line: int, row: dict[str, str]) -> tuple[BanAddress | None, list[str]]:
    """One data row (already split by column name) → the address, or the problems
    (English, for administrators; values quoted with repr, never raw)."""
    problems: list[str] = []
    raw_id = row["id"].strip()
    matched = _BAN_ID.fullmatch(raw_id)
    if not matched or len(raw_id) > MAX_BAN_ID:
        problems.append(f"id: {raw_id[:80]!r} is not a BAN address id (e.g. 45999_0150_00012_bis)")
    insee = row["code_insee"].strip().upper()
    if not _INSEE.fullmatch(insee):
        problems.append(f"code_insee: {insee[:40]!r} is not an INSEE commune code")
    elif matched and matched.group(1).upper() != insee:
        problems.append(f"id: {raw_id!r} is not an address of commune {insee}")
    postal_code = row["code_postal"].strip()
    if not _POSTAL_CODE.fullmatch(postal_code):
        problems.append(f"code_postal: {postal_code[:40]!r} is not 5 digits")
    number_text = row["numero"].strip()
    number: int | None = None
    if number_text and not (number_text.isdecimal() and number_text.isascii()):
        problems.append(f"numero: {number_text[:40]!r} is not a number")
    elif number_text and int(number_text) != LIEU_DIT_NUMBER:
        number = int(number_text)
    suffix = row["rep"].strip().lower() or None
    if suffix is not None and not _SUFFIX.fullmatch(suffix):
        problems.append(f"rep: {suffix[:40]!r} is not a suffix (bis, ter, a, b…)")
    if suffix is not None and number is None:
        problems.append("rep: a suffix without a number")
    # A lieu-dit may be named in nom_ld only.
    name = _spaces(row["nom_voie"]) or (_spaces(row.get("nom_ld", "")) if number is None else "")
    city = _spaces(row["nom_commune"])
    for value, column, limit in ((name, "nom_voie", MAX_NAME), (city, "nom_commune", MAX_CITY)):
        if not value:
            problems.append(f"{column}: empty")
        elif len(value) > limit:
            problems.append(f"{column}: longer than {limit} characters")
        elif has_controls(value):
            problems.append(f"{column}: holds a control or invisible character")
    if problems:
        return None, problems
    shared = sys.intern
    return BanAddress(line=line, ban_id=raw_id, street_key=shared(f"{insee}_{matched.group(2)}"),
                      street_name=shared(name), number=number, suffix=suffix and shared(suffix),
                      postal_code=shared(postal_code), insee_code=shared(insee), city=shared(city)), []


def suffix_rank(suffix: str | None) -> tuple[int, str]:
    if not suffix:
        return (0, "")
    if suffix in SUFFIX_ORDER:
        return (1 + SUFFIX_ORDER.index(suffix), "")
    return (len(SUFFIX_ORDER) + 1, suffix)


def ordered(numbers: Iterable[TownNumber]) -> list[TownNumber]:
    """A street's addresses as the list shows them: the lieu-dit first, then by number, 12 before 12 bis."""
    return sorted(numbers, key=lambda n: (n.number is not None, n.number or 0, suffix_rank(n.suffix), n.ban_id))


def match_numbers(numbers: list[TownNumber], typed: str) -> list[TownNumber]:
    """The addresses whose label starts like what is typed ("12" → 12, 12 bis, 120…;
    "12b" or "12 bis" → 12 bis); nothing typed: all of them."""
    wanted = "".join(typed.lower().split())
    if not wanted:
        return list(numbers)
    return [n for n in numbers if "".join(n.label.split()).startswith(wanted)]


def exact_number(numbers: list[TownNumber], number: int | None, suffix: str | None) -> TownNumber | None:
    """The address of a typed number and suffix, if the street has it."""
    suffix = (suffix or "").strip().lower() or None
    return next((n for n in numbers if n.number == number and n.suffix == suffix), None)


_STREET_LINE = re.compile(r"\s*(\d{1,5})(?:\s*(bis|ter|quater|quinquies|[a-z])\b)?[\s,]+(\S.*)", re.IGNORECASE)


def split_street_line(line: str) -> tuple[int, str | None, str] | None:
    """ "12 BIS RUE DES LILAS" (as an agency writes an address) → (12, "bis", "RUE DES LILAS");
    None without a leading number."""
    matched = _STREET_LINE.fullmatch(line or "")
    if not matched:
        return None
    suffix = matched.group(2).lower() if matched.group(2) else None
    return int(matched.group(1)), suffix, matched.group(3).strip()
