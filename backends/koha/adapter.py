"""The Koha adapter: library cards from ``/api/v1/patrons`` (see
shared reference koha/PATRONS-API.md and docs/agency-protocol.md).

Koha keeps one surname per patron, often the usage (married) name, so the
birth name is tried first and the usage name when it finds nobody. Koha's
filters are case-insensitive; ``_match=exact`` avoids "contains" matches.

A new card belongs to a library (Koha's ``library_id``, required): the one the
configuration names, else Koha's only library, read from ``/api/v1/libraries``
(at most once an hour). With several libraries and none named, the card waits
and says why rather than guess.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date
from typing import Any

from backends.fields import count_field, date_field, typed
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
from counter.backend import Identity, LibraryCard, SectionSpec, Status, Subject
from counter.domain.dates import BirthDate
from counter.domain.deliveries import NO_GUARANTOR_NOTE
from counter.domain.names import fold

PATRONS = "/api/v1/patrons"
# Training has no keyring secret; the in-process emulator accepts any password.
TRAINING_PASSWORD = "training"
# The counters are embedded objects in Koha, returned only when asked for.
EMBED = "checkouts+count,overdues+count"
PAGE_SIZE = 50  # exact names and a birth date: a handful of patrons at most
LIBRARIES = "/api/v1/libraries"
LIBRARIES_TTL = 3600.0  # seconds: a town opens a library branch once in years
LIBRARY_PAGE = 100
MAX_LIBRARY_PAGES = 20  # 2,000 libraries: beyond, a loop, not a town


@dataclass(frozen=True, slots=True)
class KohaLibrary:
    library_id: str
    name: str


@dataclass(frozen=True, slots=True)
class HomeLibrary:
    """The library new cards belong to; ``configured``: named by the configuration
    (else Koha's only one); ``known``: Koha's entry for it (None: not looked up,
    or Koha does not list it)."""

    library_id: str
    configured: bool
    known: KohaLibrary | None = None


class PatronRejected(Rejected):
    """Koha refused a new patron (400, 409): a person must act, a retry will not help."""


class KohaBackend(HttpBackend):
    kind = "koha"
    label = "Koha (médiathèque)"
    SECTIONS = (SectionSpec("library_card", "Carte de bibliothèque"),)

    def __init__(self, context) -> None:
        super().__init__(context)
        self._libraries: tuple[float, tuple[KohaLibrary, ...]] | None = None  # (read at, libraries)

    def auth_headers(self) -> dict[str, str]:
        password = self.secret if self.secret is not None else (TRAINING_PASSWORD if self.training else "")
        pair = f"{self.settings.username}:{password}".encode()
        return {"Authorization": f"Basic {base64.b64encode(pair).decode('ascii')}", "Accept": "application/json"}

    # -- the section ---------------------------------------------------------------

    async def _fetch(self, section: str, subject: Subject, refresh: bool):
        if section != "library_card":
            return Status.NOT_APPLICABLE, (), "Rubrique inconnue de Koha.", None
        patrons = await self._find(subject.identity)
        if not patrons:
            return Status.NOT_FOUND, (), "Pas de carte à ce nom.", None
        cards = tuple(_card(p) for p in patrons)
        return Status.OK, cards, _message(cards, subject.today), None

    async def _find(self, identity: Identity) -> list[dict]:
        surnames = [identity.birth_name]
        if identity.usage_name and fold(identity.usage_name) != fold(identity.birth_name):
            surnames.append(identity.usage_name)
        for surname in surnames:
            found = [p for p in await self._search(surname, identity) if _born(p, identity.birth)]
            if found:
                return sorted(found, key=lambda p: p["patron_id"])
        return []

    async def _search(self, surname: str, identity: Identity) -> list[dict]:
        params: dict[str, Any] = {"surname": surname, "_match": "exact", "_per_page": PAGE_SIZE}
        if identity.given_names:
            params["firstname"] = identity.given_names[0]
        # Koha filters on a full date only; a partial one is checked on our side.
        if identity.birth.complete:
            params["date_of_birth"] = identity.birth.earliest().isoformat()
        response = await self.request("GET", PATRONS, params=params, headers={"x-koha-embed": EMBED})
        ERRORS.raise_for(response, search=True)
        patrons = response.json()
        if not isinstance(patrons, list) or not all(isinstance(p, dict) for p in patrons):
            raise AgencyError(Status.BAD_RESPONSE, "Réponse illisible : Koha n'a pas renvoyé une liste de lecteurs.")
        for patron in patrons:
            typed(patron, "patron_id", int, required=True)
        return patrons

    # -- the libraries --------------------------------------------------------------------

    async def libraries(self) -> tuple[KohaLibrary, ...]:
        """Koha's libraries, in Koha's order; read at most once an hour. Raises AgencyError."""
        return await self._bounded(self._read_libraries())

    async def home_library(self, *, check: bool = False) -> HomeLibrary:
        """The library new cards belong to (``check``: the configured one looked up in Koha's list).

        Raises AgencyError: Koha unreadable, or no library to choose (several, or none).
        """
        return await self._bounded(self._home_library(check))

    async def _read_libraries(self) -> tuple[KohaLibrary, ...]:
        now = self.clock()
        if self._libraries is not None and 0 <= now - self._libraries[0] < LIBRARIES_TTL:
            return self._libraries[1]
        found: list[KohaLibrary] = []
        for page in range(1, MAX_LIBRARY_PAGES + 1):
            response = await self.request("GET", LIBRARIES, params={"_page": page, "_per_page": LIBRARY_PAGE})
            if response.status_code == 403:
                raise AgencyError(Status.UNAUTHORIZED, "Koha refuse la liste des bibliothèques : l'utilisateur de "
                                                       "l'API doit avoir la permission « catalogue ».")
            ERRORS.raise_for(response, search=True)
            rows = response.json()
            if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
                raise AgencyError(Status.BAD_RESPONSE,
                                  "Réponse illisible : Koha n'a pas renvoyé une liste de bibliothèques.")
            found += [KohaLibrary(typed(r, "library_id", str, required=True), typed(r, "name", str) or "")
                      for r in rows]
            # Koha counts the whole list in X-Total-Count; without it, a short page is the last.
            total = _count(response.headers.get("X-Total-Count"))
            if not rows or (len(found) >= total if total is not None else len(rows) < LIBRARY_PAGE):
                break
        unique: dict[str, KohaLibrary] = {}
        for library in found:  # a library added while paging may show up twice
            unique.setdefault(library.library_id, library)
        libraries = tuple(unique.values())
        self._libraries = (now, libraries)
        return libraries

    async def _home_library(self, check: bool) -> HomeLibrary:
        configured = self.settings.library_id
        if configured and not check:
            return HomeLibrary(configured, True)
        libraries = await self._read_libraries()
        if configured:
            return HomeLibrary(configured, True, next((lib for lib in libraries if lib.library_id == configured), None))
        if len(libraries) == 1:
            return HomeLibrary(libraries[0].library_id, False, libraries[0])
        if not libraries:
            raise AgencyError(Status.UNAVAILABLE, "Koha ne déclare aucune bibliothèque : carte impossible à créer, "
                                                  "prévenir l'administrateur.")
        codes = quoted_fields([lib.library_id for lib in libraries])
        raise AgencyError(Status.UNAVAILABLE, f"Koha gère {len(libraries)} bibliothèques ({codes}) : "
                                              "l'administrateur doit choisir celle des nouvelles cartes "
                                              f"(library_id dans [backends.{self.name}]).")

    # -- health and writes ------------------------------------------------------------

    async def _health(self) -> None:
        response = await self.request("GET", PATRONS, params={"_per_page": 1})
        ERRORS.raise_for(response, search=True)
        if not isinstance(response.json(), list):
            raise AgencyError(Status.BAD_RESPONSE, "Réponse illisible : Koha n'a pas renvoyé une liste de lecteurs.")

    async def save_card(self, payload: dict, idempotency_key: str, *, reader: Identity | None = None,
                        guarantor: Identity | None = None, relationship: str | None = None,
                        today: date | None = None) -> dict:
        """Make the reader's card (Koha's field names in ``payload``) and return the patron.

        Koha has no idempotency keys, so the reader's existing record is looked
        for first (``reader``: birth name, then usage name; without it, the
        payload's surname, first name and birth date). A reader Koha knows gets
        the card renewed on that record — category and expiry set by a PUT,
        never an earlier expiry than the one it has — instead of a second record;
        a retry after a lost answer finds the work done and sends nothing.
        A child's card is linked to the ``guarantor``'s record when Koha has one.
        The key goes in ``x-koha-request-id`` for Koha's logs.
        Raises AgencyError (PatronRejected for 400/409).
        """
        return await self._bounded(self._save_card(payload, idempotency_key, reader, guarantor, relationship,
                                                   today))

    async def _save_card(self, payload: dict, key: str, reader: Identity | None, guarantor: Identity | None,
                         relationship: str | None, today: date | None) -> dict:
        body = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in payload.items() if v is not None}
        existing = (await self._find(reader) or [None])[0] if reader is not None else await self._existing(body)
        if existing is not None:
            return await self._renew(existing, body, key, today)
        if not body.get("library_id"):  # chosen here, so that a configuration fix reaches the cards waiting
            body["library_id"] = (await self._home_library(check=False)).library_id
        if guarantor is not None and "guarantor_id" not in body:
            found = await self._find(guarantor)
            if found:
                body["guarantor_id"] = found[0]["patron_id"]
                if relationship:
                    body["relationship_type"] = relationship
                if body.get("staff_notes") == NO_GUARANTOR_NOTE:
                    del body["staff_notes"]
        response = await self.request("POST", PATRONS, json_body=body, headers={"x-koha-request-id": key})
        return _patron(response)

    async def _renew(self, patron: dict, body: dict, key: str, today: date | None) -> dict:
        expiry = max(filter(None, (date_field(patron, "expiry_date"), _date(body.get("expiry_date")))), default=None)
        category = body.get("category_id") or patron.get("category_id")
        if category == patron.get("category_id") and expiry == date_field(patron, "expiry_date"):
            return patron  # nothing to change: already renewed (a retry), or no expiry asked for
        # Koha's PUT sets the fields given and leaves the others; these three are required.
        update = {"surname": patron.get("surname"), "library_id": patron.get("library_id"), "category_id": category}
        if expiry is not None:
            update["expiry_date"] = expiry.isoformat()
        if today is not None:
            update["date_renewed"] = today.isoformat()
        response = await self.request("PUT", f"{PATRONS}/{int(patron['patron_id'])}", json_body=update,
                                      headers={"x-koha-request-id": key})
        return _patron(response)

    async def _existing(self, body: dict) -> dict | None:
        surname, born = body.get("surname"), body.get("date_of_birth")
        if not isinstance(surname, str) or not isinstance(born, str):
            return None
        params: dict[str, Any] = {"surname": surname, "date_of_birth": born, "_match": "exact", "_per_page": 1}
        if isinstance(body.get("firstname"), str):
            params["firstname"] = body["firstname"]
        response = await self.request("GET", PATRONS, params=params)
        ERRORS.raise_for(response, search=True)
        found = response.json()
        if not isinstance(found, list) or not all(isinstance(p, dict) for p in found):
            raise AgencyError(Status.BAD_RESPONSE, "Réponse illisible : Koha n'a pas renvoyé une liste de lecteurs.")
        return found[0] if found else None


# -- answers ----------------------------------------------------------------------------


def _patron(response: HttpResponse) -> dict:
    """The patron Koha answers to a POST or PUT; PatronRejected for 400/409."""
    if response.status_code in (400, 409):
        raise PatronRejected(_rejection(response), response.status_code)
    ERRORS.raise_for(response)
    patron = response.json()
    if not isinstance(patron, dict):
        raise AgencyError(Status.BAD_RESPONSE, "Réponse illisible : Koha n'a pas renvoyé la fiche lecteur.")
    typed(patron, "patron_id", int, required=True)
    return patron


def _count(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


ERRORS = StatusErrors(
    "Koha",
    unauthorized="Koha refuse l'accès : vérifier l'utilisateur de l'API et son mot de passe.",
    not_found="Koha ne connaît pas cette fiche.",
    in_maintenance=lambda body: body.get("error_code") == "under_maintenance",
)


def _rejection(response: HttpResponse) -> str:
    """Koha's refusal in French, with Koha's own words (its ``error``, or its
    validator's first message) quoted: that is what tells the administrator why."""
    body = error_body(response)
    reason = agency_reason(body.get("error"))
    if response.status_code == 409:
        field = body.get("conflict")
        what = "numéro de carte déjà attribué" if field in (None, "cardnumber") else \
            f"{quoted_fields([str(field)])} déjà utilisé"
        return f"Koha signale un doublon ({what})" + (f" : « {reason} »." if reason else ".")
    fields = []
    errors = body.get("errors")
    for error in errors if isinstance(errors, list) else []:
        path = error.get("path") if isinstance(error, dict) else None
        message = error.get("message") if isinstance(error, dict) else None
        reason = reason or agency_reason(message)
        if isinstance(path, str) and path.rstrip("/") not in ("", "/body"):
            fields.append(path.rsplit("/", 1)[-1])
        elif isinstance(message, str) and ":" in message:
            # "Properties not allowed: foo, bar." names the fields after the colon.
            fields += [f.strip(" .") for f in message.split(":", 1)[1].split(",") if f.strip(" .")]
    said = f" : « {reason} »." if reason else "."
    if fields:
        return f"Koha a refusé la fiche lecteur (champs refusés : {quoted_fields(fields)}){said}"
    return f"Koha a refusé la fiche lecteur{said}" if reason else "Koha a refusé la fiche lecteur : données invalides."


def _born(patron: dict, birth: BirthDate) -> bool:
    born = date_field(patron, "date_of_birth")
    if born is None:
        return False
    if birth.complete:
        return born == birth.earliest()
    return born.year == birth.year and (birth.month is None or born.month == birth.month)


def _card(patron: dict) -> LibraryCard:
    return LibraryCard(
        card_number=typed(patron, "cardnumber", str) or "",
        category=typed(patron, "category_id", str, required=True),
        expiry=date_field(patron, "expiry_date"),
        checkouts=count_field(patron, "checkouts_count"),
        overdues=count_field(patron, "overdues_count"),
        library=typed(patron, "library_id", str),
        restricted=bool(typed(patron, "restricted", bool)),
        patron_id=typed(patron, "patron_id", int, required=True),
    )


def _message(cards: tuple[LibraryCard, ...], today: date) -> str:
    notes = [f"{len(cards)} cartes à ce nom."] if len(cards) > 1 else []
    for card in cards:
        if card.expiry is not None and card.expiry < today:
            notes.append(f"Carte {card.card_number} expirée le {card.expiry:%d/%m/%Y}.")
        if card.restricted:
            notes.append(f"Carte {card.card_number} suspendue.")
    return " ".join(notes)
