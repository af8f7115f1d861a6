"""SQLModel tables of the town's own records.

Rows, not domain objects: services turn them into the frozen views of
:mod:`counter.domain.people` before a screen sees them.
"""

import enum
from datetime import UTC, date, datetime

from sqlalchemy import CheckConstraint, Column, Index, LargeBinary, String, UniqueConstraint, event, text
from sqlmodel import Field, SQLModel

from counter.store.audit_chain import chain_entries
from counter.store.indexing import fill_search_text, record_tokens


class Role(enum.StrEnum):
    """A person's role in a household."""

    PARENT = "parent"
    CHILD = "child"
    OTHER_GUARDIAN = "other_guardian"


class AgentRole(enum.StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    TRAINER = "trainer"


def _now() -> datetime:
    return datetime.now(UTC)


class Street(SQLModel, table=True):
    __tablename__ = "street"
    __table_args__ = (Index("ux_street_ban_key", "ban_key", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)  # "rue des Lilas"
    postal_code: str = Field(max_length=10)
    city: str = Field(max_length=80)
    # From the BAN (counter import addresses): its street key `<insee>_<voie>`, kept
    # across renames; a lieu-dit has no numbers; a street gone from the export is retired.
    ban_key: str | None = Field(default=None, max_length=40)
    insee_code: str | None = Field(default=None, max_length=5)
    lieu_dit: bool = False
    retired: bool = False


class TownAddress(SQLModel, table=True):
    """One numbered address of the town, from the Base Adresse Nationale: what
    address fields pick from (street, then number). Never deleted: an address gone
    from a newer export is marked retired (families may still live there)."""

    __tablename__ = "town_address"
    __table_args__ = (Index("ix_town_address_street", "street_id", "number"),
                      Index("ux_town_address_ban_id", "ban_id", unique=True))

    id: int | None = Field(default=None, primary_key=True)
    ban_id: str = Field(max_length=60)  # 45999_0150_00012_bis
    street_id: int = Field(foreign_key="street.id")
    number: int | None = None  # None: a lieu-dit without numbers
    suffix: str | None = Field(default=None, max_length=10)  # the BAN's rep: bis, ter, a…
    postal_code: str = Field(max_length=10)
    retired: bool = False


class Address(SQLModel, table=True):
    """A postal address: in the town (a street and a number) or elsewhere (free text)."""

    __tablename__ = "address"

    id: int | None = Field(default=None, primary_key=True)
    street_id: int | None = Field(default=None, foreign_key="street.id", index=True)
    number: int | None = None
    suffix: str | None = Field(default=None, max_length=10)  # bis, ter
    complement: str | None = Field(default=None, max_length=120)  # bâtiment, appartement
    line: str | None = Field(default=None, max_length=160)  # street line outside the town
    postal_code: str = Field(max_length=10)
    city: str = Field(max_length=80)
    ban_id: str | None = Field(default=None, max_length=60, index=True)  # the TownAddress picked


class Person(SQLModel, table=True):
    """A person as the town knows them, with the identity data agencies key on."""

    __tablename__ = "person"
    __table_args__ = (Index("ix_person_birth", "birth_year", "birth_month", "birth_day"),
                      Index("ux_person_source_id", "source_id", unique=True))

    id: int | None = Field(default=None, primary_key=True)
    birth_name: str = Field(max_length=120)
    usage_name: str | None = Field(default=None, max_length=120)
    given_names: str = Field(max_length=200)  # comma-separated, civil-status order
    sex: str = Field(max_length=1)  # M | F (sexe à l'état civil)
    birth_year: int
    birth_month: int | None = None
    birth_day: int | None = None
    birth_insee_code: str | None = Field(default=None, max_length=5)  # COG commune
    birth_country_code: str = Field(default="99100", max_length=5)  # COG pays, 99100 = France
    nir: str | None = Field(default=None, max_length=15, unique=True)
    phone: str | None = Field(default=None, max_length=30)
    email: str | None = Field(default=None, max_length=254)
    france_travail_id: str | None = Field(default=None, max_length=12, index=True)
    # The town's family system's id for this person (imports, change feed, deliveries).
    source_id: str | None = Field(default=None, max_length=40)
    removed_at: datetime | None = None  # removed from the family system (kept: visits refer to it)
    # Folded name tokens, maintained by counter.store.indexing; feeds the search index.
    search_text: str = Field(default="", sa_column=Column(String, nullable=False, default=""))


# Any ORM write of a person keeps its search tokens and the vocabulary current.
event.listen(Person, "before_insert", fill_search_text)
event.listen(Person, "before_update", fill_search_text)
event.listen(Person, "after_insert", record_tokens)
event.listen(Person, "after_update", record_tokens)


class Household(SQLModel, table=True):
    __tablename__ = "household"
    __table_args__ = (Index("ux_household_source_id", "source_id", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    address_id: int | None = Field(default=None, foreign_key="address.id", index=True)
    caf_number: str | None = Field(default=None, max_length=7, index=True)  # numéro allocataire
    source_id: str | None = Field(default=None, max_length=40)  # the family system's family id
    removed_at: datetime | None = None


class HouseholdMember(SQLModel, table=True):
    __tablename__ = "household_member"
    __table_args__ = (UniqueConstraint("household_id", "person_id"),)

    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(foreign_key="household.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    role: str = Field(max_length=20)  # Role
    # A member living elsewhere (a separated parent) has an address of their own.
    address_id: int | None = Field(default=None, foreign_key="address.id")


class School(SQLModel, table=True):
    __tablename__ = "school"

    id: int | None = Field(default=None, primary_key=True)
    uai: str = Field(max_length=8, unique=True)  # code UAI (RNE)
    name: str = Field(max_length=120)
    kind: str = Field(max_length=20)  # maternelle | elementaire | primaire
    address_id: int | None = Field(default=None, foreign_key="address.id")


class SchoolSector(SQLModel, table=True):
    __tablename__ = "school_sector"
    # Matched by name when the carte scolaire is imported again (counter import sectors).
    __table_args__ = (Index("ux_school_sector_name", "name", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80)
    maternelle_id: int | None = Field(default=None, foreign_key="school.id")
    elementaire_id: int | None = Field(default=None, foreign_key="school.id")


class SectorRule(SQLModel, table=True):
    """Street and number range → school sector (the carte scolaire)."""

    __tablename__ = "sector_rule"

    id: int | None = Field(default=None, primary_key=True)
    street_id: int = Field(foreign_key="street.id", index=True)
    number_from: int = 0
    number_to: int = 9999
    parity: str = Field(default="all", max_length=4)  # all | odd | even
    sector_id: int = Field(foreign_key="school_sector.id")


class Creche(SQLModel, table=True):
    __tablename__ = "creche"

    id: int | None = Field(default=None, primary_key=True)
    code: str | None = Field(default=None, max_length=20)  # its id in the town's family system
    name: str = Field(max_length=120)
    capacity: int
    address_id: int | None = Field(default=None, foreign_key="address.id")
    # The town's waiting list this crèche's applications join (synchronised from
    # the family system; crèches sharing one list have the same id) and its length.
    waiting_list: str | None = Field(default=None, max_length=20)
    waiting_list_length: int | None = None
    waiting_list_as_of: datetime | None = None


class LibraryBranch(SQLModel, table=True):
    __tablename__ = "library_branch"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=10, unique=True)  # Koha library_id
    name: str = Field(max_length=120)
    address_id: int | None = Field(default=None, foreign_key="address.id")


class Agent(SQLModel, table=True):
    """A counter agent, identified by their operating-system login."""

    __tablename__ = "agent"

    id: int | None = Field(default=None, primary_key=True)
    login: str = Field(max_length=64, unique=True)
    display_name: str = Field(default="", max_length=120)
    role: str = Field(default=AgentRole.AGENT.value, max_length=20)
    active: bool = True
    created_at: datetime = Field(default_factory=_now)
    # The unlock PIN (counter.domain.pins: scrypt, salted), set at first use.
    pin_hash: str | None = Field(default=None, max_length=200)
    pin_failures: int = 0
    pin_retry_at: datetime | None = None  # after repeated failures, no try before this
    locked: bool = False  # too many failures: a supervisor resets the PIN


class SearchToken(SQLModel, table=True):
    """The vocabulary of name tokens, with phonetic keys, for near matches."""

    __tablename__ = "search_token"

    token: str = Field(primary_key=True, max_length=120)
    phonetic: str = Field(max_length=120, index=True)


class SearchTokenDelete(SQLModel, table=True):
    """Delete-one variants of vocabulary tokens, for one-letter typos."""

    __tablename__ = "search_token_delete"

    variant: str = Field(primary_key=True, max_length=120)
    token: str = Field(primary_key=True, max_length=120)


class Visit(SQLModel, table=True):
    """One family's visit: a draft while the agent types, then confirmed once."""

    __tablename__ = "visit"

    id: int | None = Field(default=None, primary_key=True)
    code: str | None = Field(default=None, max_length=20, unique=True)  # the receipt's tracking code
    household_id: int | None = Field(default=None, foreign_key="household.id", index=True)
    person_id: int | None = Field(default=None, foreign_key="person.id")
    agent_login: str = Field(max_length=64, index=True)
    state: str = Field(default="draft", max_length=12)  # draft | confirmed | abandoned
    draft: str = Field(default="{}", sa_column=Column(String, nullable=False, default="{}"))  # JSON
    created_at: datetime = Field(default_factory=_now)
    updated_at: datetime = Field(default_factory=_now)
    confirmed_at: datetime | None = None
    # The receipt handed over (JSON, counter.domain.receipt), written with the confirmation.
    receipt: str | None = None
    # The front desk (migration 0010, docs/front-desk.md): where, the ticket it served,
    # when the family arrived (the ticket's issue), when the visit ended (its reasons
    # recorded), why they came (reason codes, comma-separated) and how it ended.
    site: str = Field(default="", max_length=40)
    ticket_id: int | None = None
    arrived_at: datetime | None = None
    ended_at: datetime | None = Field(default=None, index=True)
    reasons: str = Field(default="", max_length=200)
    outcome: str | None = Field(default=None, max_length=20)  # done | redirected | come_back
    outcome_detail: str | None = Field(default=None, max_length=120)  # where to, from a list: never a name


class Ticket(SQLModel, table=True):
    """A ticket the reception issued: its number on the site that day, why the family
    came, a need (language, accessibility), appointment or walk-in; called by an agent
    and served by a visit (migration 0010)."""

    __tablename__ = "ticket"
    __table_args__ = (UniqueConstraint("site", "day", "number", name="ux_ticket_number"),
                      Index("ix_ticket_state", "site", "state"))

    id: int | None = Field(default=None, primary_key=True)
    site: str = Field(max_length=40)
    day: date
    number: int
    issued_at: datetime = Field(default_factory=_now)
    issued_by: str = Field(max_length=64)
    reasons: str = Field(default="", max_length=200)  # reason codes, comma-separated
    need: str | None = Field(default=None, max_length=40)  # a need code (language, accessibility)
    appointment: bool = False
    state: str = Field(default="waiting", max_length=12)  # waiting | called | served | gone | expired
    called_at: datetime | None = None
    called_by: str | None = Field(default=None, max_length=64)
    visit_id: int | None = Field(default=None, foreign_key="visit.id")


class AgencyCall(SQLModel, table=True):
    """One answer an agency gave a dossier: for the supervisor's answer rates and
    latencies (migration 0010). No person, no subject: source, section, status, time."""

    __tablename__ = "agency_call"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=_now, index=True)
    site: str = Field(default="", max_length=40)
    source: str = Field(max_length=60)
    section: str = Field(max_length=60)
    status: str = Field(max_length=20)
    elapsed_ms: float
    cached: bool = False


class StatsDay(SQLModel, table=True):
    """The statistics' figures of one local day, kept once computed (migration 0011):
    what a year of visits and agency answers adds up to without reading them again.

    ``kind`` is ``visits`` or ``agency``; ``zone`` the time zone the day was cut in;
    ``data`` the day's tallies (msgpack, counter.services.stats_days). Triggers on
    ``visit`` and ``agency_call`` delete the days a write touches, so a row here is
    always what reading the day afresh would give."""

    __tablename__ = "stats_day"
    __table_args__ = (UniqueConstraint("day", "kind", "zone", name="ux_stats_day"),)

    id: int | None = Field(default=None, primary_key=True)
    day: date
    kind: str = Field(max_length=12)
    zone: str = Field(max_length=80)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class StatsGeneration(SQLModel, table=True):
    """Bumped by the same triggers at each write to the days' sources: a tally read
    before a write is not kept (counter.services.stats_days)."""

    __tablename__ = "stats_generation"

    kind: str = Field(primary_key=True, max_length=12)
    value: int = 0


# One live school registration per child and school year (see migration 0002).
_LIVE_SCHOOL = "kind = 'school' AND state != 'cancelled'"


class Registration(SQLModel, table=True):
    __tablename__ = "registration"
    __table_args__ = (
        Index("ix_registration_person", "person_id", "kind", "school_year"),
        Index("ix_registration_creche_waiting", "creche_id", "state"),
        Index("ux_registration_school_once", "person_id", "school_year", unique=True,
              sqlite_where=text(_LIVE_SCHOOL), postgresql_where=text(_LIVE_SCHOOL)),
    )

    id: int | None = Field(default=None, primary_key=True)
    visit_id: int = Field(foreign_key="visit.id", index=True)
    person_id: int | None = Field(default=None, foreign_key="person.id")  # None: an expected birth
    kind: str = Field(max_length=32)  # a kind of registration's id (counter.domain.kinds): school, creche…
    state: str = Field(max_length=24)  # registered | waiting_list | derogation_requested | to_deliver | cancelled
    school_year: int | None = None
    school_id: int | None = Field(default=None, foreign_key="school.id")
    level: str | None = Field(default=None, max_length=4)
    creche_id: int | None = Field(default=None, foreign_key="creche.id")  # first choice
    rank: int | None = None  # on the crèche waiting list, as the counter worked it out (provisional)
    town_rank: int | None = None  # the town's rank, once it received the application
    details: str = Field(default="{}", sa_column=Column(String, nullable=False, default="{}"))  # JSON
    price: str = Field(default="{}", sa_column=Column(String, nullable=False, default="{}"))  # JSON
    delivery: str = Field(default="pending", max_length=12)  # pending | delivered | refused
    external_ref: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=_now)
    cancelled_at: datetime | None = None
    cancelled_by: str | None = Field(default=None, max_length=64)
    cancel_reason: str | None = Field(default=None, max_length=300)


class SchoolCapacity(SQLModel, table=True):
    """Places per school, school year and level; ``booked`` moves inside the confirming transaction."""

    __tablename__ = "school_capacity"
    __table_args__ = (
        UniqueConstraint("school_id", "school_year", "level"),
        CheckConstraint("booked <= capacity", name="ck_school_capacity_not_overbooked"),
    )

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id")
    school_year: int
    level: str = Field(max_length=4)
    capacity: int
    booked: int = 0


class OutboxMessage(SQLModel, table=True):
    """A registration to deliver to its target system, retried until accepted or refused."""

    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    registration_id: int = Field(foreign_key="registration.id", index=True)
    target: str = Field(max_length=64)  # the backend's name
    operation: str = Field(max_length=32)  # city.registration | koha.patron
    payload: str = Field(sa_column=Column(String, nullable=False))  # JSON
    idempotency_key: str = Field(max_length=64, unique=True)
    state: str = Field(default="pending", max_length=12, index=True)  # pending | delivered | refused
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=_now)
    lease_until: datetime | None = None
    last_error: str | None = Field(default=None, max_length=300)  # French, for supervisors
    delivered_at: datetime | None = None
    external_ref: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=_now)


class AuditEntry(SQLModel, table=True):
    """Who did what: append-only, each entry chained to the one before
    (counter.store.audit_chain fills ``seq``, ``prev_hash`` and ``hash``)."""

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ux_audit_entry_seq", "seq", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=_now)
    agent: str = Field(max_length=64)
    host: str = Field(default="", max_length=120)
    action: str = Field(max_length=40)
    target_type: str = Field(default="", max_length=40)
    target_id: str = Field(default="", max_length=64)
    details: str = Field(default="{}", sa_column=Column(String, nullable=False, default="{}"))  # JSON, no personal data
    seq: int | None = None  # unique: ux_audit_entry_seq
    prev_hash: str | None = Field(default=None, max_length=64)
    hash: str | None = Field(default=None, max_length=64)


class AuditHead(SQLModel, table=True):
    """One row: the last entry of the audit chain (seq, hash), locked by each append."""

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True)
    seq: int = 0
    hash: str = Field(default="", max_length=64)


