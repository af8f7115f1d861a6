"""The API Particulier v3 adapter: five sections, asked by identity.

Requests carry exactly what the town knows of the person (see
:func:`identity_params`): agencies match on it, and inventing a missing birth
day would make them miss. Answers are cached an hour per question; the API's
own cache (``X-Response-Cached``) is shown as such. The API limits each token
to 20 requests a second: the backend sends at most ``requests_per_second``
(backends.rate_limit), and a 429 still holds every request of the backend
until the time it gave. Nothing here
logs a body, a parameter or a name: they are personal data.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from backends.api_particulier import parsing
from backends.api_particulier.cache import AnswerCache
from backends.api_particulier.errors import HELD_MESSAGE, agency_error
from backends.http import AgencyError, HttpBackend
from counter.backend import (
    BackendContext,
    Identity,
    Provenance,
    SectionAnswer,
    SectionSpec,
    Status,
    Subject,
)

FRANCE = "99100"
MAX_GIVEN_NAMES = 3  # the API refuses more (prenoms[] maxItems)
SCHOOL_AGE_LIMIT = 21  # the Éducation nationale knows pupils, not adults
ADULT_ROLES = ("parent", "other_guardian")
TRAINING_TOKEN = "training"  # the emulator accepts any bearer in-process
HEALTH_PATH = "/v3/france_travail/statut/identifiant"
# The staging test identifier: a lookup that carries no one's personal data.
HEALTH_IDENTIFIER = "default"


@dataclass(frozen=True, slots=True)
class _Section:
    spec: SectionSpec
    path: str
    provider: str  # for messages, when the error does not name one
    not_found: str  # French
    parse: Callable[[Any, date], tuple[tuple, date | None]]


_SECTIONS: dict[str, _Section] = {
    s.spec.key: s
    for s in (
        _Section(
            SectionSpec("quotient_familial", "Quotient familial (CAF/MSA)"),
            "/v3/dss/quotient_familial/identite", "CAF/MSA",
            "Aucun dossier allocataire CAF ou MSA pour cette identité.",
            lambda body, today: parsing.quotient_familial(body),
        ),
        _Section(
            SectionSpec("c2s", "Complémentaire santé solidaire"),
            "/v3/dss/complementaire_sante_solidaire/identite", "Assurance maladie",
            "Aucun dossier d'assurance maladie pour cette identité.",
            lambda body, today: parsing.c2s(body),
        ),
        _Section(
            SectionSpec("eaje", "Participation crèche (EAJE)"),
            "/v3/dss/participation_familiale_eaje/identite", "CAF/MSA",
            "Aucun dossier allocataire CAF ou MSA pour cette identité.",
            lambda body, today: parsing.eaje(body),
        ),
        _Section(
            SectionSpec("france_travail", "France Travail"),
            "/v3/france_travail/statut/identifiant", "France Travail",
            "Identifiant inconnu de France Travail : le vérifier avec la personne.",
            parsing.france_travail,
        ),
        _Section(
            SectionSpec("scolarite", "Scolarité (Éducation nationale)"),
            "/v3/men/scolarites/identite", "Éducation nationale",
            "Aucun élève trouvé pour cette identité cette année scolaire.",
            lambda body, today: parsing.scolarite(body),
        ),
    )
}


def _upper(text: str) -> str:
    return " ".join(text.split()).upper()


def identity_params(identity: Identity, *, birth_place: bool = True) -> list[tuple[str, str]]:
    """The identity parameters, only as far as the town knows them.

    ``birth_place`` (and the usage name) exist on the DSS routes only; the
    Éducation nationale route takes names, sex and the full birth date.
    """
    params = [("nomNaissance", _upper(identity.birth_name))]
    params += [("prenoms[]", _upper(given)) for given in identity.given_names[:MAX_GIVEN_NAMES]]
    params.append(("sexeEtatCivil", identity.sex))
    birth = identity.birth
    params.append(("anneeDateNaissance", str(birth.year)))
    if birth.month is not None:
        params.append(("moisDateNaissance", str(birth.month)))
        if birth.day is not None:
            params.append(("jourDateNaissance", str(birth.day)))
    if birth_place:
        if identity.birth_insee_code:
            params.append(("codeCogInseeCommuneNaissance", identity.birth_insee_code))
        params.append(("codeCogInseePaysNaissance", identity.birth_country_code or FRANCE))
        if identity.usage_name:
            params.append(("nomUsage", _upper(identity.usage_name)))
    return params


def current_school_year(today: date) -> int:
    """Start year of the school year under way (it switches on 1 September)."""
    return today.year if today.month >= 9 else today.year - 1


def allocataire(subject: Subject) -> Identity | None:
    """Whom the CAF/MSA knows the household by: the subject if an adult of it,
    else the household's first adult."""
    if subject.role in ADULT_ROLES:
        return subject.identity
    adults = subject.adults()
    return adults[0] if adults else None


