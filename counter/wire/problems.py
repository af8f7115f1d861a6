"""A refusal or failure as the service says it, and the HTTP status it travels with."""

from __future__ import annotations

from dataclasses import dataclass

# code -> HTTP status
STATUS = {
    "bad_request": 400,   # the body is not what the endpoint takes (a client bug)
    "unknown_agent": 401,  # the peer's account is not an active agent of this counter
    "forbidden": 403,     # the agent's role does not allow it (audited)
    "not_found": 404,
    "refused": 409,       # a rule of the counter says no; ``message`` says why
    "protocol": 426,      # client and service speak different protocol versions
    "internal": 500,      # a fault in the service, logged there
    "unavailable": 503,   # the service cannot reach its database
}


@dataclass(frozen=True, slots=True)
class Problem:
    code: str
    message: str  # French, for the agent's screen
    english: str = ""  # for the administrators' commands; empty: say ``message``
    field: str | None = None  # the form field a refusal is about, when there is one

    @property
    def status(self) -> int:
        return STATUS.get(self.code, 500)
