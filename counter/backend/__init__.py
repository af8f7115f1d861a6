"""What an agency backend can do; the shape of everything it answers is
counter.domain.facts, named here too.

The core defines the protocol; adapters live in ``backends/`` and are found
through the ``counter.backends`` entry-point group (see counter.registry).
Every answer carries its provenance — source, section, status, when it was
fetched, the agency's own "as of" date — and a backend never raises for an
agency's failure: a failure is a status with a French message.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

# The answers' shapes are the domain's plain data (counter.domain.facts); the
# protocol's users (adapters, emulators, services) import them from here too.
from counter.domain.facts import (  # noqa: F401
    STATUS_LABELS, CrecheSituation, EajeInputs, Fact, Family, FamilyMember, Health, HealthCover, Identity,
    JobSeeker, LibraryCard, PostalAddress, Provenance, QuotientFamilial, Schooling, SectionAnswer, SectionRef,
    SectionSpec, Status, Subject
)

if TYPE_CHECKING:
    import httpx


# -- the protocol ------------------------------------------------------------------


@runtime_checkable
class Backend(Protocol):
    """One configured agency connection."""

    name: str  # from the configuration: [backends.NAME]
    kind: str  # the plugin: api_particulier, koha, city…
    label: str  # French, e.g. "API Particulier"
    timeout: float  # seconds: the deadline of one section

    def sections(self) -> tuple[SectionSpec, ...]: ...

    async def fetch(self, section: str, subject: Subject, *, refresh: bool = False) -> SectionAnswer:
        """Ask for one section; ``refresh`` bypasses any cache. Never raises for
        the agency's failures: they come back as a status."""

    async def health(self) -> Health: ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True)
class BackendContext:
    """What the core hands a plugin to build a backend."""

    name: str
    settings: Any  # the plugin's validated settings model
    secret: str | None  # from the keyring; None in training
    transport: httpx.AsyncBaseTransport | None = None  # an emulator in-process, or None
    training: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)
    # The keyring failed when the secrets were read: a missing secret is then
    # not the administrator forgetting `credentials set`.
    secret_unreadable: bool = False
    # Seconds since the epoch: when an agency's "retry after" ends (tests move it).
    clock: Callable[[], float] = time.time


class BackendPlugin(Protocol):
    """What the ``counter.backends`` entry point names."""

    kind: str
    label: str
    needs_secret: bool
    Settings: type  # pydantic model, subclass of counter.backend.settings.BackendSettings

    def create(self, context: BackendContext) -> Backend: ...
