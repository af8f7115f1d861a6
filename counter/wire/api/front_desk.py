"""The front desk: tickets issued, called, the waiting list, the room's display, and
the end of every visit (its reasons and outcome)."""

from __future__ import annotations

from dataclasses import dataclass

from counter.domain.front_desk import Called, DisplayView, Issued, QueueView, VisitEnd
from counter.wire.endpoints import NoArgs, endpoint


@dataclass(frozen=True, slots=True)
class IssueArgs:
    reasons: tuple[str, ...]  # reason codes of the site's list
    need: str | None = None  # a need code (language, accessibility)
    appointment: bool = False


@dataclass(frozen=True, slots=True)
class CallArgs:
    number: int | None = None  # None: the oldest waiting ticket


QUEUE_ISSUE = endpoint("queue.issue", IssueArgs, Issued)  # numbered, audited, printed when a printer is set
QUEUE_CALL = endpoint("queue.call", CallArgs, Called)  # a visit opens on the ticket
QUEUE_GONE = endpoint("queue.gone", CallArgs, None)  # the agent's called ticket: the family did not come
QUEUE_LIST = endpoint("queue.list", NoArgs, QueueView)  # today's waiting and called tickets
QUEUE_DISPLAY = endpoint("queue.display", NoArgs, DisplayView)  # the waiting room's screen


@dataclass(frozen=True, slots=True)
class EndingArgs:
    visit_id: int | None = None  # None: the visit of the agent's ticket being served


@dataclass(frozen=True, slots=True)
class Ending:
    """What the end-of-visit modal starts from."""

    visit_id: int | None
    ticket: int | None  # the ticket's number
    reasons: tuple[str, ...]  # proposed: the ticket's
    ended: bool


VISIT_ENDING = endpoint("visit.ending", EndingArgs, Ending)


@dataclass(frozen=True, slots=True)
class EndArgs:
    end: VisitEnd
    visit_id: int | None = None  # None: a visit for information only, for this family
    household_id: int | None = None
    person_id: int | None = None


VISIT_END = endpoint("visit.end", EndArgs, int)  # the visit's id
