"""What every HTTP adapter shares: the client, the deadline, the fault mapping.

An adapter subclasses :class:`HttpBackend` and implements ``_fetch``; this
class turns every way an agency can fail — refused connection, timeout, slow
drip, an error status, a body too big, not UTF-8, not JSON — into a
:class:`~counter.backend.SectionAnswer` with a status and a French message.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, ClassVar, TypeVar

import httpx

from counter.backend import (
    BackendContext,
    Fact,
    Health,
    Provenance,
    SectionAnswer,
    SectionSpec,
    Status,
    Subject,
)
from backends.rate_limit import LineTooLong, RateLimiter
from counter.backend.deadlines import deadline
from counter.domain.text import shown

log = logging.getLogger("counter.backends")

MAX_BODY_BYTES = 2_000_000  # no agency answer about one person is bigger
EMULATED_BASE_URL = "http://emulated.invalid"
MAX_RETRY_IN = 86_400.0  # a wait an agency asks for, at most a day: beyond, a typo or a trap
MAX_QUOTED = 5  # field names an agency's refusal may put in our message
QUOTED_LENGTH = 40
MAX_REASON = 160  # an agency's own words for a refusal, in our message (the outbox keeps 300)

T = TypeVar("T")


class AgencyError(Exception):
    """A failure to report as a status; ``message`` is French, for the agent."""

    def __init__(self, status: Status, message: str, retry_in: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_in = retry_in


class Rejected(AgencyError):
    """The agency refused a write (400, 409, 422): a person must act, a retry will not help."""

    def __init__(self, message: str, http_status: int, code: str = "") -> None:
        super().__init__(Status.BAD_RESPONSE, message)
        self.http_status = http_status
        self.code = code


class HttpResponse:
    """A response read within the size cap, with its body decoded once."""

    def __init__(self, status_code: int, headers: httpx.Headers, body: bytes) -> None:
        self.status_code = status_code
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        try:
            text = self.body.decode("utf-8")
        except UnicodeDecodeError:
            raise AgencyError(Status.BAD_RESPONSE, "Réponse illisible : le texte n'est pas en UTF-8.") from None
        try:
            return json.loads(text, parse_constant=_not_json)
        except ValueError:
            raise AgencyError(Status.BAD_RESPONSE, "Réponse illisible : ce n'est pas du JSON valide.") from None
        except RecursionError:  # "[[[[…" thousands deep: the parser recurses
            raise AgencyError(Status.BAD_RESPONSE, "Réponse illisible : JSON imbriqué trop profondément.") from None


class HttpBackend:
    kind: ClassVar[str]
    label: ClassVar[str]
    SECTIONS: ClassVar[tuple[SectionSpec, ...]]
    needs_secret: ClassVar[bool] = True
    # French: a request not sent because the agency asked to wait (see hold()).
    HELD_MESSAGE: ClassVar[str] = "Demande non envoyée : la source a demandé d'attendre (trop de demandes)."

    def __init__(self, context: BackendContext) -> None:
        self.name = context.name
        self.settings = context.settings
        self.timeout = float(context.settings.timeout)
        self.training = context.training
        self.secret = context.secret
        self.secret_unreadable = context.secret_unreadable
        self.clock = context.clock
        # One limiter per credential (this backend's): the service is the only
        # process sending with it. None: the agency sets no limit we know of.
        per_second = getattr(context.settings, "requests_per_second", None)
        self.limiter = RateLimiter(per_second) if per_second else None
        # After a 429: no request before this time (self.clock), for any section.
        self._held_until: float | None = None
        self._client = httpx.AsyncClient(
            base_url=context.settings.base_url or EMULATED_BASE_URL,
            transport=context.transport,
            timeout=httpx.Timeout(self.timeout),
            headers=self.auth_headers(),
            follow_redirects=False,
        )

    # -- for subclasses ---------------------------------------------------------

    def auth_headers(self) -> dict[str, str]:
        return {}

    async def _fetch(
        self, section: str, subject: Subject, refresh: bool
    ) -> tuple[Status, tuple[Fact, ...], str, date | None] | SectionAnswer:
        """(status, facts, French message, the agency's "as of" date), or a
        ready SectionAnswer (a cached one); raise AgencyError for a failure."""
        raise NotImplementedError

    async def _health(self) -> None:
        """Raise AgencyError unless the agency answers and accepts our credentials."""
        raise NotImplementedError

    def _no_secret_message(self) -> str:
        if self.secret_unreadable:
            return ("Trousseau de clés illisible au démarrage : l'identifiant de cette source n'a pas pu être lu. "
                    "Prévenir l'administrateur (« counter credentials check »).")
        return f"Aucun identifiant enregistré : un administrateur doit lancer « counter credentials set {self.name} »."

    async def _bounded(self, work: Awaitable[T]) -> T:
        """Outside fetch(), the same rules: a stored secret and one deadline."""
        if self.missing_secret():
            raise AgencyError(Status.UNAUTHORIZED, self._no_secret_message())
        try:
            async with deadline(self.timeout):
                return await work
        except TimeoutError:
            raise AgencyError(Status.TIMEOUT, f"Pas de réponse en {self.timeout:g} s.") from None

    def hold(self, seconds: float) -> None:
        """The agency asked to wait (a 429): nothing is sent for ``seconds``, whatever the section."""
        self._held_until = max(self._held_until or 0.0, self.clock() + seconds)

    def check_hold(self) -> None:
        """Raise the held answer, with the remaining wait, while the agency's wait lasts."""
        if self._held_until is None:
            return
        now = self.clock()
        if now < self._held_until:
            raise AgencyError(Status.RATE_LIMITED, self.HELD_MESSAGE, self._held_until - now)
        self._held_until = None

    async def _take_turn(self) -> None:
        """Wait for the credential's turn; then the agency's own wait, if it gave one meanwhile."""
        self.check_hold()
        if self.limiter is None:
            return
        try:
            await self.limiter.acquire()
        except LineTooLong as exc:
            raise AgencyError(Status.RATE_LIMITED,
                              f"Trop de demandes en attente pour {self.label} : réessayer un peu plus tard.",
                              exc.retry_in) from None
        self.check_hold()

    async def request(
        self, method: str, path: str, *, params: Any = None, json_body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> HttpResponse:
        """One HTTP exchange with the body capped, in the credential's turn; transport
        failures become AgencyError."""
        await self._take_turn()
        try:
            async with self._client.stream(method, path, params=params, json=json_body, headers=headers) as response:
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_BODY_BYTES:
                        raise AgencyError(Status.BAD_RESPONSE, "Réponse refusée : beaucoup trop volumineuse.")
                return HttpResponse(response.status_code, response.headers, bytes(body))
        except httpx.TimeoutException:
            raise AgencyError(Status.TIMEOUT, "La source n'a pas répondu dans le délai.") from None
        except httpx.TransportError:
            raise AgencyError(Status.UNAVAILABLE, "Source injoignable (connexion impossible ou interrompue).") from None

    # -- the protocol ---------------------------------------------------------------

    def sections(self) -> tuple[SectionSpec, ...]:
        return self.SECTIONS

    def section_label(self, section: str) -> str:
        return next((s.label for s in self.SECTIONS if s.key == section), section)

    def missing_secret(self) -> bool:
        return self.needs_secret and not self.training and not self.secret

    async def fetch(self, section: str, subject: Subject, *, refresh: bool = False) -> SectionAnswer:
        fetched_at = datetime.now(UTC)
        started = time.perf_counter()
        retry_in = None
        facts: tuple[Fact, ...] = ()
        as_of = None
        if self.missing_secret():
            status, message = Status.UNAUTHORIZED, self._no_secret_message()
        else:
            try:
                # The deadline covers the whole exchange: a slow drip cannot hold the dossier.
                # (Not counting the time in line behind the credential's rate limit.)
                async with deadline(self.timeout):
                    result = await self._fetch(section, subject, refresh)
                if isinstance(result, SectionAnswer):
                    return result
                status, facts, message, as_of = result
            except (TimeoutError, asyncio.TimeoutError):
                status, message = Status.TIMEOUT, f"Pas de réponse en {self.timeout:g} s."
            except AgencyError as exc:
                status, message, retry_in = exc.status, exc.message, exc.retry_in
            except Exception:  # noqa: BLE001 — an adapter bug must not take the dossier down
                log.exception("backend %s failed on section %s", self.name, section)
                status, message = Status.BAD_RESPONSE, "Réponse inattendue de la source."
        provenance = Provenance(
            source=self.name, section=section, label=self.section_label(section), status=status,
            fetched_at=fetched_at, elapsed_ms=(time.perf_counter() - started) * 1000,
            as_of=as_of, message=message, retry_in=retry_in,
        )
        return SectionAnswer(provenance, facts if status is Status.OK else ())

    async def health(self) -> Health:
        started = time.perf_counter()
        if self.missing_secret():
            if self.secret_unreadable:
                return Health(self.name, Status.UNAUTHORIZED, 0.0, "keyring unreadable: see the 'keyring' line")
            return Health(self.name, Status.UNAUTHORIZED, 0.0,
                          f"no credential stored: run 'counter credentials set {self.name}'")
        try:
            async with deadline(self.timeout):
                await self._health()
        except (TimeoutError, asyncio.TimeoutError):
            return Health(self.name, Status.TIMEOUT, (time.perf_counter() - started) * 1000, "no answer in time")
        except AgencyError as exc:
            return Health(self.name, exc.status, (time.perf_counter() - started) * 1000, exc.message)
        return Health(self.name, Status.OK, (time.perf_counter() - started) * 1000, "")

    async def aclose(self) -> None:
        await self._client.aclose()


def _not_json(constant: str) -> Any:
    # json.loads accepts NaN and Infinity, which JSON does not have.
    raise ValueError(f"{constant} is not JSON")


def quoted_fields(names: list[str]) -> str:
    """Field names an agency gave, for a French message: made safe, a few, each short."""
    safe = list(dict.fromkeys(shown(name, QUOTED_LENGTH) for name in names))
    more = len(safe) - MAX_QUOTED
    return ", ".join(safe[:MAX_QUOTED]) + (f" et {more} autre{'s' if more > 1 else ''}" if more > 0 else "")


def agency_reason(value: Any) -> str:
    """An agency's own words for a refusal, for our message: one line of plain
    text (controls made visible), at most MAX_REASON characters; "" when absent."""
    if not isinstance(value, str):
        return ""
    return shown(" ".join(value.split()), MAX_REASON)


def _seconds(value: Any) -> float | None:
    """A wait in seconds, if it is one: finite, not negative, at most a day."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        return None
    return min(float(value), MAX_RETRY_IN)


def parse_date(value: Any) -> date | None:
    """An ISO date from an agency, or None when absent or not a date."""
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def retry_after(headers: httpx.Headers, body: Any = None) -> float | None:
    """Seconds to wait: the error's ``meta.retry_in``, else ``RateLimit-Reset``, else ``Retry-After``."""
    try:
        for error in (body or {}).get("errors", []):
            value = _seconds((error.get("meta") or {}).get("retry_in"))
            if value is not None:
                return value
    except (AttributeError, TypeError):
        pass
    for header in ("RateLimit-Reset", "Retry-After"):
        value = headers.get(header)
        if value is not None:
            try:
                number = float(value)
            except ValueError:
                continue
            if math.isfinite(number):
                # RateLimit-Reset may be a timestamp (read by the caller): not capped here.
                return max(0.0, number)
    return None


def error_body(response: HttpResponse) -> dict:
    """An error answer's JSON object; {} when it is not one."""
    try:
        body = response.json()
    except AgencyError:
        return {}
    return body if isinstance(body, dict) else {}


def _always(body: dict) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class StatusErrors:
    """An agency's error statuses as AgencyErrors, in French.

    ``name`` is the messages' subject ("Koha"); ``in_maintenance`` reads a 503's
    error body and tells planned maintenance from a failure.
    """

    name: str
    unauthorized: str
    not_found: str
    in_maintenance: Callable[[dict], bool] = _always

    def raise_for(self, response: HttpResponse, *, search: bool = False) -> None:
        """Return for a success status; raise the AgencyError any other stands for.

        ``search``: the request was a search or an API-wide route, which finds
        nobody with an empty list, never a 404 — a 404 there means no such API
        at the configured address, not an unknown person.
        """
        code = response.status_code
        if code < 300:
            return
        if code in (401, 403):
            raise AgencyError(Status.UNAUTHORIZED, self.unauthorized)
        if code == 404 and search:
            raise AgencyError(Status.UNAVAILABLE, f"{self.name} ne répond pas à l'adresse configurée (erreur 404) : "
                                                  "prévenir l'administrateur.")
        if code == 404:
            raise AgencyError(Status.NOT_FOUND, self.not_found)
        if code == 429:
            # The wait, when the agency gives one, is the status line's (one figure on the screen).
            raise AgencyError(Status.RATE_LIMITED, f"{self.name} limite les demandes : attendre avant de réessayer.",
                              retry_after(response.headers))
        if code == 503 and self.in_maintenance(error_body(response)):
            raise AgencyError(Status.UNAVAILABLE, f"{self.name} est en maintenance.")
        if code >= 500:
            raise AgencyError(Status.UNAVAILABLE, f"{self.name} est en panne (erreur {code}).")
        raise AgencyError(Status.BAD_RESPONSE, f"{self.name} a refusé la demande (erreur {code}).")
