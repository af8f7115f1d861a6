"""The town's family system (contract v1, docs/agency-protocol.md): a child's
school and crèche situation, the places left, and registrations.

The subject is found by identity (``/v1/people``), then their school or crèche
record is read. A subject outside the ages of a section gets NOT_APPLICABLE
without a call.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any
from urllib.parse import quote

from backends.fields import count_field, date_field, object_field, object_list, typed
from backends.http import (
    AgencyError,
    HttpBackend,
    HttpResponse,
    Rejected,
    StatusErrors,
    agency_reason,
    error_body,
    quoted_fields,
)
from counter.backend import CrecheSituation, Identity, Schooling, SectionSpec, Status, Subject
from counter.domain.deliveries import parse_birth_text
from counter.domain.family_feed import (
    ChangesPage,
    FamilyChanged,
    FamilyRemoved,
    PersonMerged,
    PersonRemoved,
    UnreadableChange,
)
from counter.domain.family_records import SourceAddress, SourceFamily, SourcePerson
from counter.domain.schooling import coming_school_year, school_level

# Training has no keyring secret; the in-process emulator accepts any token.
TRAINING_TOKEN = "training"
# Under 4 the crèche section is always asked (a 3-year-old may still be placed);
# from 4 to 6 it shows only an application on file (children with a disability
# are taken longer); from 7 on it is not asked.
CRECHE_ASKED_UNDER = 4
CRECHE_NEVER_FROM = 7
DAYS = {"mon": "lun.", "tue": "mar.", "wed": "mer.", "thu": "jeu.", "fri": "ven."}
REFUSALS = {
    "capacity_full": "Plus de place à ce niveau dans cette école pour cette année scolaire.",
    "already_registered": "Une inscription ou une demande existe déjà pour cet enfant.",
    "derogation_reason_required": "École hors secteur : le motif de la dérogation est obligatoire.",
    "idempotency_key_reused": "Cette demande a déjà été envoyée avec un autre contenu.",
    "idempotency_key_missing": "Demande refusée par la mairie : clé d'idempotence absente.",
    "idempotency_key_invalid": "Demande refusée par la mairie : clé d'idempotence invalide.",
    "person_exists": "La mairie connaît déjà cette personne : relancer l'envoi pour l'inscrire sous sa fiche.",
    "age_out_of_range": "Accueil de loisirs : la mairie refuse l'âge de l'enfant (3 à 11 ans) pour une semaine choisie.",
}
ALSH_GROUPS = ("maternelle", "elementaire")
CANCEL_REFUSALS = {
    "not_found": "La mairie ne connaît pas cette demande (ou son système ne reçoit pas encore les annulations) : "
                 "prévenez le service.",
    "method_not_allowed": "Le système famille de la mairie ne reçoit pas les annulations (contrat 1.1) : "
                          "prévenez le service.",
}
# The contract's enrolment states, in the words an agent reads.
ENROLMENT_STATES = {"enrolled": "place attribuée", "pending": "inscription à confirmer",
                    "derogation_requested": "dérogation demandée"}
SEVERAL = "Plusieurs fiches correspondent dans le système famille : vérifier l'identité auprès de la mairie."


class RegistrationRejected(Rejected):
    """The city refused a registration (400, 409, 422): a person must act, a retry will not help."""


class CityBackend(HttpBackend):
    kind = "city"
    label = "Système famille de la mairie"
    SECTIONS = (SectionSpec("school", "École (mairie)"), SectionSpec("creche", "Crèche (mairie)"))

    def auth_headers(self) -> dict[str, str]:
        token = self.secret if self.secret is not None else (TRAINING_TOKEN if self.training else "")
        return {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    # -- sections -----------------------------------------------------------------------

    async def _fetch(self, section: str, subject: Subject, refresh: bool):
        if section == "school":
            return await self._school(subject)
        if section == "creche":
            return await self._creche(subject)
        return Status.NOT_APPLICABLE, (), "Rubrique inconnue du système famille.", None

    async def _school(self, subject: Subject):
        birth = subject.identity.birth
        coming = coming_school_year(subject.today)
        # The year under way and the coming one: a CM2 pupil is still the school's.
        if school_level(birth, coming) is None and school_level(birth, coming - 1) is None:
            return Status.NOT_APPLICABLE, (), "Hors âge de l'école maternelle et élémentaire.", None
        person_id = await self._person_id(subject.identity)
        body = await self._get(f"/v1/people/{quote(person_id, safe='')}/school")
        enrolments = [e for e in (object_field(body, "current"), object_field(body, "next")) if e is not None]
        facts = tuple(_schooling(e) for e in enrolments)
        as_of = date_field(body, "as_of")
        if not facts:
            return Status.OK, (Schooling(enrolled=False),), "Aucune inscription scolaire connue de la mairie.", as_of
        return Status.OK, facts, _days_message(enrolments[0]), as_of

    async def _creche(self, subject: Subject):
        birth = subject.identity.birth
        age = birth.age_on(subject.today) if birth.earliest() <= subject.today else -1  # unborn: applied for
        if age >= CRECHE_NEVER_FROM:
            return Status.NOT_APPLICABLE, (), "Hors âge de la crèche.", None
        late = age >= CRECHE_ASKED_UNDER
        try:
            person_id = await self._person_id(subject.identity)
        except AgencyError as exc:
            if late and exc.status is Status.NOT_FOUND:
                return Status.NOT_APPLICABLE, (), "Hors âge de la crèche.", None
            raise
        body = await self._get(f"/v1/people/{quote(person_id, safe='')}/creche")
        as_of = date_field(body, "as_of")
        state = typed(body, "state", str, required=True)
        if state == "placed":
            placement = object_field(body, "placement", required=True)
            fact = CrecheSituation("placed", creche=typed(placement, "creche_name", str, required=True),
                                   since=date_field(placement, "since"))
            return Status.OK, (fact,), "", as_of
        if state == "waiting":
            application = object_field(body, "application", required=True)
            wished = _wished(application)
            fact = CrecheSituation("waiting", creche=wished[0] if wished else None,
                                   since=date_field(application, "applied_on"), rank=typed(application, "rank", int))
            start = date_field(application, "wished_start")
            message = f"Vœux : {', '.join(wished)}." + (f" Entrée souhaitée le {start:%d/%m/%Y}." if start else "")
            return Status.OK, (fact,), message, as_of
        if state != "none":
            raise AgencyError(Status.BAD_RESPONSE, "Réponse illisible : situation de crèche inconnue.")
        if late:
            return Status.NOT_APPLICABLE, (), "Hors âge de la crèche, sans demande en cours.", as_of
        return Status.OK, (CrecheSituation("none"),), "Aucune demande de crèche.", as_of

    async def _person_id(self, identity: Identity) -> str:
        """The city's id of the subject; AgencyError NOT_FOUND when nobody or several match."""
        found = await self._match(identity)
        if found is None:
            raise AgencyError(Status.NOT_FOUND, "Inconnu du système famille de la mairie.")
        return found

    async def _match(self, identity: Identity) -> str | None:
        """The one person matching ``identity``, None when nobody does; AgencyError NOT_FOUND when several do."""
        if not identity.given_names:
            raise AgencyError(Status.NOT_FOUND, "Prénom manquant : recherche impossible dans le système famille.")
        params: dict[str, Any] = {"birth_name": identity.birth_name, "given_name": identity.given_names[0]}
        if identity.birth.complete:
            params["birth_date"] = identity.birth.earliest().isoformat()
        else:
            params["birth_year"] = identity.birth.year
            if identity.birth.month is not None:
                params["birth_month"] = identity.birth.month
        people = object_list(await self._get("/v1/people", params, search=True), "people")
        for person in people:
            typed(person, "id", str, required=True)
        if len(people) > 1:
            people = [p for p in people if p.get("sex") in (None, identity.sex)]
        if not people:
            return None
        if len(people) > 1:
            raise AgencyError(Status.NOT_FOUND, SEVERAL)
        return people[0]["id"]

    async def find_person(self, identity: Identity) -> str | None:
        """The city's id of this person, None when the city does not know them (then a
        registration carries the identity and the city creates the person).
        AgencyError NOT_FOUND when several people match: a person must choose."""
        return await self._bounded(self._match(identity))

    # -- health, places, registrations -------------------------------------------------------

    async def _health(self) -> None:
        await self._get("/v1/health", search=True)

    async def capacities(self, school_year: int) -> dict:
        """Places per school and level for the school year starting in ``school_year``, and per crèche."""
        body = await self._bounded(self._get("/v1/capacities", {"school_year": school_year}, search=True))
        for school in object_list(body, "schools"):
            for level in object_list(school, "levels"):
                typed(level, "capacity", int, required=True)
                typed(level, "enrolled", int, required=True)
        for creche in object_list(body, "creches"):
            typed(creche, "capacity", int, required=True)
            waiting_list = object_field(creche, "waiting_list")  # 1.2; a 1.1 server has none
            if waiting_list is not None:
                typed(waiting_list, "id", str, required=True)
                typed(waiting_list, "length", int, required=True)
        return body

    async def alsh_capacities(self, first: date, last: date) -> dict:
        """``GET /v1/alsh/capacities`` (contract 1.4): the accueil de loisirs' places per week
        and age group, for the weeks whose Monday is between ``first`` and ``last``."""
        body = await self._bounded(self._alsh_capacities(first, last))
        for week in object_list(body, "weeks"):
            typed(week, "week", str, required=True)
            if date_field(week, "week").weekday() != 0:
                raise AgencyError(Status.BAD_RESPONSE, "Réponse illisible : une semaine ne commence pas un lundi.")
            for group in object_list(week, "groups"):
                if typed(group, "group", str, required=True) not in ALSH_GROUPS:
                    raise AgencyError(Status.BAD_RESPONSE, "Réponse illisible : tranche d'âge inconnue.")
                for name in ("capacity", "registered"):
                    if typed(group, name, int, required=True) < 0:
                        raise AgencyError(Status.BAD_RESPONSE, f"Réponse illisible : champ « {name} » négatif.")
                count_field(group, "waiting")
        return body

    async def _alsh_capacities(self, first: date, last: date) -> dict:
        response = await self.request("GET", "/v1/alsh/capacities",
                                      params={"from": first.isoformat(), "to": last.isoformat()})
        if response.status_code in (404, 405):  # a server of contract 1.3 or older
            raise AgencyError(Status.UNAVAILABLE, "Le système famille ne connaît pas l'accueil de loisirs "
                                                  "(contrat 1.4) : places inconnues.")
        ERRORS.raise_for(response, search=True)
        body = response.json()
        if not isinstance(body, dict):
            raise AgencyError(Status.BAD_RESPONSE, "Réponse illisible : un objet JSON était attendu.")
        return body

    async def submit_registration(self, body: dict, idempotency_key: str) -> dict:
        """POST /v1/registrations; the same key and body again give the same answer.

        Raises RegistrationRejected (with the city's code) for a refusal, AgencyError otherwise.
        """
        return await self._bounded(self._submit(body, idempotency_key))

    async def _submit(self, body: dict, idempotency_key: str) -> dict:
        response = await self.request("POST", "/v1/registrations", json_body=body,
                                      headers={"Idempotency-Key": idempotency_key})
        if response.status_code in (400, 409, 422):
            code, fields, said = _error(response)
            message = REFUSALS.get(code) or (
                f"La mairie a refusé la demande (données refusées : {quoted_fields(fields)}){said}" if fields
                else f"La mairie a refusé la demande{said}" if said != "."
                else "La mairie a refusé la demande : données invalides.")
            raise RegistrationRejected(message, response.status_code, code)
        ERRORS.raise_for(response)
        answer = response.json()
        if not isinstance(answer, dict):
            raise AgencyError(Status.BAD_RESPONSE, "Réponse illisible : la mairie n'a pas renvoyé la demande.")
        typed(answer, "id", str, required=True)
        typed(answer, "state", str, required=True)
        return answer

    async def cancel_registration(self, registration_id: str, body: dict, idempotency_key: str) -> dict:
        """POST /v1/registrations/{id}/cancellation (1.2); the same key and body again give the same answer.

        Raises RegistrationRejected for a refusal (an unknown registration included:
        a 1.1 server has no such route), AgencyError otherwise.
        """
        return await self._bounded(self._cancel(registration_id, body, idempotency_key))

    async def _cancel(self, registration_id: str, body: dict, idempotency_key: str) -> dict:
        response = await self.request("POST", f"/v1/registrations/{quote(registration_id, safe='')}/cancellation",
                                      json_body=body, headers={"Idempotency-Key": idempotency_key})
        if response.status_code in (400, 404, 405, 409, 422):
            code, fields, said = _error(response)
            message = CANCEL_REFUSALS.get(code) or REFUSALS.get(code) or (
                f"La mairie a refusé l'annulation (données refusées : {quoted_fields(fields)}){said}" if fields
                else f"La mairie a refusé l'annulation (code {response.status_code}){said}")
            raise RegistrationRejected(message, response.status_code, code)
        ERRORS.raise_for(response)
        answer = response.json()
        if not isinstance(answer, dict):
            raise AgencyError(Status.BAD_RESPONSE, "Réponse illisible : la mairie n'a pas renvoyé l'annulation.")
        typed(answer, "id", str, required=True)
        if typed(answer, "state", str, required=True) != "cancelled":
            raise AgencyError(Status.BAD_RESPONSE, "Réponse illisible : la demande n'est pas dite annulée.")
        return answer

    async def changes(self, after: str | None, limit: int = 0) -> ChangesPage:
        """One page of ``GET /v1/changes`` (contract 1.3) after the cursor ``after``
        (None or "": from the beginning). Raises CursorExpired (410), AgencyError otherwise."""
        return await self._bounded(self._changes(after or "", limit or CHANGES_LIMIT))

    async def _changes(self, after: str, limit: int) -> ChangesPage:
        response = await self.request("GET", "/v1/changes", params={"after": after, "limit": limit})
        if response.status_code == 410:
            raise CursorExpired
        if response.status_code in (404, 405):  # a server of contract 1.2 or older
            raise AgencyError(Status.UNAVAILABLE, "Le système famille ne fournit pas le flux des modifications "
                                                  "(contrat 1.3) : synchronisation impossible.")
        if response.status_code in (400, 422):
            raise AgencyError(Status.BAD_RESPONSE, "Le système famille refuse le point de reprise "
                                                   f"(erreur {response.status_code}).")
        ERRORS.raise_for(response, search=True)
        return parse_changes(response.json())

    async def _get(self, path: str, params: dict | None = None, *, search: bool = False) -> dict:
        response = await self.request("GET", path, params=params)
        ERRORS.raise_for(response, search=search)
        body = response.json()
        if not isinstance(body, dict):
            raise AgencyError(Status.BAD_RESPONSE, "Réponse illisible : un objet JSON était attendu.")
        return body