def section_request(section: str, subject: Subject) -> tuple[str, list[tuple[str, str]]] | str:
    """(path, parameters without the recipient), or the French reason the
    section does not apply to this subject."""
    spec = _SECTIONS[section]
    if section in ("quotient_familial", "eaje"):
        adult = allocataire(subject)
        if adult is None:
            return "Aucun allocataire connu dans le foyer."
        return spec.path, identity_params(adult)
    if section == "c2s":
        return spec.path, identity_params(subject.identity)
    if section == "france_travail":
        identifier = (subject.identity.france_travail_id or "").strip()
        if not identifier:
            return "Identifiant France Travail inconnu de la mairie."
        return spec.path, [("identifiant", identifier)]
    # scolarite
    if subject.identity.birth.age_on(subject.today) >= SCHOOL_AGE_LIMIT:
        return f"Sans objet à partir de {SCHOOL_AGE_LIMIT} ans."
    params = identity_params(subject.identity, birth_place=False)
    # No codeEtablissement: the counter does not know the pupil's school.
    params.append(("anneeScolaire", str(current_school_year(subject.today))))
    return spec.path, params


class ApiParticulierBackend(HttpBackend):
    kind = "api_particulier"
    label = "API Particulier"
    HELD_MESSAGE = HELD_MESSAGE
    SECTIONS = tuple(s.spec for s in _SECTIONS.values())

    def __init__(self, context: BackendContext) -> None:
        super().__init__(context)
        self.recipient: str = context.settings.recipient
        self._cache = AnswerCache()

    def auth_headers(self) -> dict[str, str]:
        token = self.secret or (TRAINING_TOKEN if self.training else None)
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    def _cache_key(self, section: str, subject: Subject):
        if section not in _SECTIONS:
            return None
        try:
            planned = section_request(section, subject)
        except Exception:  # noqa: BLE001 — _fetch meets the same problem and reports it
            return None
        if isinstance(planned, str):
            return None
        path, params = planned
        # Today matters to France Travail: a registration may end at midnight.
        return section, path, tuple(params), subject.today

    async def fetch(self, section: str, subject: Subject, *, refresh: bool = False) -> SectionAnswer:
        key = self._cache_key(section, subject)
        if key is not None and not refresh and not self.missing_secret():
            hit = self._cache.get(key)
            if hit is not None:
                return SectionAnswer(replace(hit.provenance, cached=True), hit.facts)
        answer = await super().fetch(section, subject, refresh=refresh)
        if key is not None and answer.provenance.status in (Status.OK, Status.NOT_FOUND):
            self._cache.put(key, answer)
        return answer

    async def _fetch(self, section: str, subject: Subject, refresh: bool):
        fetched_at, started = datetime.now(UTC), time.perf_counter()
        spec = _SECTIONS.get(section)
        if spec is None:
            raise AgencyError(Status.NOT_APPLICABLE, "Rubrique inconnue d'API Particulier.")
        planned = section_request(section, subject)
        if isinstance(planned, str):
            return Status.NOT_APPLICABLE, (), planned, None
        path, params = planned
        headers = {"Cache-Control": "no-cache"} if refresh else None
        response = await self._get(path, [("recipient", self.recipient), *params], headers)
        if not 200 <= response.status_code < 300:
            raise agency_error(response, spec.provider, spec.not_found, self.clock)
        body = response.json()
        try:
            facts, as_of = spec.parse(body, subject.today)
        except parsing.Malformed as exc:
            field = exc.field.removeprefix("data.") or "data"
            raise AgencyError(Status.BAD_RESPONSE,
                              f"Réponse illisible : donnée « {field} » absente ou mal typée.") from None
        if response.headers.get("X-Response-Cached", "").strip().lower() != "true":
            return Status.OK, facts, "", as_of
        # The API answered from its own cache: say so, like our own cache does.
        provenance = Provenance(
            source=self.name, section=section, label=spec.spec.label, status=Status.OK,
            fetched_at=fetched_at, elapsed_ms=(time.perf_counter() - started) * 1000, as_of=as_of,
            message="Réponse tirée du cache d'API Particulier.", cached=True,
        )
        return SectionAnswer(provenance, facts)

    async def _health(self) -> None:
        response = await self._get(HEALTH_PATH, [("recipient", self.recipient), ("identifiant", HEALTH_IDENTIFIER)])
        # 404 is fine: the API answered and accepted the token.
        if response.status_code not in (200, 404):
            raise agency_error(response, "France Travail", "", self.clock)

    async def _get(self, path: str, params: list[tuple[str, str]], headers: dict | None = None):
        """One GET in the token's turn (at most ``requests_per_second``), unless the
        API asked to wait: then the remaining wait, without calling it."""
        response = await self.request("GET", path, params=params, headers=headers)
        if response.status_code == 429:
            self.hold(agency_error(response, "", "", self.clock).retry_in or 0.0)
        return response
