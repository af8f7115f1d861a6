"""Confirmed registrations after the visit: find them, read them, cancel them.

Cancelling is a supervisor's act (a trainer's too, in training). It happens in
one write transaction: the registration is marked cancelled, a school place it
held is given back, its crèche waiting-list rank is closed up, and an outbox
message not yet delivered is cancelled so that the relay (which only takes
``pending`` messages) never sends it. A registration the town's family system
already received gets a cancellation message of its own (contract 1.2, its own
idempotency key), delivered once by the relay; a library card already in Koha
has nothing to undo there, and the supervisor is told to warn the library.
A message being sent at that very moment (its lease is held) makes the cancel
wait for the outcome: cancelling under the relay's feet could lose a delivery.

Every refused cancel is audited, like every cancel. Audit details carry no
personal data: the reason, typed by the agent, stays on the registration.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import or_, select, update

from counter.domain.names import fold, query_token, split_given_names
# The views and their wording live in the domain: the terminal draws them.
from counter.domain.registrations import (
    CANCELLED, DELIVERY_LABELS, CancelResult, RegistrationDetail, RegistrationView, enum_label, may_supervise,
)
from counter.domain import kinds
from counter.domain.visits import STATE_LABELS, RegState
from counter.clock import utc_now
from counter.domain.dates import as_utc
from counter.store.engine import Store
from counter.services.audit import Forbidden as AuditForbidden
from counter.store.models import AuditEntry, Creche, OutboxMessage, Person, Registration, School, Visit

MAX_REASON = 300  # Registration.cancel_reason
UNBORN = "Enfant à naître"

class RegistrationError(Exception):
    """The operation cannot be done; the message (French) says why, for the agent."""


class Forbidden(RegistrationError, AuditForbidden):
    """The agent's role does not allow the operation."""


def _person_label(given_names: str | None, birth_name: str | None, usage_name: str | None) -> str:
    if birth_name is None:
        return UNBORN
    given = " ".join(split_given_names(given_names or ""))
    return f"{given} {usage_name or birth_name}".strip()


