"""A visit: started, opened, each change saved and answered with its summary,
the agencies' answers, the confirmation and its receipt, printing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from counter.domain.receipt import PrintResult, Receipt, ReceiptFiles
from counter.domain.visit_context import VisitContext
from counter.domain.visit_summary import Summary, VisitFacts
from counter.domain.kinds import all_kinds
from counter.domain.visits import FieldError, Request, VisitDraft
from counter.wire import codec
from counter.wire.endpoints import NoArgs, endpoint

# A draft's requests cross tagged with their kind's id (every installed kind: counter.registrations).
codec.polymorphic(Request, {kind.id: kind.request_type for kind in all_kinds()})


@dataclass(frozen=True, slots=True)
class StartArgs:
    household_id: int | None = None
    person_id: int | None = None  # a person without a household


VISIT_START = endpoint("visit.start", StartArgs, int)  # the new visit's id


@dataclass(frozen=True, slots=True)
class VisitArgs:
    visit_id: int


@dataclass(frozen=True)
class OpenedVisit:
    state: str  # draft | confirmed | abandoned
    draft: VisitDraft
    context: VisitContext


VISIT_OPEN = endpoint("visit.open", VisitArgs, OpenedVisit)


@dataclass(frozen=True)
class DraftInfo:
    """An unfinished visit of the agent's, offered back at start."""

    visit_id: int
    household_id: int | None
    saved_at: datetime  # UTC
    requests: int


VISIT_DRAFTS = endpoint("visit.drafts", NoArgs, tuple[DraftInfo, ...])
VISIT_ABANDON = endpoint("visit.abandon", VisitArgs, None)


@dataclass(frozen=True)
class DraftArgs:
    visit_id: int
    draft: VisitDraft  # its revision numbers the agent's changes


@dataclass(frozen=True)
class Saved:
    """The service's answer to a save: the draft sent is safe (or a newer one
    was), and what it comes to — priced with the agencies' answers so far."""

    revision: int
    summary: Summary
    errors: tuple[tuple[int, FieldError], ...]  # (request index, error) — the rules the forms apply
    facts: VisitFacts  # pending: still asked, or asked again after a restart of the service


VISIT_SAVE = endpoint("visit.save", DraftArgs, Saved)
# The agencies asked once per visit (the consultation audited, « visite »); blocks until they answer.
VISIT_FACTS = endpoint("visit.facts", VisitArgs, VisitFacts)


@dataclass(frozen=True)
class Confirmed:
    receipt: Receipt
    files: ReceiptFiles | None  # None: the receipts' directory could not be written
    already: bool = False  # confirmed before (the answer was lost): the same code, the same receipt


# The draft as the agent read it back; one transaction; a visit is never confirmed twice.
VISIT_CONFIRM = endpoint("visit.confirm", DraftArgs, Confirmed)


@dataclass(frozen=True, slots=True)
class ReceiptArgs:
    code: str


# Written again if its files are missing, then sent to the site's printer by the service.
RECEIPT_PRINT = endpoint("receipt.print", ReceiptArgs, PrintResult)
