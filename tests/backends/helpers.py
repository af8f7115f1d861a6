"""What the agency adapter tests share: identities and subjects from the
town's rows, backends built from their plugin on a transport, faults."""

from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import date

import httpx
import pytest

from counter import registry
from counter.backend import BackendContext, Identity, Status, Subject
from counter.domain.dates import BirthDate
from counter.domain.names import split_given_names
from counter.settings import EmulatorKnobs
from fixtures.emulators.plugin import emulated_transport

TODAY = date(2026, 11, 25)  # the day every test sees (tests/conftest.py)
RECIPIENT = "21459999900015"  # the town's SIRET, sent to API Particulier
# API Particulier's HTTP statuses in the staging payloads → the adapter's statuses.
STATUS_OF_HTTP = {
    200: Status.OK, 403: Status.UNAUTHORIZED, 404: Status.NOT_FOUND, 422: Status.BAD_RESPONSE,
    429: Status.RATE_LIMITED, 502: Status.UNAVAILABLE, 504: Status.TIMEOUT,
}


def identity_of(person: dict) -> Identity:
    """The identity the town's record gives a person."""
    return Identity(
        birth_name=person["birth_name"],
        given_names=tuple(split_given_names(person["given_names"])),
        sex=person["sex"],
        birth=BirthDate(person["birth_year"], person["birth_month"], person["birth_day"]),
        usage_name=person["usage_name"],
        birth_insee_code=person["birth_insee_code"],
        birth_country_code=person["birth_country_code"] or "99100",
        france_travail_id=person["france_travail_id"],
    )


def subject_of(person: dict, identity: Identity | None = None) -> Subject:
    return Subject(person_id=person["id"], identity=identity or identity_of(person), today=TODAY)


def make_backend(kind: str, transport: httpx.AsyncBaseTransport, *, secret: str | None = None,
                 training: bool = True, timeout: float = 5.0, clock=None, **settings):
    """A backend from the ``kind`` plugin, talking through ``transport``."""
    plugin = registry.load(kind)
    return plugin.create(BackendContext(
        name=kind, settings=plugin.Settings(kind=kind, timeout=timeout, **settings), secret=secret,
        transport=transport, training=training, **({"clock": clock} if clock else {}),
    ))


class Clock:
    """Seconds since the epoch that only move when a test says so."""

    def __init__(self, now: float = 1_800_000_010.0) -> None:  # 10 s into a minute
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@asynccontextmanager
async def open_backend(kind: str, *, knobs: EmulatorKnobs | None = None, token: str | None = None,
                       transport: httpx.AsyncBaseTransport | None = None, **options):
    """A backend on ``transport``, else on its emulator with ``knobs`` and ``token``; closed after."""
    backend = make_backend(kind, transport or emulated_transport(kind, knobs, token), **options)
    try:
        yield backend
    finally:
        await backend.aclose()


def api_particulier(transport: httpx.AsyncBaseTransport, **options):
    """An API Particulier backend for the town, with a 2 s deadline unless told."""
    return make_backend("api_particulier", transport, **({"recipient": RECIPIENT, "timeout": 2.0} | options))


async def token_answers(kind: str, section: str, subject: Subject):
    """(answer, health) with a wrong secret, then the answer with the right one, the emulator wanting "s3cret"."""
    async with open_backend(kind, token="s3cret", secret="wrong", training=False) as backend:
        refused = await backend.fetch(section, subject)
        health = await backend.health()
    async with open_backend(kind, token="s3cret", secret="s3cret", training=False) as backend:
        accepted = await backend.fetch(section, subject)
    return refused, health, accepted


# An HTTP status from Koha or the city → the adapter's status (a 404 on a search:
# the API is not at that address, not an unknown person).
FAULT_STATUSES = {
    401: Status.UNAUTHORIZED, 403: Status.UNAUTHORIZED, 404: Status.UNAVAILABLE, 409: Status.BAD_RESPONSE,
    422: Status.BAD_RESPONSE, 429: Status.RATE_LIMITED, 500: Status.UNAVAILABLE, 502: Status.UNAVAILABLE,
    503: Status.UNAVAILABLE, 504: Status.UNAVAILABLE,
}


def fault_matrix(*, missing: str, mistyped: str) -> list:
    """Every way an agency can fail, as its emulator's knobs produce it:
    (knobs, deadline, status, words of the message, whether health() fails the same way).

    ``missing`` and ``mistyped`` name a field of the agency's answer the adapter needs.
    """
    transport = [
        pytest.param(EmulatorKnobs(down=True), 5.0, Status.UNAVAILABLE, "injoignable", True, id="refused"),
        pytest.param(EmulatorKnobs(latency_ms=5000), 0.2, Status.TIMEOUT, "0.2 s", True, id="timeout"),
        pytest.param(EmulatorKnobs(drip_bytes_per_second=8), 0.2, Status.TIMEOUT, "0.2 s", True, id="slow-drip"),
    ]
    statuses = [
        pytest.param(EmulatorKnobs(error_status=code), 5.0, status, "", True, id=str(code))
        for code, status in FAULT_STATUSES.items()
    ]
    bodies = [
        pytest.param(EmulatorKnobs(malformed=True), 5.0, Status.BAD_RESPONSE, "pas du JSON", True, id="malformed"),
        pytest.param(EmulatorKnobs(huge_body=True), 5.0, Status.BAD_RESPONSE, "volumineuse", True, id="huge"),
        pytest.param(EmulatorKnobs(not_utf8=True), 5.0, Status.BAD_RESPONSE, "UTF-8", True, id="not-utf8"),
        # health() reads no person's fields: it still answers.
        pytest.param(EmulatorKnobs(drop_fields=[missing]), 5.0, Status.BAD_RESPONSE, f"« {missing} » absent",
                     False, id=f"missing-{missing}"),
        pytest.param(EmulatorKnobs(mistype_fields=[mistyped]), 5.0, Status.BAD_RESPONSE,
                     f"« {mistyped} » mal typé", False, id=f"mistyped-{mistyped}"),
    ]
    return transport + statuses + bodies
