"""A new family's identity data and address, checked before anything is written.

The agencies key their records on birth name, given names, sex, birth date and
birthplace, so these are checked at the counter, field by field, with French
messages. Everything is typed text here; ``to_person_fields()`` turns a checked
input into the columns of a person row. No I/O.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from counter.domain.dates import BirthDate, parse_french_date
from counter.domain.names import fold, join_given_names, name_parts
from counter.domain.text import has_controls
from counter.domain.visits import FieldError

ROLES = ("parent", "child", "other_guardian")
ADULT_ROLES = ("parent", "other_guardian")
FRANCE = "99100"  # COG code of France among the countries
SEXES = ("F", "M")
SUFFIXES = ("bis", "ter", "quater")
MIN_PARENT_AGE = 14
MAX_CHILD_AGE = 30
MAX_AGE = 120
MAX_STREET_NUMBER = 9999
MIN_YEAR = 1000  # four digits
CORSICA_SPLIT_YEAR = 1976  # départements 2A and 2B replaced 20 on 1 January 1976

_COMMUNE = re.compile(r"(?:\d{2}|2A|2B)\d{3}")
_COUNTRY = re.compile(r"99\d{3}")
# Name characters besides letters: the separators civil status uses.
_NAME_SEPARATORS = frozenset(" -'’")
# Unknown day or month as written on foreign papers: 00, XX or --.
_UNKNOWN = r"(?:00|0|xx|x|--|-)"
_FULL = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})|(\d{2})(\d{2})(\d{4})")
_MONTH_YEAR = re.compile(rf"(?:{_UNKNOWN}[/.])?(\d{{1,2}})[/.\-](\d{{4}})")
_YEAR = re.compile(rf"(?:{_UNKNOWN}[/.]{_UNKNOWN}[/.])?(\d{{4}})")

MSG_DATE_SHAPE = "Date invalide : jj/mm/aaaa (ou mm/aaaa, aaaa si l'état civil ne donne pas le jour ou le mois)."


@dataclass(frozen=True, kw_only=True)
class PersonInput:
    """One member as typed at the counter (plain text, saved as is in drafts)."""

    birth_name: str = ""
    usage_name: str = ""
    given_names: str = ""  # comma- or space-separated, civil-status order
    sex: str = ""  # M | F
    birth_date: str = ""  # jj/mm/aaaa, mm/aaaa or aaaa
    birth_insee_code: str = ""  # commune of birth in France (COG), e.g. 45234, 2A004
    birth_country_code: str = FRANCE  # country of birth (COG), 99100 = France
    role: str = ""  # parent | child | other_guardian
    # Born in France, commune not known yet (an agency gave the child without
    # it): recorded as France without a commune, for the agent to complete.
    birthplace_to_complete: bool = False

    def to_person_fields(self) -> dict:
        """The person row's columns; only for an input ``check_person`` accepted."""
        birth = read_birth_date(self.birth_date)[0]
        if birth is None:
            raise ValueError("unchecked person input")
        country = _code(self.birth_country_code) or FRANCE
        return {
            "birth_name": _surname(self.birth_name),
            "usage_name": _surname(self.usage_name) or None,
            "given_names": join_given_names(split_typed_given_names(self.given_names)),
            "sex": self.sex.strip().upper(),
            "birth_year": birth.year,
            "birth_month": birth.month,
            "birth_day": birth.day,
            "birth_insee_code": (_code(self.birth_insee_code) or None) if country == FRANCE else None,
            "birth_country_code": country,
        }

    def identity_key(self) -> tuple:
        """Same names and birth date: the same person (accents and case aside)."""
        fields = self.to_person_fields()
        return (fold(fields["birth_name"]), fold(fields["given_names"]),
                fields["birth_year"], fields["birth_month"], fields["birth_day"])


def split_typed_given_names(text: str) -> list[str]:
    """``"jean-pierre marie"`` → ``["Jean-Pierre", "Marie"]``; commas, when typed, separate
    given names that contain spaces (``"Marie Claire, Anne"``)."""
    text = " ".join(text.split())
    parts = text.split(",") if "," in text else text.split(" ")
    return [_given_name_case(p.strip()) for p in parts if p.strip()]


