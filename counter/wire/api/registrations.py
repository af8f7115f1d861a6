"""Confirmed registrations: find, read, cancel (supervisors; the service checks)."""

from __future__ import annotations

from dataclasses import dataclass

from counter.domain.registrations import CancelResult, RegistrationDetail, RegistrationView
from counter.wire.endpoints import endpoint


@dataclass(frozen=True, slots=True)
class RegistrationSearchArgs:
    text: str  # a visit code (RCP-…) or words of a name


@dataclass(frozen=True, slots=True)
class RegistrationIdArgs:
    registration_id: int


@dataclass(frozen=True, slots=True)
class CancelRegistrationArgs:
    registration_id: int
    reason: str


REGISTRATIONS_SEARCH = endpoint("registrations.search", RegistrationSearchArgs, list[RegistrationView])
REGISTRATION_DETAIL = endpoint("registrations.detail", RegistrationIdArgs, RegistrationDetail)
REGISTRATION_CANCEL = endpoint("registrations.cancel", CancelRegistrationArgs, CancelResult)
