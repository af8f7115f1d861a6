"""API Particulier error answers → statuses with French messages for the agent.

The error body is ``{"errors": [{"code", "title", "detail", "source", "meta":
{"provider", "retry_in"}}]}``. Only codes and the provider's name are read:
titles and details are never shown nor logged (the API may echo parameters).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from backends.http import MAX_RETRY_IN, AgencyError, HttpResponse, error_body, retry_after
from counter.backend import Status
from counter.domain.facts_text import delay

# Codes the API uses when the data provider did not answer in time.
TIMEOUT_CODES = frozenset({"37001", "37002", "37004", "37008", "00501"})
TOKEN_PROBLEMS = {"00103": "expiré", "00105": "révoqué"}
# The providers' names as the API gives them → as an agent knows them.
PROVIDER_NAMES = {"CNAF": "CAF", "MSA": "MSA", "CNAF & MSA": "CAF/MSA", "CNAV": "CNAV",
                  "France Travail": "France Travail", "MEN": "Éducation nationale"}
# The API's request windows are one minute long: the wait when it says nothing.
DEFAULT_RATE_LIMIT_WAIT = 60.0
_EPOCH_THRESHOLD = 1e9  # RateLimit-Reset is documented as a timestamp; some proxies send seconds
RATE_LIMITED_MESSAGE = ("Trop de demandes envoyées à API Particulier avec le jeton de la mairie : "
                        "plus aucune n'est envoyée avant la fin du délai.")
HELD_MESSAGE = ("Demande non envoyée : API Particulier a demandé d'attendre "
                "(trop de demandes avec le jeton de la mairie).")


def _errors(body: Any) -> list[dict]:
    errors = body.get("errors") if isinstance(body, dict) else None
    return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


def _codes(errors: list[dict]) -> set[str]:
    return {str(e.get("code")) for e in errors if isinstance(e.get("code"), str | int)}


def _provider(errors: list[dict], default: str) -> str:
    for error in errors:
        meta = error.get("meta")
        name = meta.get("provider") if isinstance(meta, dict) else None
        if name in PROVIDER_NAMES:
            return PROVIDER_NAMES[name]
    return default


def _wait(response: HttpResponse, body: Any, now: Callable[[], float]) -> float | None:
    seconds = retry_after(response.headers, body if isinstance(body, dict) else None)
    if seconds is not None and seconds > _EPOCH_THRESHOLD:
        seconds = max(0.0, seconds - now())
    return None if seconds is None else min(seconds, MAX_RETRY_IN)


def agency_error(response: HttpResponse, provider: str, not_found: str,
                 now: Callable[[], float] = time.time) -> AgencyError:
    """The AgencyError an error response stands for.

    ``provider`` names the section's usual data provider (for messages);
    ``not_found`` is the section's French message for a 404; ``now`` turns a
    ``RateLimit-Reset`` timestamp into seconds.
    """
    body = error_body(response)  # {} for an error page that is not JSON: the status alone decides
    errors = _errors(body)
    codes = _codes(errors)
    status = response.status_code
    who = _provider(errors, provider)
    if status == 401:
        problem = next((word for code, word in TOKEN_PROBLEMS.items() if code in codes), "invalide")
        return AgencyError(Status.UNAUTHORIZED,
                           f"Jeton API Particulier {problem} : prévenir l'administrateur.")
    if status == 403:
        return AgencyError(Status.UNAUTHORIZED,
                           "Droits insuffisants pour cette donnée (habilitation API Particulier) : "
                           "prévenir l'administrateur.")
    if status == 404:
        return AgencyError(Status.NOT_FOUND, not_found)
    if status == 409:
        return AgencyError(Status.UNAVAILABLE,
                           "Une demande identique est déjà en cours : réessayer dans quelques secondes.",
                           _wait(response, body, now))
    if status == 422:
        return AgencyError(Status.BAD_RESPONSE,
                           "API Particulier a refusé l'identité envoyée comme incomplète ou mal formée : "
                           "vérifier nom, prénoms, sexe et date de naissance de la fiche.")
    if status == 429:
        wait = _wait(response, body, now)
        wait = DEFAULT_RATE_LIMIT_WAIT if wait is None else wait
        # The wait itself is on the status line: one figure, one rounding.
        return AgencyError(Status.RATE_LIMITED, RATE_LIMITED_MESSAGE, wait)
    if status == 504 or (status >= 500 and codes & TIMEOUT_CODES):
        wait = _wait(response, body, now)
        later = f"réessayer dans {delay(wait)}" if wait is not None else "réessayer plus tard"
        return AgencyError(Status.TIMEOUT, f"Le fournisseur de données ({who}) n'a pas répondu à temps : {later}.",
                           wait)
    if status == 502:
        return AgencyError(Status.UNAVAILABLE,
                           f"Le fournisseur de données ({who}) a renvoyé une erreur : réessayer plus tard.")
    if status >= 500:
        return AgencyError(Status.UNAVAILABLE, "API Particulier est indisponible : réessayer plus tard.",
                           _wait(response, body, now))
    return AgencyError(Status.BAD_RESPONSE, f"Réponse inattendue d'API Particulier (code HTTP {status}).")
