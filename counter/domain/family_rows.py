"""The rows of a families file (one person a row), read into :mod:`family_records`.

A row is a dict of our column names to the text found in the file; the values
vocabulary (roles, sexes, date formats) is the mapping's. Rows are grouped into
families by ``family_id`` elsewhere; here one row becomes one ``SourcePerson``
(with the address and CAF number the row gives), or the reasons it cannot.
No I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from counter.domain.dates import BirthDate
from counter.domain.family_checks import Reason
from counter.domain.family_records import SourceAddress, SourceFamily, SourcePerson
from counter.domain.identity_checks import FRANCE, split_typed_given_names

# Our default format: the columns, in the order the documentation lists them.
COLUMNS = ("family_id", "person_id", "role", "birth_name", "usage_name", "given_names", "sex", "birth_date",
           "birth_insee_code", "birth_country_code", "nir", "ban_id", "number", "suffix", "street", "complement",
           "postal_code", "city", "phone", "email", "caf_number")
REQUIRED = ("family_id", "person_id", "role", "birth_name", "given_names", "sex", "birth_date")
ADDRESS_COLUMNS = ("ban_id", "number", "suffix", "street", "complement", "postal_code", "city")
DEFAULT_DATE_FORMATS = ("%Y-%m-%d", "%Y-%m", "%Y")
DEFAULT_ROLES = {"parent": "parent", "child": "child", "other_guardian": "other_guardian"}
DEFAULT_SEXES = {"M": "M", "F": "F"}
ROLE_PRIORITY = {"parent": 0, "other_guardian": 1, "child": 2}
_DIRECTIVES = {"%d": r"(?P<d>\d{1,2})", "%m": r"(?P<m>\d{1,2})", "%Y": r"(?P<y>\d{4})"}
_NUMBER = re.compile(r"(\d{1,4})\s*([A-Za-z]+)?")


def check_date_format(fmt: str) -> str | None:
    """Why a date format cannot be used (English), or None: %Y with %m and %d, in any order."""
    directives = re.findall(r"%.", fmt)
    if any(d not in _DIRECTIVES for d in directives):
        return f"{fmt!r}: only %d, %m and %Y are understood"
    if directives.count("%Y") != 1 or len(set(directives)) != len(directives):
        return f"{fmt!r}: needs %Y once (and %m, %d at most once each)"
    if "%d" in directives and "%m" not in directives:
        return f"{fmt!r}: a day (%d) needs a month (%m)"
    return None


@lru_cache(maxsize=32)
def _date_pattern(fmt: str) -> re.Pattern:
    parts = re.split(r"(%[dmY])", fmt)
    return re.compile("".join(_DIRECTIVES.get(p) or re.escape(p) for p in parts))


def read_date(text: str, formats: tuple[str, ...]) -> tuple[BirthDate | None, Reason | None]:
    """A birth date in one of ``formats``; a day or month of 00 is unknown (civil status
    lacks it): ``00/06/1987`` is June 1987. Partial dates come from partial formats."""
    raw = text.strip()
    for fmt in formats:
        match = _date_pattern(fmt).fullmatch(raw)
        if match is None:
            continue
        parts = match.groupdict()
        year, month, day = int(parts["y"]), int(parts.get("m") or 0), int(parts.get("d") or 0)
        if month == 0:
            day = 0
        try:
            return BirthDate(year, month or None, day or None), None
        except ValueError:
            return None, Reason("birth_date", f"Cette date n'existe pas ({raw}).", f"birth date: no such date ({raw})")
    shown = " or ".join(formats)
    return None, Reason("birth_date", f"Date de naissance illisible ({raw}) : format attendu {shown}.",
                        f"birth date: unreadable ({raw}), expected {shown}")


def _value(table: dict[str, str], raw: str) -> str | None:
    """A value of the file in the mapping's table: exactly, else ignoring case and spaces."""
    value = table.get(raw)
    if value is None:
        folded = {k.strip().casefold(): v for k, v in table.items()}
        value = folded.get(raw.strip().casefold())
    return value


@dataclass(frozen=True)
class RowReading:
    """How to read the values of a file: the mapping's value tables and date formats."""

    date_formats: tuple[str, ...] = DEFAULT_DATE_FORMATS
    roles: tuple[tuple[str, str], ...] = tuple(DEFAULT_ROLES.items())
    sexes: tuple[tuple[str, str], ...] = tuple(DEFAULT_SEXES.items())