def _given_name_case(name: str) -> str:
    # Typed all in capitals or all in lower case: capitalise each part; else kept as typed.
    if name != name.upper() and name != name.lower():
        return name
    return re.sub(r"[^\W\d_]+", lambda m: m[0][:1].upper() + m[0][1:].lower(), name)


def _surname(text: str) -> str:
    # Surnames in capitals, as in the town's records and on civil-status papers.
    return " ".join(text.split()).upper()


def _code(text: str) -> str:
    return re.sub(r"\s", "", text or "").upper()


def _name_error(text: str, what: str) -> str | None:
    """Why a name cannot be a civil-status name, or None."""
    if has_controls(text):
        return f"{what} : caractère invisible ou de contrôle non autorisé."
    if any(c.isdigit() for c in text):
        return f"{what} : les chiffres ne sont pas admis."
    for char in text:
        if not (char.isalpha() or char in _NAME_SEPARATORS or unicodedata.combining(char)):
            return f"{what} : caractère non admis « {char} » (lettres, espace, trait d'union, apostrophe)."
    if not name_parts(text):
        return f"{what} : au moins une lettre."
    return None


def _too_long(text: str, limit: int) -> str | None:
    return f"{limit} caractères au plus." if len(" ".join(text.split())) > limit else None


def read_birth_date(text: str) -> tuple[BirthDate | None, str | None]:
    """A typed birth date: (the date, None), or (None, French message).

    ``27/12/1982``, ``27121982``; ``06/1987`` or ``--/06/1987``; ``1950`` or
    ``00/00/1950``: what civil status knows, nothing invented.
    """
    raw = (text or "").strip().lower()
    if not raw:
        return None, "La date de naissance est obligatoire."
    try:
        birth, message = _read_birth_date(raw)
    except ValueError:  # BirthDate refuses year 0
        birth, message = None, f"Année de naissance invalide ({raw})."
    if birth is not None and birth.year < MIN_YEAR:  # "0100": not a birth year either
        return None, f"Année de naissance invalide ({raw})."
    return birth, message


def _read_birth_date(raw: str) -> tuple[BirthDate | None, str | None]:
    if full := _FULL.fullmatch(raw):
        day, month, year = (int(g) for g in (full.groups()[:3] if full[1] else full.groups()[3:]))
        if parse_french_date(raw) is not None:
            return BirthDate(year, month, day), None
        if day == 0 and 1 <= month <= 12:
            return BirthDate(year, month), None  # 00/06/1987: day unknown
        if day == 0 and month == 0:
            return BirthDate(year), None
        return None, f"Cette date n'existe pas ({raw})."
    if my := _MONTH_YEAR.fullmatch(raw):
        month, year = int(my[1]), int(my[2])
        if month == 0:
            return BirthDate(year), None
        if not 1 <= month <= 12:
            return None, f"Ce mois n'existe pas ({raw})."
        return BirthDate(year, month), None
    if y := _YEAR.fullmatch(raw):
        return BirthDate(int(y[1])), None
    return None, MSG_DATE_SHAPE


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def check_person(p: PersonInput, today: date) -> list[FieldError]:
    """Every problem of one member, each at its field, in French."""
    errors: list[FieldError] = []

    def error(field: str, message: str) -> None:
        errors.append(FieldError(field, message))

    if p.role not in ROLES:
        error("role", "Choisissez le rôle dans le foyer (parent, enfant, autre responsable).")
    if not p.birth_name.strip():
        error("birth_name", "Le nom de naissance est obligatoire.")
    elif message := _name_error(p.birth_name, "Nom de naissance") or _too_long(p.birth_name, 120):
        error("birth_name", message)
    if p.usage_name.strip() and (message := _name_error(p.usage_name, "Nom d'usage") or _too_long(p.usage_name, 120)):
        error("usage_name", message)
    if has_controls(p.given_names):
        error("given_names", "Prénoms : caractère invisible ou de contrôle non autorisé.")
    elif not (given := split_typed_given_names(p.given_names)):
        error("given_names", "Au moins un prénom est obligatoire.")
    elif message := next((m for g in given if (m := _name_error(g, "Prénoms"))), None) or _too_long(
            join_given_names(given), 200):
        error("given_names", message)
    if p.sex.strip().upper() not in SEXES:
        error("sex", "Choisissez le sexe à l'état civil (F ou M).")

    birth, message = read_birth_date(p.birth_date)
    if message:
        error("birth_date", message)
    elif birth.earliest() > today:
        error("birth_date", "La date de naissance est dans le futur.")
    elif _age(birth.latest(), today) > MAX_AGE:
        error("birth_date", f"Date de naissance improbable (plus de {MAX_AGE} ans).")
    elif p.role in ADULT_ROLES and _age(birth.earliest(), today) < MIN_PARENT_AGE:
        error("birth_date", f"Un parent ou responsable a au moins {MIN_PARENT_AGE} ans : "
                            "vérifiez la date de naissance ou le rôle.")
    elif p.role == "child" and _age(birth.latest(), today) > MAX_CHILD_AGE:
        error("birth_date", f"Un enfant du foyer a au plus {MAX_CHILD_AGE} ans : "
                            "vérifiez la date de naissance ou le rôle.")

    errors.extend(_check_birthplace(p, birth))
    return errors


