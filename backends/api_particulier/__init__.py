"""API Particulier v3: the state's API that relays CAF/MSA, CNAV, France Travail
and Éducation nationale data to the town (quotient familial, C2S, crèche tariff
inputs, job-seeker status, schooling).

This module stays light (pydantic only): validating a configuration must not
import httpx. The adapter is in ``adapter.py``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from backends.plugin import Plugin
from counter.backend.settings import BackendSettings


def siret_problem(value: str) -> str | None:
    """Why ``value`` is not a SIRET (14 digits passing the Luhn check), or None."""
    if len(value) != 14 or not value.isascii() or not value.isdigit():
        return "must be the town's SIRET: 14 digits, e.g. recipient = \"21459999900015\""
    total = 0
    for index, char in enumerate(reversed(value)):
        digit = int(char) * (2 if index % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    if total % 10:
        return f"{value} is not a valid SIRET (check digit wrong): copy it from the town's INSEE notice"
    return None


class ApiParticulierSettings(BackendSettings):
    kind: Literal["api_particulier"]
    # The public body receiving the data — the town, never its software vendor.
    recipient: str
    # The API allows 20 requests a second per token and bans the town's address
    # for hours when its 429s are ignored: the service keeps under it.
    requests_per_second: int | None = Field(default=20, ge=1, le=1000)

    @field_validator("recipient")
    @classmethod
    def _siret(cls, value: str) -> str:
        compact = value.replace(" ", "")  # "214 599 999 00015" as printed on notices
        problem = siret_problem(compact)
        if problem:
            raise ValueError(problem)
        return compact


plugin = Plugin(
    kind="api_particulier",
    label="API Particulier",
    Settings=ApiParticulierSettings,
    adapter="backends.api_particulier.adapter:ApiParticulierBackend",
)