# -- answers ------------------------------------------------------------------------------


ERRORS = StatusErrors(
    "Le système famille",
    unauthorized="Le système famille refuse l'accès : vérifier le jeton enregistré.",
    not_found="Inconnu du système famille de la mairie.",
)


def _error(response: HttpResponse) -> tuple[str, list[str], str]:
    """The error's code, the fields its details name, and the end of our sentence:
    the city's own words quoted (" : « … »."), or "." without them."""
    error = error_body(response).get("error")
    if not isinstance(error, dict):
        return "", [], "."
    details = error.get("details") if isinstance(error.get("details"), list) else []
    fields = [d["field"] for d in details if isinstance(d, dict) and isinstance(d.get("field"), str)]
    code = error.get("code")
    # The first detail says what is wrong with a field; the error's message, the request as a whole.
    said = [d.get("message") for d in details if isinstance(d, dict) and isinstance(d.get("message"), str)]
    reason = agency_reason(said[0] if said else error.get("message"))
    return (code if isinstance(code, str) else ""), list(dict.fromkeys(fields)), (f" : « {reason} »." if reason
                                                                                 else ".")


def _schooling(enrolment: dict) -> Schooling:
    year = typed(enrolment, "school_year", int, required=True)
    state = typed(enrolment, "state", str, required=True)
    if state not in ENROLMENT_STATES:
        raise AgencyError(Status.BAD_RESPONSE, "Réponse illisible : état d'inscription scolaire inconnu.")
    return Schooling(
        enrolled=state == "enrolled",
        school_name=typed(enrolment, "school_name", str),
        uai=typed(enrolment, "uai", str),
        school_year=f"{year}-{year + 1}",
        level=typed(enrolment, "level", str, required=True),
        status=ENROLMENT_STATES[state],
    )


