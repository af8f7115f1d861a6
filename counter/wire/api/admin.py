"""The administrators' commands: agents, the audit trail, purge, exports, the outbox.

Who asks is the peer's account (the socket's credentials); each handler checks
the role the command needs, as the direct commands do. Files are written by the
client: exports arrive as a stream of rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from counter.domain.agents import AgentView
from counter.domain.outbox import OutboxView
from counter.wire.endpoints import NoArgs, endpoint

# -- agents -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AgentArgs:
    login: str


@dataclass(frozen=True, slots=True)
class AgentAddArgs:
    login: str
    role: str
    display_name: str = ""


AGENTS_LIST = endpoint("agents.list", NoArgs, list[AgentView])
AGENTS_ADD = endpoint("agents.add", AgentAddArgs, AgentView)
AGENTS_DISABLE = endpoint("agents.disable", AgentArgs, AgentView)
AGENTS_ENABLE = endpoint("agents.enable", AgentArgs, AgentView)
AGENTS_RESET_PIN = endpoint("agents.reset_pin", AgentArgs, None)

# -- the audit trail ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VerifyArgs:
    # Publish the head once the chain is found whole (not when heads published
    # elsewhere are to be compared first: AUDIT_AGAINST publishes then).
    publish: bool = True


@dataclass(frozen=True, slots=True)
class ChainReport:
    count: int  # entries verified (before the break, if any)
    broken: str = ""  # the first broken entry in words; "" when the chain is whole
    database: str = ""  # the database's identity, for reading the heads published elsewhere
    publish_problem: str = ""  # why the head could not be published (a warning)


@dataclass(frozen=True, slots=True)
class PublishedHead:
    seq: int
    hash: str


@dataclass(frozen=True, slots=True)
class AgainstArgs:
    """Heads published outside the database, sent in parts (a body is 1 MiB at most);
    the last part publishes the head once every part agreed."""

    heads: tuple[PublishedHead, ...]
    publish: bool = True


@dataclass(frozen=True, slots=True)
class AnchorReport:
    problem: str | None  # None: the chain holds every head given
    heads: int
    furthest: int
    publish_problem: str = ""


@dataclass(frozen=True, slots=True)
class AuditExportArgs:
    since: datetime  # aware, UTC


@dataclass(frozen=True, slots=True)
class AuditRow:
    """One entry of `audit export`, fields in the export's column order."""

    seq: int | None
    at: str
    agent: str
    host: str
    action: str
    target_type: str
    target_id: str
    details: str
    prev_hash: str | None
    hash: str | None


@dataclass(frozen=True, slots=True)
class PurgeArgs:
    # Durations (30d, 12w, 6m, 1y); None: the service's [retention] defaults.
    older_than: str | None = None
    drafts_older_than: str | None = None


@dataclass(frozen=True, slots=True)
class PurgeReport:
    audit_entries: int
    drafts: int
    cached: int


AUDIT_VERIFY = endpoint("audit.verify", VerifyArgs, ChainReport)
AUDIT_AGAINST = endpoint("audit.against", AgainstArgs, AnchorReport)
AUDIT_EXPORT = endpoint("audit.export", AuditExportArgs, AuditRow, stream=True)
PURGE = endpoint("purge", PurgeArgs, PurgeReport)

# -- exports for the town's services ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RegistrationsExportArgs:
    since: date
    format: str = "csv"  # recorded in the audit trail; the client writes the file


@dataclass(frozen=True, slots=True)
class RegistrationRow:
    """One registration of `export registrations`, fields in the export's column order."""

    registration_id: int
    created_at: str | None
    visit_code: str | None
    kind: str
    state: str
    person_id: int | None
    birth_name: str | None
    given_names: str | None
    birth_date: str | None
    school_year: int | None
    school_uai: str | None
    level: str | None
    creche_code: str | None
    rank: int | None
    rank_confirmed: bool | None
    delivery: str | None
    cancelled_at: str | None


REGISTRATIONS_EXPORT = endpoint("export.registrations", RegistrationsExportArgs, RegistrationRow, stream=True)

# -- the outbox -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OutboxListArgs:
    state: str | None = None


@dataclass(frozen=True, slots=True)
class OutboxRetryArgs:
    ids: tuple[int, ...] = ()
    refused: bool = False  # every refused message too


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    delivered: int
    retried: int
    refused: int
    problem: str = ""  # English: why delivering stopped early ("" when it went to the end)


OUTBOX_LIST = endpoint("outbox.list", OutboxListArgs, list[OutboxView])
OUTBOX_RETRY = endpoint("outbox.retry", OutboxRetryArgs, int)
OUTBOX_DELIVER = endpoint("outbox.deliver", NoArgs, DeliveryReport)
