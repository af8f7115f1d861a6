"""The outbox relay: every confirmed registration reaches its target system once.

A message is claimed with a lease (a conditional UPDATE in a write transaction,
so two counters on one database never send it at the same time), sent with its
idempotency key outside any transaction, and its outcome recorded in another
write transaction. The claim increments ``attempts``; the outcome is written
only if ``attempts`` is still the one claimed, so a relay whose lease expired
and was taken over cannot overwrite the newer attempt (a fencing token).

Outcomes: accepted → ``delivered``; refused by the target (a person must act)
→ ``refused`` until a supervisor retries it; anything that may pass later
(timeout, unavailable, rate limited, no such backend configured, an
unreadable answer) → retried with exponential backoff.

A ``city.registration`` payload is the body of ``POST /v1/registrations``
(:mod:`counter.domain.deliveries`). When it names a person by identity
(``person``, or an expected birth's ``parent``), the relay first asks the city
whether it knows them and sends their id instead; that decision is saved in
the payload (under ``_relay``, never sent) before the first send, so that every
retry sends the same body — which is what the city's idempotency compares.
A ``koha.patron`` payload is Koha's patron object. A ``city.cancellation``
(contract 1.2) tells the city that a registration it received was cancelled at
the counter; it has its own idempotency key and is sent once, like the rest.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlmodel import select

from counter.domain.deliveries import CITY_CANCELLATION, CITY_REGISTRATION, KOHA_PATRON, RELAY_KEY, contract_identity
from counter.domain.outbox import OutboxView  # noqa: F401 (re-exported)
from counter.clock import utc_now
from counter.domain.dates import as_utc
from counter.store.engine import Store
from counter.store.models import OutboxMessage, Registration, Visit

log = logging.getLogger("counter.outbox")

LEASE = timedelta(seconds=60)
FIRST_BACKOFF = 5.0  # seconds
MAX_BACKOFF = 15 * 60.0
CANDIDATES = 5  # due messages looked at per claim (others may be taking the first ones)
MAX_ERROR = 300  # OutboxMessage.last_error

PENDING, DELIVERED, REFUSED = "pending", "delivered", "refused"
CANCELLED = "cancelled"  # its registration was cancelled before delivery: never sent
STATES = (PENDING, DELIVERED, REFUSED, CANCELLED)




def backoff(attempts: int, retry_in: float | None = None) -> float:
    """Seconds before the next try after ``attempts`` tries: 5, 10, 20… capped at 15 min;
    never sooner than the target asked (``retry_in``), within the same cap."""
    exponential = FIRST_BACKOFF * 2 ** min(max(attempts, 1) - 1, 20)
    return min(MAX_BACKOFF, max(exponential, retry_in or 0.0))


@dataclass(frozen=True, slots=True)
class RelayReport:
    delivered: int = 0
    retried: int = 0
    refused: int = 0

    @property
    def total(self) -> int:
        return self.delivered + self.retried + self.refused

    def __add__(self, other: RelayReport) -> RelayReport:
        return RelayReport(self.delivered + other.delivered, self.retried + other.retried,
                           self.refused + other.refused)


@dataclass(frozen=True, slots=True)
class _Claim:
    id: int
    registration_id: int
    target: str
    operation: str
    payload: str
    key: str
    attempt: int  # ``attempts`` after the claim: the fencing token


@dataclass(frozen=True, slots=True)
class _Outcome:
    state: str  # delivered | refused | pending (to retry)
    message: str = ""
    external_ref: str | None = None
    retry_in: float | None = None
    rank: int | None = None  # the city's rank on its crèche waiting list
    person_id: str | None = None  # the city's id of the registered person (created or found)
    family_id: str | None = None  # and of their family (contract 1.3)


def _retry(message: str, retry_in: float | None = None) -> _Outcome:
    return _Outcome(PENDING, message, retry_in=retry_in)


def _refused(message: str) -> _Outcome:
    return _Outcome(REFUSED, message)


class _LeaseLost(Exception):
    """Another relay took the message over: this one stops without recording anything."""


class OutboxRelay:
    """Delivers due outbox messages; ``backends_by_name`` maps a message's ``target`` to its backend."""

    def __init__(self, store: Store, backends_by_name: Mapping[str, Any], clock: Callable[[], datetime] = utc_now,
                 owner: str = "counter") -> None:
        self.store = store
        self.backends = dict(backends_by_name)
        self.clock = clock
        self.owner = owner  # for the log: which counter sent what
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Deliver now rather than at the end of the interval (a visit was just confirmed).
        Call it from the relay's event loop."""
        self._wake.set()

    def now(self) -> datetime:
        return as_utc(self.clock())

    async def run_once(self, limit: int = 20) -> RelayReport:
        """Deliver up to ``limit`` due messages, one claim at a time (a lease never
        outlives a batch). A target failing transiently is not tried again in this run."""
        delivered = retried = refused = 0
        skipped: set[str] = set()
        for _ in range(limit):
            claim = await asyncio.to_thread(self._claim, self.now(), frozenset(skipped))
            if claim is None:
                break
            try:
                outcome = await self._deliver(claim)
            except _LeaseLost:
                log.info("outbox %s: message %s taken over by another relay", self.owner, claim.id)
                continue
            if not await asyncio.to_thread(self._record, claim, outcome, self.now()):
                log.info("outbox %s: outcome of message %s dropped (taken over)", self.owner, claim.id)
                continue
            if outcome.state == DELIVERED:
                delivered += 1
            elif outcome.state == REFUSED:
                refused += 1
            else:
                retried += 1
                skipped.add(claim.target)
        return RelayReport(delivered, retried, refused)

    async def run_forever(self, stop_event: asyncio.Event, interval: float = 5.0, limit: int = 20) -> None:
        """Until ``stop_event`` is set: deliver what is due, then wait ``interval`` seconds
        or until :meth:`wake` (not at all when a full batch suggests more is due)."""
        while not stop_event.is_set():
            self._wake.clear()
            try:
                report = await self.run_once(limit)
            except Exception:  # noqa: BLE001 — a database hiccup must not stop deliveries for good
                log.exception("outbox %s: relay run failed", self.owner)
                report = RelayReport()
            if report.total >= limit:
                continue
            waits = [asyncio.ensure_future(stop_event.wait()), asyncio.ensure_future(self._wake.wait())]
            try:
                await asyncio.wait(waits, timeout=interval, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiting in waits:
                    waiting.cancel()

    # -- the database ------------------------------------------------------------------

    def _claim(self, now: datetime, skipped: frozenset[str]) -> _Claim | None:
        free = or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until <= now)
        due = select(OutboxMessage.id).where(OutboxMessage.state == PENDING, OutboxMessage.next_attempt_at <= now,
                                             free)
        if skipped:
            due = due.where(OutboxMessage.target.not_in(sorted(skipped)))
        due = due.order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(CANDIDATES)
        with self.store.write() as session:
            for message_id in session.exec(due).all():
                # Conditional: on PostgreSQL a concurrent claim waits for ours and then finds the lease taken.
                taken = session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == message_id, OutboxMessage.state == PENDING, free)
                    .values(lease_until=now + LEASE, attempts=OutboxMessage.attempts + 1)
                )
                if taken.rowcount != 1:
                    continue
                row = session.get(OutboxMessage, message_id)
                session.refresh(row)
                return _Claim(row.id, row.registration_id, row.target, row.operation, row.payload,
                              row.idempotency_key, row.attempts)
        return None

    def _mine(self, claim: _Claim):
        return (OutboxMessage.id == claim.id, OutboxMessage.state == PENDING, OutboxMessage.attempts == claim.attempt)

    def _save_payload(self, claim: _Claim, payload: dict) -> bool:
        with self.store.write() as session:
            saved = session.execute(update(OutboxMessage).where(*self._mine(claim))
                                    .values(payload=json.dumps(payload, ensure_ascii=False, sort_keys=True)))
            return saved.rowcount == 1

    def _record(self, claim: _Claim, outcome: _Outcome, now: datetime) -> bool:
        values: dict[str, Any] = {"lease_until": None}
        if outcome.state == DELIVERED:
            values.update(state=DELIVERED, delivered_at=now, external_ref=outcome.external_ref, last_error=None)
        elif outcome.state == REFUSED:
            values.update(state=REFUSED, last_error=outcome.message[:MAX_ERROR])
        else:
            delay = backoff(claim.attempt, outcome.retry_in)
            values.update(next_attempt_at=now + timedelta(seconds=delay),
                          last_error=f"Essai {claim.attempt} : {outcome.message}"[:MAX_ERROR])
        with self.store.write() as session:
            done = session.execute(update(OutboxMessage).where(*self._mine(claim)).values(**values))
            if done.rowcount != 1:
                return False
            registration = Registration.id == claim.registration_id
            if claim.operation == CITY_CANCELLATION:
                pass  # the registration was delivered and is cancelled already: only the message moves
            elif outcome.state == DELIVERED:
                changes: dict[str, Any] = {"delivery": DELIVERED, "external_ref": outcome.external_ref}
                if outcome.rank is not None:
                    # The town's rank is the reference; the provisional one stays as the receipt said it.
                    changes["town_rank"] = outcome.rank
                    _raise_list_length(session, claim.registration_id, outcome.rank)
                session.execute(update(Registration).where(registration).values(**changes))
                if claim.operation == CITY_REGISTRATION and outcome.person_id is not None:
                    _learn_source_ids(session, claim.registration_id, outcome.person_id, outcome.family_id)
                # A registration only waiting to be delivered (a library card) is now made.
                session.execute(update(Registration).where(registration, Registration.state == "to_deliver")
                                .values(state="registered"))
            elif outcome.state == REFUSED:
                session.execute(update(Registration).where(registration).values(delivery=REFUSED))
        log.info("outbox %s: message %s (%s) %s after %d attempt(s)", self.owner, claim.id, claim.operation,
                 outcome.state if outcome.state != PENDING else "to retry", claim.attempt)
        return True

    # -- the targets ------------------------------------------------------------------------

    async def _deliver(self, claim: _Claim) -> _Outcome:
        from backends.http import AgencyError, Rejected
        from counter.backend import Status

        backend = self.backends.get(claim.target)
        if backend is None:
            return _retry(f"Source « {claim.target} » non configurée ou désactivée : envoi en attente.")
        try:
            payload = json.loads(claim.payload)
            if not isinstance(payload, dict):
                raise ValueError(claim.payload[:20])
        except ValueError:
            return _refused("Message illisible : contenu JSON invalide.")
        try:
            if claim.operation == CITY_REGISTRATION:
                return await self._city(claim, backend, payload)
            if claim.operation == KOHA_PATRON:
                return await self._koha(claim, backend, payload)
            if claim.operation == CITY_CANCELLATION:
                return await self._city_cancel(claim, backend, payload)
            return _refused(f"Opération inconnue : « {claim.operation} ».")
        except Rejected as exc:
            return _refused(f"Refusé par « {claim.target} » ({exc.code or exc.http_status}) : {exc.message}")
        except AgencyError as exc:
            if exc.status is Status.NOT_FOUND:  # nobody or several people match: a person must look
                return _refused(f"Refusé : {exc.message}")
            return _retry(exc.message, exc.retry_in)
        except _LeaseLost:
            raise
        except Exception:  # noqa: BLE001 — an adapter bug must not lose the message
            log.exception("outbox %s: delivering message %s failed", self.owner, claim.id)
            return _retry("Erreur inattendue pendant l'envoi (détail dans le journal).")

    async def _city(self, claim: _Claim, backend: Any, payload: dict) -> _Outcome:
        if not hasattr(backend, "submit_registration"):
            return _retry(f"La source « {claim.target} » ne reçoit pas d'inscriptions : vérifier la configuration.")
        notes = payload.pop(RELAY_KEY, None) or {}
        body = payload
        if not notes.get("resolved") and _names_someone(body):
            try:
                body = await _resolve(backend, body)
            except (KeyError, TypeError, ValueError):
                return _refused("Identité incomplète dans la demande : à ressaisir.")
            # Saved before the first send: every retry then sends exactly this body.
            if not await asyncio.to_thread(self._save_payload, claim, {**body, RELAY_KEY: {"resolved": True}}):
                raise _LeaseLost
        answer = await backend.submit_registration(body, claim.key)
        rank = None
        # A waiting list's rank is in the answer's section named by its kind ("creche": {"rank": …}).
        section = answer.get(str(answer.get("kind") or body.get("kind")))
        if answer.get("state") == "waiting" and isinstance(section, dict):
            value = section.get("rank")
            rank = value if isinstance(value, int) and not isinstance(value, bool) else None
        return _Outcome(DELIVERED, external_ref=str(answer["id"])[:64], rank=rank,
                        person_id=_city_id(answer.get("person_id")), family_id=_city_id(answer.get("family_id")))

    async def _city_cancel(self, claim: _Claim, backend: Any, payload: dict) -> _Outcome:
        if not hasattr(backend, "cancel_registration"):
            return _retry(f"La source « {claim.target} » ne reçoit pas d'annulations : vérifier la configuration.")
        registration_id, body = payload.get("registration_id"), payload.get("body", {})
        if not isinstance(registration_id, str) or not registration_id or not isinstance(body, dict):
            return _refused("Annulation illisible : référence de la demande absente.")
        answer = await backend.cancel_registration(registration_id, body, claim.key)
        return _Outcome(DELIVERED, external_ref=str(answer["id"])[:64])

    async def _koha(self, claim: _Claim, backend: Any, payload: dict) -> _Outcome:
        if not hasattr(backend, "save_card"):
            return _retry(f"La source « {claim.target} » ne crée pas de lecteurs : vérifier la configuration.")
        notes = payload.pop(RELAY_KEY, None) or {}
        try:
            reader = contract_identity(notes["reader"]) if "reader" in notes else None
            guarantor = contract_identity(notes["guarantor"]) if "guarantor" in notes else None
            on = date.fromisoformat(notes["on"]) if "on" in notes else None
        except (KeyError, TypeError, ValueError):
            return _refused("Identité incomplète dans la demande : à ressaisir.")
        # Koha has no idempotency keys: the adapter finds the reader's existing
        # record first, so a retry renews (or finds) rather than creates twice.
        patron = await backend.save_card(payload, claim.key, reader=reader, guarantor=guarantor,
                                         relationship=notes.get("relationship"), today=on)
        return _Outcome(DELIVERED, external_ref=str(patron["patron_id"]))