def _days(enrolment: dict, name: str) -> str:
    days = typed(enrolment, name, list) or []
    return " ".join(DAYS.get(d, d) for d in days if isinstance(d, str)) or "aucun jour"


def _days_message(enrolment: dict) -> str:
    return f"Cantine : {_days(enrolment, 'canteen_days')} — périscolaire : {_days(enrolment, 'after_school_days')}"


def _wished(application: dict) -> list[str]:
    wished = typed(application, "wished_creches", list) or []
    names = [w.get("name") for w in wished if isinstance(w, dict)]
    if not all(isinstance(n, str) for n in names):
        raise AgencyError(Status.BAD_RESPONSE, "Réponse illisible : champ « wished_creches » mal typé.")
    return names


# -- the change feed (contract 1.3) --------------------------------------------------------------

CHANGES_LIMIT = 200  # families per page: well within the 2 MB an answer may weigh
MAX_CURSOR = 200  # SyncState.cursor
ROLES = ("parent", "child", "other_guardian")


class CursorExpired(AgencyError):
    """410 ``cursor_expired``: the city no longer knows the cursor; start from the beginning."""

    def __init__(self) -> None:
        super().__init__(Status.BAD_RESPONSE, "Le système famille ne reconnaît plus le point de reprise.")


class _Unreadable(ValueError):
    """One entry of the feed that cannot be read; the message names the field (English)."""


