"""A family from the town's family system, checked before it is written: the
counter's own rules for a new family (``identity_checks``) plus what only an
import or a feed brings (identifiers, NIR, contacts, CAF number).

Every problem is a :class:`Reason` at a field, in French (the agents' language,
as the counter's forms say it) and in English (the administrators'). No I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from counter.domain import nir as nirs
from counter.domain.family_records import SourceFamily, SourcePerson
from counter.domain.identity_checks import ADULT_ROLES, PersonInput, check_person
from counter.domain.text import has_controls

MAX_SOURCE_ID = 40  # person.source_id, household.source_id
MAX_PHONE = 30
MAX_EMAIL = 254
_CAF = re.compile(r"\d{1,7}")
_PHONE = re.compile(r"\+?[\d .()\-/]{6,}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a family is refused: the field (our column name), French, English; the
    member's source id when it is about one member, None for the family."""

    field: str
    fr: str
    en: str
    person: str | None = None


def person_input(p: SourcePerson) -> PersonInput:
    """The counter form's view of a source person, for ``check_person``."""
    b = p.birth
    if b.day is not None:
        birth = f"{b.day:02d}/{b.month:02d}/{b.year:04d}"
    elif b.month is not None:
        birth = f"{b.month:02d}/{b.year:04d}"
    else:
        birth = f"{b.year:04d}"
    return PersonInput(birth_name=p.birth_name, usage_name=p.usage_name or "", given_names=", ".join(p.given_names),
                       sex=p.sex, birth_date=birth, birth_insee_code=p.birth_insee_code or "",
                       birth_country_code=p.birth_country_code or "", role=p.role,
                       # The family system often lacks the commune: kept for an agent to complete.
                       birthplace_to_complete=True)


def check_source_family(family: SourceFamily, today: date) -> list[Reason]:
    """Every problem of one family (its members, its identifiers, its numbers)."""
    reasons: list[Reason] = []
    reasons += _check_id(family.source_id, "family_id", None)
    if not family.members:
        reasons.append(Reason("family_id", "La famille n'a aucun membre.", "the family has no member"))
        return reasons
    if family.caf_number is not None and not _CAF.fullmatch(family.caf_number.strip()):
        reasons.append(Reason("caf_number", "Numéro allocataire CAF : 1 à 7 chiffres.",
                              "CAF number: 1 to 7 digits"))
    seen: dict[str, int] = {}
    nirs_seen: dict[str, int] = {}
    identities: dict[tuple, int] = {}
    inputs = [person_input(m) for m in family.members]
    for index, (member, typed) in enumerate(zip(family.members, inputs, strict=True), start=1):
        who = member.source_id
        reasons += _check_id(member.source_id, "person_id", who)
        if who in seen:
            reasons.append(Reason("person_id", f"La personne {who} figure deux fois dans la famille.",
                                  f"person {who} appears twice in the family", who))
        seen.setdefault(who, index)
        errors = check_person(typed, today)
        for error in errors:
            reasons.append(Reason(error.field, error.message, english(error.message, error.field), who))
        if not errors:  # the rule of check_family, without checking each member again
            key = typed.identity_key()
            if key in identities:
                fr = (f"Les membres n° {identities[key]} et n° {index} sont la même personne "
                      "(mêmes noms, prénoms et date de naissance).")
                reasons.append(Reason("members", fr, english(fr, "members"), who))
            identities.setdefault(key, index)
        reasons += _check_nir(member, who)
        if member.nir:
            nir = nirs.compact(member.nir)
            if nir in nirs_seen:
                reasons.append(Reason("nir", f"Même NIR que le membre n° {nirs_seen[nir]}.",
                                      f"same NIR as member no. {nirs_seen[nir]}", who))
            nirs_seen.setdefault(nir, index)
        reasons += _check_contacts(member, who)
    if not any(m.role in ADULT_ROLES for m in family.members):
        fr = "Le foyer doit compter au moins un parent ou un autre responsable."
        reasons.append(Reason("role", fr, english(fr, "role")))
    return reasons


def _check_id(value: str, field: str, who: str | None) -> list[Reason]:
    if not value or not value.strip():
        return [Reason(field, "Identifiant obligatoire.", "identifier required", who)]
    if has_controls(value) or len(value) > MAX_SOURCE_ID or value != value.strip():
        return [Reason(field, f"Identifiant invalide ({MAX_SOURCE_ID} caractères au plus, sans caractère de contrôle).",
                       f"invalid identifier (at most {MAX_SOURCE_ID} characters, no control character)", who)]
    return []