def _raise_list_length(session, registration_id: int, rank: int) -> None:
    """The town just ranked an application ``rank``: its list is at least that long
    (the next synchronisation gives the exact figure)."""
    from sqlalchemy import text

    session.execute(text(
        "UPDATE creche SET waiting_list_length = :rank "
        "WHERE (waiting_list_length IS NULL OR waiting_list_length < :rank) AND "
        "(id = (SELECT creche_id FROM registration WHERE id = :r) OR waiting_list = "
        "(SELECT c.waiting_list FROM creche c JOIN registration g ON g.creche_id = c.id WHERE g.id = :r))"),
        {"rank": rank, "r": registration_id})


def _city_id(value: Any) -> str | None:
    """An id from the city's answer, when it is one (Person/Household.source_id: 40 characters)."""
    if isinstance(value, str) and 0 < len(value) <= 40 and value.isprintable() and value.strip() == value:
        return value
    return None


def _learn_source_ids(session, registration_id: int, person_id: str, family_id: str | None) -> None:
    """The city answered a registration with its ids for the person (and their family):
    the counter's person and household take them, when they have none and nobody else
    holds them, so that the change feed brings them back as the same person and household
    (counter.services.family_sync). Never overwrites an id already known."""
    from sqlalchemy import exists

    from counter.store.models import Household, HouseholdMember, Person

    counter_id = session.scalar(select(Registration.person_id).where(Registration.id == registration_id))
    if counter_id is None:
        return
    person = session.get(Person, counter_id)
    taken = session.scalar(select(exists().where(Person.source_id == person_id, Person.id != counter_id)))
    if person is not None and person.source_id is None and not taken:
        person.source_id = person_id
        session.add(person)
    elif person is not None and person.source_id != person_id:
        log.info("outbox: the city's id for person %s kept as it was (registration %s)", counter_id,
                 registration_id)
        return
    if family_id is None:
        return
    home = session.scalar(select(HouseholdMember.household_id).where(HouseholdMember.person_id == counter_id)
                          .order_by(HouseholdMember.id).limit(1))
    if home is None or session.scalar(select(exists().where(Household.source_id == family_id))):
        return
    session.execute(update(Household).where(Household.id == home, Household.source_id.is_(None))
                    .values(source_id=family_id))