def parse_changes(body: Any) -> ChangesPage:
    """A page of ``GET /v1/changes``; AgencyError(BAD_RESPONSE) when the page itself is
    unreadable, or when none of its entries is (nothing is applied then, the cursor stays).
    A single unreadable entry among readable ones becomes an UnreadableChange."""
    if not isinstance(body, dict):
        raise AgencyError(Status.BAD_RESPONSE, "Réponse illisible : un objet JSON était attendu.")
    entries = typed(body, "changes", list, required=True)
    cursor = typed(body, "next", str, required=True)
    more = typed(body, "more", bool, required=True)
    if not cursor or len(cursor) > MAX_CURSOR or not cursor.isprintable():
        raise AgencyError(Status.BAD_RESPONSE, "Réponse illisible : champ « next » invalide.")
    changes: list = []
    for entry in entries:
        try:
            changes.append(_change(entry))
        except _Unreadable as exc:
            family_id = None
            if isinstance(entry, dict) and isinstance(entry.get("family"), dict):
                family_id = _id_or_none(entry["family"].get("id"))
            changes.append(UnreadableChange(str(exc), family_id))
    if changes and all(isinstance(c, UnreadableChange) for c in changes):
        raise AgencyError(Status.BAD_RESPONSE,
                          f"Réponse illisible : aucune modification lisible ({changes[0].reason}).")
    if more and not changes:
        raise AgencyError(Status.BAD_RESPONSE, "Réponse illisible : page vide annonçant une suite.")
    remaining = body.get("remaining")
    remaining = remaining if type(remaining) is int and remaining >= 0 else None
    return ChangesPage(tuple(changes), cursor, more, remaining)