class SyncState(SQLModel, table=True):
    """One row per change feed pulled (``city.changes``): where the last pass stopped,
    when one last succeeded, and who holds the pass now (a lease, so that two
    services never run one at once and a dead one's lease runs out)."""

    __tablename__ = "sync_state"

    name: str = Field(primary_key=True, max_length=40)
    cursor: str | None = Field(default=None, max_length=200)
    last_success_at: datetime | None = None
    last_attempt_at: datetime | None = None
    last_error: str | None = Field(default=None, max_length=300)
    holder: str | None = Field(default=None, max_length=120)
    lease_until: datetime | None = None


class DuplicateReview(SQLModel, table=True):
    """A likely duplicate found by an import, a sync or at the counter, for a supervisor
    to merge or dismiss: never merged silently."""

    __tablename__ = "duplicate_review"
    __table_args__ = (Index("ux_duplicate_review_pair", "person_id", "candidate_id", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id")  # the newer record
    candidate_id: int = Field(foreign_key="person.id", index=True)  # the one it may duplicate
    reasons: str = Field(max_length=120)  # comma-separated: nir, name_birth, typo_birth_place
    source: str = Field(max_length=20)  # counter | import | sync | tour
    state: str = Field(default="pending", max_length=12, index=True)  # pending | merged | dismissed
    created_at: datetime = Field(default_factory=_now)
    decided_by: str | None = Field(default=None, max_length=64)
    decided_at: datetime | None = None


class TourApplied(SQLModel, table=True):
    """The town's database: one item a roaming bus sent back (docs/tour.md), written in the
    transaction that applied it; a key seen again is never applied twice."""

    __tablename__ = "tour_applied"
    __table_args__ = (Index("ix_tour_applied_bus", "bus", "kind"),)

    key: str = Field(primary_key=True, max_length=120)  # bus-1:household:12, bus-1:visit:RCP-7K3M-Q2XD
    bus: str = Field(max_length=20)
    kind: str = Field(max_length=20)  # household | person | visit | audit
    local_id: int  # the row's id on the bus (the audit entry's seq)
    central_id: int | None = None  # what it became here; None: refused or blocked
    outcome: str = Field(sa_column=Column(String, nullable=False))  # JSON (counter.services.tour_sync)
    applied_at: datetime = Field(default_factory=_now)


class TourSynced(SQLModel, table=True):
    """The bus's replica: what the town's database answered for one item sent back."""

    __tablename__ = "tour_synced"

    key: str = Field(primary_key=True, max_length=120)
    central_id: int | None = None
    outcome: str = Field(sa_column=Column(String, nullable=False))  # JSON, as in tour_applied
    synced_at: datetime = Field(default_factory=_now)


class TourDossier(SQLModel, table=True):
    """The bus's replica: one agency's answer for one person of a household with an
    appointment on the tour, fetched by ``counter tour prepare --appointments``
    (counter.services.tour_dossiers); shown on board when the agency cannot be reached."""

    __tablename__ = "tour_dossier"
    __table_args__ = (Index("ux_tour_dossier_section", "person_id", "source", "section", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int
    household_id: int  # the appointment's household
    source: str = Field(max_length=60)  # the backend's name
    section: str = Field(max_length=60)
    status: str = Field(max_length=20)  # ok | not_found
    fetched_at: datetime  # when the agency gave the answer
    stored_at: datetime = Field(default_factory=_now)  # when the prepare stored it: the age limit's start
    answer: str = Field(sa_column=Column(String, nullable=False))  # the SectionAnswer, JSON (counter.wire.codec)


class StoreMeta(SQLModel, table=True):
    """Facts about the database itself (``dataset``: training | production)."""

    __tablename__ = "store_meta"

    key: str = Field(primary_key=True, max_length=40)
    value: str = Field(max_length=200)


def _chain_new_audit_entries(session, _flush_context, _instances) -> None:
    """``before_flush``: every new audit entry takes its place in the hash chain."""
    entries = [obj for obj in session.new if isinstance(obj, AuditEntry) and obj.seq is None]
    if entries:
        chain_entries(session, entries)


def _chain_audit() -> None:
    from sqlalchemy.orm import Session as OrmSession

    if not event.contains(OrmSession, "before_flush", _chain_new_audit_entries):
        event.listen(OrmSession, "before_flush", _chain_new_audit_entries)


_chain_audit()