def _check_birthplace(p: PersonInput, birth: BirthDate | None) -> list[FieldError]:
    country = _code(p.birth_country_code) or FRANCE
    commune = _code(p.birth_insee_code)
    if not _COUNTRY.fullmatch(country):
        return [FieldError("birth_country_code", "Code pays : 5 chiffres commençant par 99 (99100 = France).")]
    if country != FRANCE:
        if commune:
            return [FieldError("birth_insee_code", "Né(e) à l'étranger : laissez la commune vide, le pays suffit.")]
        return []
    if not commune:
        if p.birthplace_to_complete:
            return []
        return [FieldError("birth_insee_code", "Né(e) en France : le code INSEE de la commune est obligatoire "
                                               "(ou un code pays pour une naissance à l'étranger).")]
    if commune.startswith("99"):
        return [FieldError("birth_insee_code", "99… est un code pays : mettez-le dans « Pays de naissance ».")]
    if not _COMMUNE.fullmatch(commune) or commune.startswith("00"):
        return [FieldError("birth_insee_code", "Code INSEE de commune : 5 caractères, chiffres ou 2A/2B "
                                               "pour la Corse (ex. : 45234, 2A004).")]
    if birth is not None and commune[:2] in ("2A", "2B") and birth.year < CORSICA_SPLIT_YEAR:
        return [FieldError("birth_insee_code", "Né(e) en Corse avant 1976 : le code commence par 20.")]
    if birth is not None and commune.startswith("20") and birth.year >= CORSICA_SPLIT_YEAR:
        return [FieldError("birth_insee_code", "Né(e) en Corse depuis 1976 : le code commence par 2A ou 2B.")]
    return []


def check_family(members: list[PersonInput], today: date) -> list[FieldError]:
    """Rules across members (each member's own fields: ``check_person``)."""
    errors: list[FieldError] = []
    if not any(m.role in ADULT_ROLES for m in members):
        errors.append(FieldError("members", "Le foyer doit compter au moins un parent ou un autre responsable."))
    seen: dict[tuple, int] = {}
    for index, member in enumerate(members):
        if check_person(member, today):
            continue  # its own errors say what is wrong
        key = member.identity_key()
        if key in seen:
            errors.append(FieldError("members", f"Les membres n° {seen[key] + 1} et n° {index + 1} sont la même "
                                                "personne (mêmes noms, prénoms et date de naissance)."))
        else:
            seen[key] = index
    return errors


def check_new_member(p: PersonInput, others: list[PersonInput], today: date) -> list[FieldError]:
    """One member as the form saves it: its own fields, and not someone already listed."""
    errors = check_person(p, today)
    if not errors and any(not check_person(o, today) and o.identity_key() == p.identity_key() for o in others):
        errors.append(FieldError("members", "Cette personne est déjà dans la liste des membres "
                                            "(mêmes noms, prénoms et date de naissance)."))
    return errors