def _names_someone(body: dict) -> bool:
    expected = body.get("expected_birth")
    return "person" in body or (isinstance(expected, dict) and "parent" in expected)


async def _resolve(backend: Any, body: dict) -> dict:
    """The body with the city's ids for the people it already knows; the others stay
    as identities, for the city to create."""
    if "person" in body:
        found = await backend.find_person(contract_identity(body["person"]))
        if found is not None:
            body = {**{k: v for k, v in body.items() if k != "person"}, "person_id": found}
    expected = body.get("expected_birth")
    if isinstance(expected, dict) and "parent" in expected:
        found = await backend.find_person(contract_identity(expected["parent"]))
        if found is not None:
            parent = {**{k: v for k, v in expected.items() if k != "parent"}, "parent_person_id": found}
            body = {**body, "expected_birth": parent}
    return body


# -- for the CLI and the supervisors' screen ---------------------------------------------------------


def list_messages(store: Store, state: str | None = None, limit: int | None = None) -> list[OutboxView]:
    """Messages, oldest first; only those in ``state`` when given."""
    if state is not None and state not in STATES:
        raise ValueError(f"unknown state {state!r}: one of {', '.join(STATES)}")
    query = (select(OutboxMessage, Registration.kind, Visit.code)
             .join(Registration, Registration.id == OutboxMessage.registration_id)
             .join(Visit, Visit.id == Registration.visit_id, isouter=True)
             .order_by(OutboxMessage.id))
    if state is not None:
        query = query.where(OutboxMessage.state == state)
    if limit is not None:
        query = query.limit(limit)
    with store.read() as session:
        return [OutboxView(m.id, m.registration_id, kind, code, m.target, m.operation, m.state, m.attempts,
                           as_utc(m.next_attempt_at), m.last_error, as_utc(m.delivered_at), m.external_ref,
                           as_utc(m.created_at))
                for m, kind, code in session.exec(query).all()]