def _change(entry: Any):
    if not isinstance(entry, dict):
        raise _Unreadable("an entry is not an object")
    kind = entry.get("type")
    if kind == "family":
        family = entry.get("family")
        if not isinstance(family, dict):
            raise _Unreadable("family: missing")
        return FamilyChanged(_family(family))
    if kind == "family_removed":
        return FamilyRemoved(_source_id(entry, "family_id"))
    if kind == "person_removed":
        return PersonRemoved(_source_id(entry, "person_id"))
    if kind == "person_merged":
        merged, kept = _source_id(entry, "merged_id"), _source_id(entry, "kept_id")
        if merged == kept:
            raise _Unreadable("person_merged: merged_id is kept_id")
        return PersonMerged(merged, kept)
    raise _Unreadable("type: unknown")


def _id_or_none(value: Any) -> str | None:
    if isinstance(value, str) and 0 < len(value) <= 40 and value.isprintable() and value.strip() == value:
        return value
    return None


def _source_id(obj: dict, name: str) -> str:
    value = _id_or_none(obj.get(name))
    if value is None:
        raise _Unreadable(f"{name}: missing or invalid")
    return value


def _text(obj: dict, name: str, *, required: bool = False) -> str | None:
    value = obj.get(name)
    if value is None or (value == "" and not required):
        if required:
            raise _Unreadable(f"{name}: missing")
        return None
    if not isinstance(value, str):
        raise _Unreadable(f"{name}: not a text")
    return value