# -- the address ---------------------------------------------------------------------------


# Streets the town does not number: their name starts with one of these.
UNNUMBERED_STREETS = ("lieu-dit", "lieu dit", "hameau", "domaine", "ferme")


def numbered_street(name: str) -> bool:
    """A street whose addresses carry a number: every one but lieux-dits and hamlets."""
    return not " ".join(name.lower().split()).startswith(UNNUMBERED_STREETS)


def street_number(text: str) -> tuple[int | None, FieldError | None]:
    """A typed street number: blank is none (required or not: ``check_address``)."""
    raw = (text or "").strip()
    if not raw:
        return None, None
    # isdecimal, not isdigit: "²" is a digit that int() refuses.
    if raw.isdecimal() and 1 <= int(raw) <= MAX_STREET_NUMBER:
        return int(raw), None
    return None, FieldError("number", f"Numéro : un nombre de 1 à {MAX_STREET_NUMBER} (bis, ter : à côté).")


def _free_text_error(text: str | None, field: str, what: str, limit: int) -> FieldError | None:
    if text and has_controls(text):
        return FieldError(field, f"{what} : caractère invisible ou de contrôle non autorisé.")
    if text and len(text) > limit:
        return FieldError(field, f"{what} : {limit} caractères au plus.")
    return None


def check_address(street_id: int | None, number: int | None, suffix: str | None,
                  complement: str | None, street_name: str | None = None, *,
                  from_list: bool = False) -> list[FieldError]:
    """An address in the town: a street of its list, a number, bis/ter, a complement.

    ``street_name`` (the chosen street's): its addresses need a number unless
    it is a lieu-dit or a hamlet (``numbered_street``). ``from_list``: the number
    and suffix were picked from the town's addresses (the BAN's, which has
    lieux-dits without numbers and suffixes such as a, b): only the rest is checked.
    """
    errors = []
    if street_id is None:
        errors.append(FieldError("street", "Choisissez la rue dans la liste (tapez une partie de son nom)."))
    if from_list:
        number, suffix = None, None
    elif number is None and street_id is not None and numbered_street(street_name or ""):
        errors.append(FieldError("number", "Le numéro est obligatoire dans cette rue (bis, ter : à côté)."))
    if number is not None and not 1 <= number <= MAX_STREET_NUMBER:
        errors.append(FieldError("number", f"Numéro : un nombre de 1 à {MAX_STREET_NUMBER}."))
    if suffix and suffix.strip().lower() not in SUFFIXES:
        errors.append(FieldError("suffix", "Indice : bis, ter ou quater."))
    if suffix and number is None:
        errors.append(FieldError("suffix", "Un indice (bis, ter) suit un numéro."))
    if error := _free_text_error(complement, "complement", "Complément", 120):
        errors.append(error)
    return errors


def check_other_address(line: str | None, postal_code: str | None, city: str | None,
                        complement: str | None) -> list[FieldError]:
    """An address outside the town's street list (as an agency gives it)."""
    errors = []
    for value, field, what, limit in ((line, "line", "Adresse", 160), (postal_code, "postal_code", "Code postal", 10),
                                      (city, "city", "Commune", 80)):
        if not (value or "").strip():
            errors.append(FieldError(field, f"{what} : obligatoire."))
        elif error := _free_text_error(value, field, what, limit):
            errors.append(error)
    if error := _free_text_error(complement, "complement", "Complément", 120):
        errors.append(error)
    return errors


def match_streets(streets: list[tuple[int, str]], text: str) -> list[tuple[int, str]]:
    """The streets whose name holds every typed word; streets where a word starts
    a part of the name (``lil`` → rue des Lilas) come first, list order kept."""
    words = name_parts(text)
    if not words:
        return list(streets)
    starts, inside = [], []
    for street in streets:
        parts = name_parts(street[1])
        joined = " ".join(parts)
        if not all(w in joined for w in words):
            continue
        (starts if all(any(p.startswith(w) for p in parts) for w in words) else inside).append(street)
    return starts + inside