@dataclass(frozen=True, slots=True)
class PersonRow:
    """One row, read: the person, the address it gives (None: blank), its CAF number."""

    line: int
    family_id: str
    person: SourcePerson
    address: SourceAddress | None
    caf_number: str | None


def read_row(line: int, row: dict[str, str], reading: RowReading) -> tuple[PersonRow | None, list[Reason]]:
    """One row of the file as a person of a family, or the reasons it cannot be."""
    get = {c: " ".join((row.get(c) or "").split()) for c in COLUMNS}
    who = get["person_id"] or None
    reasons: list[Reason] = []
    role = _value(dict(reading.roles), get["role"]) if get["role"] else None
    if role is None:
        known = ", ".join(k for k, _ in reading.roles)
        reasons.append(Reason("role", f"Rôle inconnu « {get['role']} » (attendu : {known}).",
                              f"unknown role {get['role']!r} (expected: {known})", who))
    sex = _value(dict(reading.sexes), get["sex"]) if get["sex"] else None
    if sex is None:
        known = ", ".join(k for k, _ in reading.sexes)
        reasons.append(Reason("sex", f"Sexe inconnu « {get['sex']} » (attendu : {known}).",
                              f"unknown sex {get['sex']!r} (expected: {known})", who))
    birth, problem = (read_date(get["birth_date"], reading.date_formats) if get["birth_date"] else
                      (None, Reason("birth_date", "La date de naissance est obligatoire.", "birth date: required")))
    if problem:
        reasons.append(Reason(problem.field, problem.fr, problem.en, who))
    address, more = _address(get, who)
    reasons += more
    for name, fr, en in (("family_id", "L'identifiant de famille est obligatoire.", "family_id: required"),
                         ("person_id", "L'identifiant de personne est obligatoire.", "person_id: required"),
                         ("birth_name", "Le nom de naissance est obligatoire.", "birth name: required")):
        if not get[name]:
            reasons.append(Reason(name, fr, en, who))
    given = tuple(split_typed_given_names(get["given_names"]))
    if not given:
        reasons.append(Reason("given_names", "Au moins un prénom est obligatoire.",
                              "given names: at least one is required", who))
    if reasons:
        return None, reasons
    person = SourcePerson(
        source_id=get["person_id"], role=role, birth_name=get["birth_name"], given_names=given, sex=sex,
        birth=birth, usage_name=get["usage_name"] or None, birth_insee_code=get["birth_insee_code"] or None,
        birth_country_code=get["birth_country_code"] or FRANCE, nir=get["nir"] or None, phone=get["phone"] or None,
        email=get["email"] or None)
    return PersonRow(line, get["family_id"], person, address, get["caf_number"] or None), []


def _address(get: dict[str, str], who: str | None) -> tuple[SourceAddress | None, list[Reason]]:
    if not any(get[c] for c in ADDRESS_COLUMNS):
        return None, []
    number, suffix = None, get["suffix"] or None
    if get["number"]:
        match = _NUMBER.fullmatch(get["number"])
        if match is None:
            return None, [Reason("number", f"Numéro de rue illisible ({get['number']}).",
                                 f"street number: unreadable ({get['number']!r})", who)]
        number = int(match[1])
        suffix = suffix or (match[2] and match[2].lower())
    return SourceAddress(ban_id=get["ban_id"] or None, number=number, suffix=suffix, street=get["street"] or None,
                         complement=get["complement"] or None, postal_code=get["postal_code"],
                         city=get["city"]), []


def assemble(family_id: str, rows: list[PersonRow]) -> tuple[SourceFamily | None, list[Reason]]:
    """The family of its rows (file order): its address is the first adult's that gives
    one (else the first given); a member whose row gives another lives there."""
    cafs = {r.caf_number.lstrip("0") or "0" for r in rows if r.caf_number}
    if len(cafs) > 1:
        return None, [Reason("caf_number", "Plusieurs numéros allocataires CAF pour une même famille.",
                             "several CAF numbers in one family")]
    caf = next((r.caf_number for r in rows if r.caf_number), None)
    with_address = sorted((r for r in rows if r.address is not None), key=lambda r: ROLE_PRIORITY[r.person.role] > 1)
    home = with_address[0].address if with_address else None
    members = tuple(r.person if r.address is None or r.address == home else _living_at(r.person, r.address)
                    for r in rows)
    return SourceFamily(family_id, members, home, caf), []


def _living_at(person: SourcePerson, address: SourceAddress) -> SourcePerson:
    from dataclasses import replace

    return replace(person, address=address)
