"""The front desk (issue 16): tickets issued at the reception, called by the agents,
each call opening a visit; every visit's reasons, outcome and end.

Rules, all here (the screens only forward keys):

- a ticket is numbered per site and day, from 1, under a lock of that site's
  numbering (PostgreSQL: an advisory lock; SQLite: ``BEGIN IMMEDIATE``), with the
  unique index behind it;
- calling takes the oldest waiting ticket (or the one named) with a conditional
  update (``state = 'waiting'``): two agents calling at once never get the same
  ticket; the call opens a visit (state ``called``: no family yet) whose creation
  is the call and whose arrival is the ticket's issue;
- an agent serves one ticket at a time: the next F4 on a family fills that visit in
  (``claim``); the visit's end records its reasons and outcome (``end``), and the
  ticket is then served; a ticket whose family did not come is « parti »;
- a visit ended without any registration (information only) is counted all the
  same: state ``ended``;
- a ticket belongs to its day: the first queue read of a later day (the waiting
  list, the room's display, a call) closes the earlier days' tickets still
  waiting or called as ``expired`` (« non servi »). A visit the call opened and no
  family began is abandoned (as for a family gone); a visit begun keeps its state
  and its ticket, its end can still be recorded (and is counted then), and the
  ticket is then served.

Audit entries: ``ticket.issue``, ``ticket.call``, ``ticket.gone``, ``ticket.expire``,
``visit.end`` — numbers, codes and ids, no personal data.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from datetime import UTC, date, datetime

from sqlalchemy import func, select, text, update

from counter.clock import utc_now
from counter.domain.front_desk import (CALLED, EXPIRED, GONE, OPEN, SERVED, WAITING, Called, DisplayView, FrontDesk,
                                       FrontDeskError, QueueView, TicketView, VisitEnd, check_end, check_ticket, codes)
from counter.domain.visits import VisitDraft
from counter.store.engine import Store
from counter.store.models import AuditEntry, Ticket, Visit

# A visit's states that the front desk adds: opened by a call (no family yet), ended without registration.
VISIT_CALLED, VISIT_ENDED = "called", "ended"
DISPLAY_CALLS = 8  # the room's display: the newest calls
CALL_ATTEMPTS = 20  # another agent took the oldest ticket first: the next one, so many times at most


def _typed_requests(draft: str | None) -> bool:
    try:
        return bool(json.loads(draft or "{}").get("requests"))
    except (ValueError, AttributeError):
        return False


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class FrontDeskService:
    def __init__(self, store: Store, desk: FrontDesk, agent: str, *, today: Callable[[], date],
                 now: Callable[[], datetime] = utc_now, host: str | None = None) -> None:
        self.store, self.desk, self.agent = store, desk, agent
        self.today, self.now = today, now
        self.host = host or socket.gethostname()

    # -- views ----------------------------------------------------------------------------------

    def _view(self, ticket: Ticket, now: datetime) -> TicketView:
        issued = _aware(ticket.issued_at)
        until = _aware(ticket.called_at) or now
        minutes = max(0, int((until - issued).total_seconds() // 60))
        return TicketView(ticket.id, ticket.number, codes(ticket.reasons), ticket.need, ticket.appointment,
                          ticket.state, issued, minutes, ticket.called_by,
                          self.desk.desk_of(ticket.called_by) if ticket.called_by else "", ticket.visit_id)

    def _require_queue(self) -> None:
        if not self.desk.queue:
            raise FrontDeskError("La file d'attente n'est pas activée sur ce site (voir [queue] enabled).",
                                 "the queue is not enabled on this site ([queue] enabled)")

    def queue(self) -> QueueView:
        """Today's waiting and called tickets in number order, and the agent's own."""
        self.expire_earlier_days()
        now, day = self.now(), self.today()
        with self.store.read() as session:
            rows = session.execute(select(Ticket).where(
                Ticket.site == self.desk.site, Ticket.day == day, Ticket.state.in_((WAITING, CALLED)))
                .order_by(Ticket.number)).scalars().all()
            tickets = tuple(self._view(t, now) for t in rows)
            mine = self._current(session)
            return QueueView(self.desk.site, day, tickets, self._view(mine, now) if mine is not None else None)

    def display(self) -> DisplayView:
        """The room's display: the newest calls of the day (number, desk) and how many wait."""
        self.expire_earlier_days()
        day = self.today()
        with self.store.read() as session:
            calls = session.execute(select(Ticket.number, Ticket.called_by).where(
                Ticket.site == self.desk.site, Ticket.day == day, Ticket.called_at.is_not(None),
                Ticket.state != GONE).order_by(Ticket.called_at.desc(), Ticket.id.desc()).limit(DISPLAY_CALLS)).all()
            waiting = session.execute(select(func.count()).select_from(Ticket).where(
                Ticket.site == self.desk.site, Ticket.day == day, Ticket.state == WAITING)).scalar_one()
        return DisplayView(self.desk.site, tuple((n, self.desk.public_desk(who)) for n, who in calls), int(waiting))

    def expire_earlier_days(self) -> int:
        """Close the site's tickets of earlier days still waiting or called (``expired``);
        how many. A read when there are none (the room's display asks every 2 seconds)."""
        day = self.today()
        earlier_open = (Ticket.site == self.desk.site, Ticket.day < day, Ticket.state.in_(OPEN))
        with self.store.read() as session:
            if session.execute(select(Ticket.id).where(*earlier_open).limit(1)).first() is None:
                return 0
        now = self.now()
        with self.store.write() as session:  # conditional: two readers at once close each ticket once
            query = select(Ticket).where(*earlier_open).order_by(Ticket.day, Ticket.number)
            if not self.store.is_sqlite:
                query = query.with_for_update()
            tickets = session.execute(query).scalars().all()
            numbers: dict[str, list[int]] = {}
            for ticket in tickets:
                visit = session.get(Visit, ticket.visit_id, with_for_update=True) if ticket.visit_id else None
                if visit is not None and visit.state == VISIT_CALLED:  # called, no family began it
                    visit.state, visit.updated_at = "abandoned", now
                ticket.state = EXPIRED
                numbers.setdefault(ticket.day.isoformat(), []).append(ticket.number)
            if tickets:
                self._audit(session, "ticket.expire", "queue", self.desk.site,
                            {"site": self.desk.site, "before": day.isoformat(), "numbers": numbers})
            return len(tickets)

    # -- the reception ----------------------------------------------------------------------------

    def issue(self, reasons: tuple[str, ...], need: str | None = None, appointment: bool = False) -> TicketView:
        """A new ticket, numbered after the site's last one of the day."""
        self._require_queue()
        reasons = tuple(reasons)
        if problem := check_ticket(self.desk, reasons, need):
            raise FrontDeskError(problem)
        day, now = self.today(), self.now()
        with self.store.write() as session:
            self._lock_numbering(session, day)
            last = session.execute(select(func.max(Ticket.number)).where(
                Ticket.site == self.desk.site, Ticket.day == day)).scalar()
            ticket = Ticket(site=self.desk.site, day=day, number=(last or 0) + 1, issued_at=now,
                            issued_by=self.agent, reasons=",".join(reasons), need=need, appointment=appointment)
            session.add(ticket)
            session.flush()
            self._audit(session, "ticket.issue", "ticket", ticket.id, {"site": self.desk.site, "number": ticket.number})
            return self._view(ticket, now)

    def _lock_numbering(self, session, day: date) -> None:
        if not self.store.is_sqlite:  # SQLite: BEGIN IMMEDIATE holds every other writer already
            session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                            {"key": f"counter.ticket.{self.desk.site}.{day.isoformat()}"})

    # -- the agents ---------------------------------------------------------------------------------

    def _current(self, session) -> Ticket | None:
        """The agent's ticket being served: called by them today, its visit not ended."""
        return session.execute(select(Ticket).where(
            Ticket.site == self.desk.site, Ticket.day == self.today(), Ticket.called_by == self.agent,
            Ticket.state == CALLED)
            .order_by(Ticket.called_at.desc())).scalars().first()

    def call(self, number: int | None = None) -> Called:
        """The oldest waiting ticket (or ticket ``number``) is the agent's; a visit opens on it.
        Exactly one agent gets a ticket, however many call at once."""
        self._require_queue()
        self.expire_earlier_days()
        day = self.today()
        for _ in range(CALL_ATTEMPTS):
            with self.store.write() as session:
                mine = self._current(session)
                if mine is not None:
                    raise FrontDeskError(f"Vous servez déjà le ticket {mine.number} : terminez la visite (« f » sans "
                                         "inscription) ou déclarez-le parti (« x ») avant d'appeler le suivant.",
                                         f"already serving ticket {mine.number}")
                query = select(Ticket).where(Ticket.site == self.desk.site, Ticket.day == day,
                                             Ticket.state == WAITING)
                if number is not None:
                    query = query.where(Ticket.number == number)
                query = query.order_by(Ticket.number).limit(1)
                if not self.store.is_sqlite:
                    query = query.with_for_update(skip_locked=True)
                ticket = session.execute(query).scalars().first()
                if ticket is None:
                    if number is not None:
                        raise FrontDeskError(f"Le ticket {number} n'est pas en attente aujourd'hui.",
                                             f"ticket {number} is not waiting today")
                    raise FrontDeskError("Aucun ticket en attente.", "no ticket is waiting")
                now = self.now()
                taken = session.execute(update(Ticket).where(Ticket.id == ticket.id, Ticket.state == WAITING)
                                        .values(state=CALLED, called_at=now, called_by=self.agent)
                                        .execution_options(synchronize_session=False))
                if taken.rowcount != 1:  # another agent's, between our read and our update
                    if number is not None:
                        raise FrontDeskError(f"Le ticket {number} vient d'être appelé par un autre guichet.",
                                             f"ticket {number} was just called by another agent")
                    continue
                visit = Visit(household_id=None, person_id=None, agent_login=self.agent, state=VISIT_CALLED,
                              draft=VisitDraft().to_json(), created_at=now, updated_at=now, site=self.desk.site,
                              ticket_id=ticket.id, arrived_at=_aware(ticket.issued_at))
                session.add(visit)
                session.flush()
                session.execute(update(Ticket).where(Ticket.id == ticket.id).values(visit_id=visit.id)
                                .execution_options(synchronize_session=False))
                self._audit(session, "ticket.call", "ticket", ticket.id,
                            {"site": self.desk.site, "number": ticket.number, "visit": visit.id})
                session.flush()
                session.refresh(ticket)
                return Called(self._view(ticket, now), visit.id)
        raise FrontDeskError("Trop d'appels simultanés : appelez à nouveau.", "too many simultaneous calls")

    def gone(self, number: int) -> None:
        """The agent's called ticket whose family did not come: « parti », its visit abandoned."""
        with self.store.write() as session:
            ticket = session.execute(select(Ticket).where(
                Ticket.site == self.desk.site, Ticket.day == self.today(), Ticket.number == number)
                .with_for_update()).scalars().first()
            if ticket is None or ticket.state != CALLED or ticket.called_by != self.agent:
                raise FrontDeskError(f"Le ticket {number} n'est pas l'un de vos tickets appelés.",
                                     f"ticket {number} is not one this agent called")
            visit = session.get(Visit, ticket.visit_id, with_for_update=True) if ticket.visit_id else None
            if visit is not None and visit.state != VISIT_CALLED:
                raise FrontDeskError(f"La visite du ticket {number} est commencée : terminez-la.",
                                     f"ticket {number}'s visit has begun")
            ticket.state = GONE
            if visit is not None:
                visit.state, visit.updated_at = "abandoned", self.now()
            self._audit(session, "ticket.gone", "ticket", ticket.id, {"site": self.desk.site, "number": number})

    def claim(self, session, household_id: int | None, person_id: int | None) -> int | None:
        """In the caller's transaction: the agent's called ticket's visit, not begun, given
        this family (the visit opens on the ticket); None when the agent serves no ticket."""
        ticket = self._current(session)
        if ticket is None or ticket.visit_id is None:
            return None
        visit = session.get(Visit, ticket.visit_id, with_for_update=True)
        if visit is None or visit.state != VISIT_CALLED:
            return None
        visit.household_id, visit.person_id = household_id, person_id
        visit.state, visit.updated_at = "draft", self.now()
        self._audit(session, "visit.start", "visit", visit.id, {"ticket": ticket.number})
        return visit.id

    def start(self, household_id: int | None, person_id: int | None) -> int:
        """A visit for this family: the one opened on the agent's ticket, else a new one."""
        with self.store.write() as session:
            claimed = self.claim(session, household_id, person_id)
            if claimed is not None:
                return claimed
            visit = Visit(household_id=household_id, person_id=person_id, agent_login=self.agent,
                          draft=VisitDraft(household_id=household_id, person_id=person_id).to_json(),
                          site=self.desk.site)
            session.add(visit)
            session.flush()
            self._audit(session, "visit.start", "visit", visit.id)
            return visit.id

    # -- the end of a visit -----------------------------------------------------------------------------

    def ending(self, visit_id: int | None) -> tuple[int | None, int | None, tuple[str, ...], bool]:
        """What the end-of-visit modal starts from: (visit id, ticket number, the ticket's
        reasons, already ended). ``visit_id`` None: the visit of the agent's ticket, if any."""
        with self.store.read() as session:
            if visit_id is None:
                ticket = self._current(session)
                if ticket is None:
                    return None, None, (), False
                visit_id = ticket.visit_id
            visit = session.get(Visit, visit_id)
            if visit is None:
                raise LookupError(visit_id)
            ticket = session.get(Ticket, visit.ticket_id) if visit.ticket_id else None
            reasons = codes(visit.reasons) or (codes(ticket.reasons) if ticket is not None else ())
            return visit.id, ticket.number if ticket is not None else None, reasons, visit.ended_at is not None

    def end(self, end: VisitEnd, visit_id: int | None = None, household_id: int | None = None,
            person_id: int | None = None) -> int:
        """Record how the visit ended, in one transaction; the visit's id.

        ``visit_id`` None: a visit for information only, for this family (the one opened
        on the agent's ticket, else a new one), ended at once. A draft with requests typed
        is not ended (confirm it, or remove them); a visit is ended once."""
        end = VisitEnd(tuple(end.reasons), end.outcome, end.detail or None)
        if problem := check_end(self.desk, end):
            raise FrontDeskError(problem)
        now = self.now()
        with self.store.write() as session:
            if visit_id is None:
                visit_id = self.claim(session, household_id, person_id)
                if visit_id is None:
                    visit = Visit(household_id=household_id, person_id=person_id, agent_login=self.agent,
                                  draft=VisitDraft(household_id=household_id, person_id=person_id).to_json(),
                                  site=self.desk.site, created_at=now, updated_at=now)
                    session.add(visit)
                    session.flush()
                    self._audit(session, "visit.start", "visit", visit.id)
                    visit_id = visit.id
            visit = session.get(Visit, visit_id, with_for_update=True)
            if visit is None:
                raise LookupError(visit_id)
            if visit.agent_login != self.agent:
                raise FrontDeskError("Cette visite est celle d'un autre agent.", "another agent's visit")
            if visit.ended_at is not None:
                raise FrontDeskError("Cette visite est déjà terminée : ses motifs sont enregistrés.",
                                     "this visit has ended already")
            if visit.state == "abandoned":
                raise FrontDeskError("Cette visite a été abandonnée.", "this visit was abandoned")
            if visit.state == "draft" and _typed_requests(visit.draft):
                raise FrontDeskError("Des demandes sont saisies : confirmez-les (Ctrl+S) ou retirez-les avant de "
                                     "terminer sans inscription.", "the draft holds requests: confirm them first")
            if visit.state in ("draft", VISIT_CALLED):
                visit.state = VISIT_ENDED
            visit.site = visit.site or self.desk.site
            visit.ended_at, visit.updated_at = now, now
            visit.reasons, visit.outcome, visit.outcome_detail = ",".join(end.reasons), end.outcome, end.detail
            details = {"reasons": list(end.reasons), "outcome": end.outcome}
            if end.detail:
                details["detail"] = end.detail
            if visit.ticket_id is not None:
                ticket = session.get(Ticket, visit.ticket_id, with_for_update=True)
                if ticket is not None and ticket.state in (CALLED, EXPIRED):  # expired: begun on an earlier day
                    ticket.state = SERVED
                    details["ticket"] = ticket.number
            self._audit(session, "visit.end", "visit", visit.id, details)
            return visit.id

    def _audit(self, session, action: str, target_type: str, target_id, details: dict | None = None) -> None:
        session.add(AuditEntry(agent=self.agent, host=self.host, action=action, target_type=target_type,
                               target_id=str(target_id), details=json.dumps(details or {}, sort_keys=True)))


def save_ticket(lines: list[str], data_dir, site: str, day: date, number: int):
    """The ticket's text under the data directory (``tickets/YYYY/MM/DD/<site>-<n>.txt``,
    mode 0640), for ``lp``; its path."""
    import re
    from pathlib import Path

    from counter.domain.text import shown
    from counter.files import atomic_file

    folder = Path(data_dir) / "tickets" / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}"
    folder.mkdir(parents=True, exist_ok=True, mode=0o750)
    path = folder / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', site)}-{number}.txt"
    with atomic_file(path, 0o640) as handle:
        handle.write(("\n".join(shown(line) for line in lines) + "\n").encode("utf-8"))
    return path