def _check_nir(p: SourcePerson, who: str) -> list[Reason]:
    if not p.nir:
        return []
    check = nirs.check_nir(p.nir)
    if check is nirs.NirCheck.NO_KEY:
        return [Reason("nir", "NIR sans sa clé : donnez les 15 caractères.", "NIR without its key: give all 15 "
                       "characters", who)]
    if check is nirs.NirCheck.MALFORMED:
        return [Reason("nir", "NIR invalide (15 caractères : sexe, année, mois, lieu, ordre, clé).",
                       "malformed NIR (15 characters: sex, year, month, place, order, key)", who)]
    if check is nirs.NirCheck.BAD_KEY:
        return [Reason("nir", "Clé NIR invalide.", "wrong NIR key", who)]
    nir = nirs.compact(p.nir)
    if nir[0] in "12" and {"1": "M", "2": "F"}[nir[0]] != p.sex.strip().upper():
        return [Reason("nir", "Le NIR ne correspond pas au sexe.", "the NIR does not match the sex", who)]
    if int(nir[1:3]) != p.birth.year % 100:
        return [Reason("nir", "Le NIR ne correspond pas à l'année de naissance.",
                       "the NIR does not match the birth year", who)]
    return []


def _check_contacts(p: SourcePerson, who: str) -> list[Reason]:
    reasons = []
    if p.phone and (has_controls(p.phone) or len(p.phone) > MAX_PHONE or not _PHONE.fullmatch(p.phone)):
        reasons.append(Reason("phone", f"Téléphone invalide (chiffres, espaces, +, {MAX_PHONE} caractères au plus).",
                              f"invalid phone (digits, spaces, +; at most {MAX_PHONE} characters)", who))
    if p.email and (has_controls(p.email) or len(p.email) > MAX_EMAIL or not _EMAIL.fullmatch(p.email)):
        reasons.append(Reason("email", "Adresse électronique invalide.", "invalid email address", who))
    return reasons


# -- the counter's French messages, in English ------------------------------------------------

_ENGLISH: tuple[tuple[re.Pattern, str], ...] = tuple((re.compile(p), e) for p, e in (
    (r"Choisissez le rôle", "role: parent, child or other_guardian"),
    (r"Le nom de naissance est obligatoire", "birth name: required"),
    (r"^(.*?) : caractère invisible ou de contrôle", "{field}: invisible or control character not allowed"),
    (r"^(.*?) : les chiffres ne sont pas admis", "{field}: digits are not allowed"),
    (r"^(.*?) : caractère non admis « (.) »",
     "{field}: character not allowed ({2}); letters, space, hyphen, apostrophe"),
    (r"^(.*?) : au moins une lettre", "{field}: at least one letter"),
    (r"^(\d+) caractères au plus", "{field}: at most {1} characters"),
    (r"Au moins un prénom est obligatoire", "given names: at least one is required"),
    (r"Choisissez le sexe", "sex: F or M"),
    (r"La date de naissance est obligatoire", "birth date: required"),
    (r"Année de naissance invalide", "birth date: invalid year"),
    (r"Cette date n'existe pas", "birth date: no such date"),
    (r"Ce mois n'existe pas", "birth date: no such month"),
    (r"Date invalide", "birth date: invalid"),
    (r"dans le futur", "birth date: in the future"),
    (r"improbable \(plus de (\d+) ans\)", "birth date: implausible (over {1} years old)"),
    (r"Un parent ou responsable a au moins (\d+) ans",
     "a parent or guardian is at least {1} years old: check the birth date or the role"),
    (r"Un enfant du foyer a au plus (\d+) ans",
     "a child of the household is at most {1} years old: check the birth date or the role"),
    (r"Code pays : 5 chiffres", "birth country code: 5 digits starting with 99 (99100 = France)"),
    (r"Né\(e\) à l'étranger", "born abroad: leave the birthplace INSEE code empty, the country is enough"),
    (r"Né\(e\) en France", "born in France: the birthplace INSEE code is required "
                            "(or a birth country code for a birth abroad)"),
    (r"est un code pays", "99… is a country code: put it in birth_country_code"),
    (r"Code INSEE de commune", "birthplace INSEE code: 5 characters, digits or 2A/2B for Corsica (e.g. 45234)"),
    (r"Corse avant 1976", "born in Corsica before 1976: the code starts with 20"),
    (r"Corse depuis 1976", "born in Corsica since 1976: the code starts with 2A or 2B"),
    (r"au moins un parent ou un autre responsable", "the household needs at least one parent or other guardian"),
    (r"Les membres n° (\d+) et n° (\d+) sont la même personne",
     "members no. {1} and no. {2} are the same person (same names, given names and birth date)"),
    (r"Le numéro est obligatoire", "address: the street number is required in this street"),
    (r"Numéro : un nombre", "address: the street number is a number from 1 to 9999"),
    (r"Indice : bis, ter ou quater", "address: the number suffix is bis, ter or quater"),
    (r"Un indice \(bis, ter\) suit un numéro", "address: a suffix (bis, ter) needs a number"),
    (r"^(.*?) : obligatoire", "{field}: required"),
))

def english(french: str, field: str) -> str:
    """The English of one of the counter's French field messages (``field``: the column)."""
    for pattern, text in _ENGLISH:
        if match := pattern.search(french):
            return text.format(None, *match.groups(), field=field)
    return f"{field}: refused (see the French reason)"