def _family(family: dict) -> SourceFamily:
    family_id = _source_id(family, "id")
    members = family.get("members")
    if not isinstance(members, list) or not members or not all(isinstance(m, dict) for m in members):
        raise _Unreadable("members: missing or not a list of objects")
    address = family.get("address")
    if address is not None and not isinstance(address, dict):
        raise _Unreadable("address: not an object")
    return SourceFamily(source_id=family_id, members=tuple(_member(m) for m in members),
                        address=_address(address) if address else None,
                        caf_number=_text(family, "caf_number"))


def _member(member: dict) -> SourcePerson:
    role = _text(member, "role", required=True)
    if role not in ROLES:
        raise _Unreadable("role: unknown")
    given = member.get("given_names")
    if not isinstance(given, list) or not given or not all(isinstance(g, str) for g in given):
        raise _Unreadable("given_names: missing or not a list of texts")
    sex = _text(member, "sex", required=True)
    try:
        birth = parse_birth_text(_text(member, "birth_date", required=True))
    except ValueError:
        raise _Unreadable("birth_date: not YYYY-MM-DD, YYYY-MM or YYYY") from None
    own = member.get("address")
    if own is not None and not isinstance(own, dict):
        raise _Unreadable("members.address: not an object")
    return SourcePerson(
        address=_address(own) if own else None,
        source_id=_source_id(member, "person_id"), role=role,
        birth_name=_text(member, "birth_name", required=True), given_names=tuple(given), sex=sex, birth=birth,
        usage_name=_text(member, "usage_name"), birth_insee_code=_text(member, "birth_insee_code"),
        birth_country_code=_text(member, "birth_country_code") or "99100", nir=_text(member, "nir"),
        phone=_text(member, "phone"), email=_text(member, "email"))


def _address(address: dict) -> SourceAddress:
    number = address.get("number")
    if number is not None and (type(number) is not int or number < 0):
        raise _Unreadable("address.number: not a number")
    street, line = _text(address, "street"), _text(address, "street_line")
    suffix = _text(address, "suffix")
    if street is None and line is not None:  # a 1.2-style line: its parts when it is "12 bis rue …"
        match = _STREET_LINE.fullmatch(line)
        if match is not None:
            number, suffix, street, line = int(match[1]), (match[2] or "").lower() or None, match[3], None
    return SourceAddress(ban_id=_text(address, "ban_id"), number=number, suffix=suffix, street=street,
                         complement=_text(address, "complement"), line=None if street else line,
                         postal_code=_text(address, "postal_code") or "", city=_text(address, "city") or "")


_STREET_LINE = re.compile(r"\s*(\d+)(?:\s*(bis|ter|quater|[a-z])\b)?\s+(\D.*)", re.IGNORECASE)