class RegistrationService:
    def __init__(self, store: Store, agent: str, role: str, host: str | None = None, *, training: bool = False,
                 now: Callable[[], datetime] = utc_now) -> None:
        self.store = store
        self.agent = agent
        self.role = role
        self.training = training
        self.host = host or socket.gethostname()
        self.now = now

    @property
    def can_supervise(self) -> bool:
        return may_supervise(self.role, self.training)

    # -- reading ------------------------------------------------------------------------

    def _query(self):
        return (select(Registration, Visit.code, Person.given_names, Person.birth_name, Person.usage_name,
                       School.name, Creche.name)
                .select_from(Registration)
                .join(Visit, Visit.id == Registration.visit_id)
                .outerjoin(Person, Person.id == Registration.person_id)
                .outerjoin(School, School.id == Registration.school_id)
                .outerjoin(Creche, Creche.id == Registration.creche_id))

    @staticmethod
    def _view(row) -> RegistrationView:
        r, code, given, birth_name, usage_name, school, creche = row
        return RegistrationView(
            id=r.id, visit_code=code, created_at=as_utc(r.created_at), kind=r.kind,
            kind_label=kinds.label(r.kind), state=r.state,
            state_label=enum_label(RegState, STATE_LABELS, r.state),
            person_label=_person_label(given, birth_name, usage_name),
            place=school or creche or "", level=r.level, school_year=r.school_year, rank=r.rank,
            delivery=r.delivery, delivery_label=DELIVERY_LABELS.get(r.delivery, r.delivery),
            town_rank=r.town_rank, visit_id=r.visit_id,
            cancelled_at=as_utc(r.cancelled_at), cancelled_by=r.cancelled_by, cancel_reason=r.cancel_reason,
        )

    def search(self, text_: str, limit: int = 50) -> list[RegistrationView]:
        """By visit code (exact, any case), else by name: every typed word starts one of
        the person's folded name tokens (birth or usage name, given names). Newest first."""
        typed = text_.strip()
        if not typed:
            return []
        newest = (Registration.created_at.desc(), Registration.id.desc())
        with self.store.read() as session:
            if " " not in typed:
                # Codes are written upper-case (counter.domain.receipt): the unique index answers.
                rows = session.execute(self._query().where(Visit.code.in_({typed, typed.upper()}))
                                       .order_by(*newest).limit(limit)).all()
                if rows:
                    return [self._view(row) for row in rows]
            words = [w for w in (query_token(part) for part in fold(typed).split()) if w]
            if not words:
                return []
            # search_text holds the folded tokens separated by spaces (counter.store.indexing);
            # the tokens are [a-z0-9] only, so no LIKE wildcard can come from the agent.
            padded = " " + Person.search_text
            query = self._query().where(*(padded.like(f"% {w}%") for w in words))
            return [self._view(row) for row in session.execute(query.order_by(*newest).limit(limit)).all()]

    def get(self, registration_id: int) -> RegistrationDetail:
        with self.store.read() as session:
            row = session.execute(self._query().where(Registration.id == registration_id)).first()
            if row is None:
                raise RegistrationError("Cette inscription n'existe pas.")
            registration = row[0]
            message = session.execute(select(OutboxMessage).where(OutboxMessage.registration_id == registration_id)
                                      .order_by(OutboxMessage.id.desc()).limit(1)).scalars().first()
            details = _decode(registration.details)
            choices: tuple[str, ...] = ()
            ids = [i for i in details.get("creche_ids") or () if isinstance(i, int)]
            if ids:
                names = dict(session.execute(select(Creche.id, Creche.name).where(Creche.id.in_(ids))).all())
                choices = tuple(names.get(i, f"crèche n° {i}") for i in ids)
            return RegistrationDetail(
                view=self._view(row), details=details, price=_decode(registration.price), choices=choices,
                external_ref=registration.external_ref,
                outbox_id=message.id if message else None,
                outbox_target=message.target if message else None,
                outbox_state=message.state if message else None,
                outbox_attempts=message.attempts if message else 0,
                outbox_last_error=message.last_error if message else None,
                outbox_operation=message.operation if message else None,
            )

    # -- the receipt ---------------------------------------------------------------------------

    def receipt(self, visit_id: int, *, reprint: bool = False):
        """The receipt handed over at this visit, as stored with it (counter.domain.receipt.Receipt).
        ``reprint`` audits that it is printed again (it holds personal data)."""
        from counter.services.receipts import stored_receipt

        receipt = stored_receipt(self.store, visit_id)
        if receipt is None:
            raise RegistrationError("Récépissé non conservé pour cette visite (confirmée avant que les "
                                    "récépissés soient gardés en base) : code et inscriptions restent ici.")
        if reprint:
            with self.store.write() as session:
                self._audit(session, "receipt.reprint", "visit", visit_id, {"code": receipt.code})
        return receipt

    # -- cancelling ---------------------------------------------------------------------------

    def cancel(self, registration_id: int, reason: str) -> CancelResult:
        if not self.can_supervise:
            raise self._refuse("registration.cancel", "registration", registration_id,
                               "Seul un superviseur peut annuler une inscription.")
        reason = " ".join((reason or "").split())
        if not reason:
            raise RegistrationError("Indiquez le motif de l'annulation.")
        if len(reason) > MAX_REASON:
            raise RegistrationError(f"Motif trop long : {MAX_REASON} caractères au plus.")
        now = self.now()
        with self.store.write() as session:
            # FOR UPDATE on PostgreSQL (SQLite already holds the write lock): two
            # supervisors cancelling at once, the second sees the first's result.
            registration = session.execute(select(Registration).where(Registration.id == registration_id)
                                           .with_for_update()).scalars().first()
            if registration is None:
                raise RegistrationError("Cette inscription n'existe pas.")
            if registration.state == RegState.CANCELLED:
                raise RegistrationError("Cette inscription est déjà annulée.")
            previous, kind = registration.state, registration.kind
            outbox, target, delivered = self._stop_delivery(session, registration_id, now)
            told = None  # the cancellation sent to the target system, when it takes one
            if delivered is not None:
                told = self._tell_target(session, registration, delivered, reason)
            # What the registration held (a school place, a rank on a waiting list) is given back.
            plugin = kinds.find(kind)
            place_freed = plugin is not None and plugin.service().cancelled(session, self.store, registration, previous)
            values = {"state": RegState.CANCELLED.value, "cancelled_at": now, "cancelled_by": self.agent,
                      "cancel_reason": reason}
            if outbox == CANCELLED:
                values["delivery"] = CANCELLED
            session.execute(update(Registration).where(Registration.id == registration_id).values(**values))
            audit = {"previous_state": previous, "place_freed": place_freed, "outbox": outbox}
            if told is not None:
                audit["cancellation_message"] = told
            self._audit(session, "registration.cancel", "registration", registration_id, audit)
        message = "Inscription annulée."
        if place_freed:
            message += (plugin or kinds.RegistrationKind).place_freed
        if told is not None:
            message += f" L'annulation sera transmise à « {target} » (suivi : F10)."
        elif outbox == "delivered":
            message += (plugin or kinds.RegistrationKind).delivered_not_told.format(target=target)
        elif outbox == CANCELLED:
            message += " Elle ne sera pas transmise."
        return CancelResult(registration_id, previous, place_freed, outbox, message, told)

    def _tell_target(self, session, registration, delivered: OutboxMessage, reason: str) -> int | None:
        """Queue the cancellation of a delivered registration for its target, when the
        target takes cancellations (the city, contract 1.2); the message id, else None.
        Koha has nothing to undo: a card made or renewed stays the library's to withdraw."""
        from counter.domain.deliveries import CITY_CANCELLATION, CITY_REGISTRATION, cancellation_key

        if delivered.operation != CITY_REGISTRATION or not delivered.external_ref:
            return None
        code = session.execute(select(Visit.code).where(Visit.id == registration.visit_id)).scalar() or "_"
        payload = {"registration_id": delivered.external_ref, "body": {"reason": reason}}
        message = OutboxMessage(registration_id=registration.id, target=delivered.target,
                                operation=CITY_CANCELLATION,
                                payload=json.dumps(payload, ensure_ascii=False, sort_keys=True),
                                idempotency_key=cancellation_key(code, registration.id), next_attempt_at=self.now())
        session.add(message)
        session.flush()
        return message.id

    def _stop_delivery(self, session, registration_id: int,
                       now: datetime) -> tuple[str, str | None, OutboxMessage | None]:
        """Cancel the registration's messages not yet delivered;
        ("cancelled" | "delivered" | "none", target, the delivered message or None)."""
        messages = session.execute(select(OutboxMessage).where(OutboxMessage.registration_id == registration_id)
                                   .order_by(OutboxMessage.id)).scalars().all()
        if not messages:
            return "none", None, None
        outcome, target, delivered = "none", messages[-1].target, None
        for message in messages:
            if message.state == "delivered":
                outcome, target, delivered = "delivered", message.target, message
                continue
            if message.state == CANCELLED:
                continue
            # Conditional: a relay claiming it meanwhile (PostgreSQL) makes this miss.
            free = or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until <= now)
            stopped = session.execute(update(OutboxMessage)
                                      .where(OutboxMessage.id == message.id,
                                             OutboxMessage.state.in_(("pending", "refused")), free)
                                      .values(state=CANCELLED, lease_until=None))
            if stopped.rowcount != 1:
                raise RegistrationError(f"Envoi en cours vers « {message.target} » : réessayez dans une minute.")
            if outcome == "none":
                outcome = CANCELLED
        return outcome, target, delivered

    # -- the outbox, for supervisors ---------------------------------------------------------------

    def outbox_messages(self, state: str | None = None):
        """The outbox as counter.services.outbox lists it; supervisors only."""
        from counter.services.outbox import STATES, list_messages

        if not self.can_supervise:
            raise self._refuse("outbox.list", "outbox", "", "Réservé aux superviseurs : suivi des envois.")
        if state is not None and state not in STATES:
            raise RegistrationError(f"État d'envoi inconnu : {state}.")
        return list_messages(self.store, state)

    def retry_message(self, message_id: int) -> str:
        """Relaunch one refused message (counter.services.outbox.retry); French outcome."""
        from counter.services.outbox import REFUSED, retry

        if not self.can_supervise:
            raise self._refuse("outbox.retry", "outbox", message_id, "Seul un superviseur peut relancer un envoi.")
        with self.store.read() as session:
            state = session.execute(select(OutboxMessage.state).where(OutboxMessage.id == message_id)).scalar()
        if state is None:
            raise RegistrationError("Ce message n'existe plus.")
        if state != REFUSED:
            raise RegistrationError("Seul un envoi refusé peut être relancé.")
        # retry() also revives pending and cancelled ids: only a refused one is passed here.
        count = retry(self.store, [message_id], now=self.now())
        with self.store.write() as session:
            self._audit(session, "outbox.retry", "outbox", message_id, {"count": count})
        return f"Envoi n° {message_id} relancé : il part au prochain passage." if count else \
            "Ce message n'a pas pu être relancé."

    # -- audit --------------------------------------------------------------------------------------

    def _refuse(self, action: str, target_type: str, target_id, message: str) -> Forbidden:
        """Audit a refused attempt (``<action>_refused``) in a transaction of its own: it stays
        even though nothing else happens. The refusal to raise."""
        with self.store.write() as session:
            self._audit(session, f"{action}_refused", target_type, target_id, {"role": self.role})
        return Forbidden(message, action, self.agent, self.role)

    def _audit(self, session, action: str, target_type: str, target_id, details: dict | None = None) -> None:
        session.add(AuditEntry(agent=self.agent, host=self.host, action=action, target_type=target_type,
                               target_id=str(target_id), details=json.dumps(details or {}, sort_keys=True)))


def _decode(value: str | None) -> dict:
    try:
        data = json.loads(value or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