def retry(store: Store, which: Iterable[int] | str, now: datetime | None = None) -> int:
    """Make messages due now: ``"refused"`` (refused ones), ``"all"`` (every pending
    or refused one) or ids (pending or refused). A refused message is pending again,
    and its people are looked up afresh. Returns how many. A delivered message never
    goes back, nor does a cancelled registration's."""
    moment = as_utc(now) or utc_now()
    query = select(OutboxMessage).where(OutboxMessage.state.in_((PENDING, REFUSED)))
    if isinstance(which, str):
        if which == REFUSED:
            query = query.where(OutboxMessage.state == REFUSED)
        elif which != "all":
            raise ValueError(f"retry what? {which!r}: 'refused', 'all' or message ids")
    else:
        ids = sorted({int(i) for i in which})
        if not ids:
            return 0
        query = query.where(OutboxMessage.id.in_(ids))
    with store.write() as session:
        messages = session.exec(query).all()
        for message in messages:
            if message.state == REFUSED:
                message.payload = _forget_resolution(message.payload)
                if message.operation != CITY_CANCELLATION:  # a cancellation's registration stays delivered
                    session.execute(update(Registration).where(Registration.id == message.registration_id)
                                    .values(delivery=PENDING))
            message.state, message.next_attempt_at = PENDING, moment
            session.add(message)
        return len(messages)


def _forget_resolution(payload: str) -> str:
    # A refusal is not stored by the city's idempotency: the next send may differ.
    try:
        data = json.loads(payload)
    except ValueError:
        return payload
    if not isinstance(data, dict) or not isinstance(data.get(RELAY_KEY), dict):
        return payload
    notes = data.pop(RELAY_KEY)
    notes.pop("resolved", None)
    if notes:  # a card's reader and guarantor stay: they are how Koha's records are found
        data[RELAY_KEY] = notes
    return json.dumps(data, ensure_ascii=False, sort_keys=True)
