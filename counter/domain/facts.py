"""What an agency answers, as plain data: the person asked about (``Subject``,
``Identity``), the facts (quotient familial, family, C2S, job seeker, crèche
tariff inputs, schooling, library card, crèche) and their provenance (source,
section, status, when, the agency's "as of", French message).

The domain's own types: the dossier, the merge and the facts' wording use them
without knowing any backend. ``counter.backend`` (the protocol adapters
implement) hands them on to the adapters.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import ClassVar

from counter.domain.dates import BirthDate
from counter.domain.people import HouseholdView  # a Subject's field: resolved when it crosses the wire


class Status(enum.StrEnum):
    OK = "ok"
    NOT_FOUND = "not_found"
    UNAVAILABLE = "unavailable"
    TIMEOUT = "timeout"
    UNAUTHORIZED = "unauthorized"
    RATE_LIMITED = "rate_limited"
    BAD_RESPONSE = "bad_response"
    NOT_APPLICABLE = "not_applicable"


STATUS_LABELS: Mapping[Status, str] = {
    Status.OK: "a répondu",
    Status.NOT_FOUND: "personne inconnue de la source",
    Status.UNAVAILABLE: "source indisponible",
    Status.TIMEOUT: "délai dépassé",
    Status.UNAUTHORIZED: "accès refusé",
    Status.RATE_LIMITED: "trop de demandes",
    Status.BAD_RESPONSE: "réponse illisible",
    Status.NOT_APPLICABLE: "sans objet",
}
# Instead of the status's label, for a section the roaming bus could not reach offline.
OFFLINE_LABEL = "indisponible hors ligne"


# -- who is asked about ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Identity:
    """The identity data agencies key on, exactly as the town records it."""

    birth_name: str
    given_names: tuple[str, ...]
    sex: str  # M | F
    birth: BirthDate
    usage_name: str | None = None
    birth_insee_code: str | None = None
    birth_country_code: str = "99100"
    france_travail_id: str | None = None


@dataclass(frozen=True, slots=True)
class Subject:
    """The person a dossier is about, with the town's view of their household.

    ``members`` gives every household member's role and identity (the subject
    included), so that a household-level question (quotient familial, crèche
    tariff inputs) can be asked about the allocataire when the subject is a child.
    """

    person_id: int
    identity: Identity
    today: date
    role: str | None = None
    household: HouseholdView | None = None
    members: tuple[tuple[str, Identity], ...] = ()

    def adults(self) -> list[Identity]:
        return [identity for role, identity in self.members if role in ("parent", "other_guardian")]


# -- what comes back -------------------------------------------------------------


class Fact:
    """Base of every fact a section can carry."""

    kind: ClassVar[str] = "fact"


@dataclass(frozen=True, slots=True)
class PostalAddress(Fact):
    kind: ClassVar[str] = "address"
    street_line: str
    postal_code: str = ""
    city: str = ""
    complement: str | None = None
    country: str | None = None


@dataclass(frozen=True, slots=True)
class FamilyMember:
    birth_name: str
    given_names: str
    birth_date: date | None = None
    sex: str | None = None
    usage_name: str | None = None


@dataclass(frozen=True, slots=True)
class Family(Fact):
    """A family as an agency knows it (CAF/MSA allocataires and children)."""

    kind: ClassVar[str] = "family"
    adults: tuple[FamilyMember, ...] = ()
    children: tuple[FamilyMember, ...] = ()
    address: PostalAddress | None = None


@dataclass(frozen=True, slots=True)
class QuotientFamilial(Fact):
    kind: ClassVar[str] = "quotient_familial"
    value: int
    provider: str  # CNAF | MSA
    year: int | None = None  # the month the value is for
    month: int | None = None


@dataclass(frozen=True, slots=True)
class HealthCover(Fact):
    """Complémentaire santé solidaire (C2S)."""

    kind: ClassVar[str] = "health_cover"
    beneficiary: bool
    with_participation: bool | None = None
    since: date | None = None


@dataclass(frozen=True, slots=True)
class JobSeeker(Fact):
    kind: ClassVar[str] = "job_seeker"
    registered: bool
    since: date | None = None
    until: date | None = None
    category: str | None = None
    address: PostalAddress | None = None


@dataclass(frozen=True, slots=True)
class EajeInputs(Fact):
    """The inputs of the crèche tariff (participation familiale EAJE)."""

    kind: ClassVar[str] = "eaje_inputs"
    children_in_charge: int
    aeeh_children: int
    annual_resources: int | None = None
    resources_year: int | None = None


@dataclass(frozen=True, slots=True)
class Schooling(Fact):
    kind: ClassVar[str] = "schooling"
    enrolled: bool
    school_name: str | None = None
    uai: str | None = None
    school_year: str | None = None  # "2025-2026"
    level: str | None = None  # TPS…CM2 or the ministry's label
    status: str | None = None  # French: "Scolaire", "Apprenti"…, "inscription à confirmer"
    scholarship: bool | None = None
    scholarship_level: int | None = None


@dataclass(frozen=True, slots=True)
class LibraryCard(Fact):
    kind: ClassVar[str] = "library_card"
    card_number: str
    category: str
    expiry: date | None = None
    checkouts: int = 0
    overdues: int = 0
    library: str | None = None
    restricted: bool = False
    patron_id: int | None = None


@dataclass(frozen=True, slots=True)
class CrecheSituation(Fact):
    kind: ClassVar[str] = "creche"
    state: str  # placed | waiting | none
    creche: str | None = None
    since: date | None = None
    rank: int | None = None


@dataclass(frozen=True, slots=True)
class Provenance:
    source: str  # the backend's name in the configuration
    section: str  # the section key, e.g. "quotient_familial"
    label: str  # French, e.g. "Quotient familial (CAF/MSA)"
    status: Status
    fetched_at: datetime
    elapsed_ms: float = 0.0
    as_of: date | None = None  # the agency's own date for the data
    message: str = ""  # French, for the agent
    cached: bool = False  # answered from a cache: ``fetched_at`` is when the agency answered
    retry_in: float | None = None  # seconds, when rate limited
    # The roaming bus's link to the town was down and the agency could not be reached.
    offline: bool = False


@dataclass(frozen=True, slots=True)
class SectionAnswer:
    provenance: Provenance
    facts: tuple[Fact, ...] = ()

    @property
    def ok(self) -> bool:
        return self.provenance.status is Status.OK

    def first(self, kind: type[Fact]) -> Fact | None:
        return next((f for f in self.facts if isinstance(f, kind)), None)


@dataclass(frozen=True, slots=True)
class SectionSpec:
    key: str
    label: str  # French


@dataclass(frozen=True, slots=True)
class SectionRef:
    """One section of one configured source, as the dossier lists it."""

    source: str  # the backend's name in the configuration
    section: str
    label: str  # French, the section's
    source_label: str  # French, the backend's


@dataclass(frozen=True, slots=True)
class Health:
    source: str
    status: Status
    elapsed_ms: float = 0.0
    message: str = ""
