"""A visit: drafts saved at every step, then one confirming transaction.

Confirmation writes the registrations, their outbox messages and the audit
entries together or not at all. Each kind's service part (registrations/*/service.py)
books what it holds inside that transaction: school places with a conditional
update, so the last place is never given twice (the second agent's registration
goes to the waiting list, and says so), crèche ranks under a lock of the lists.
"""

from __future__ import annotations

import json
import socket
from datetime import UTC, date, datetime

from sqlalchemy import bindparam, text
from sqlalchemy.exc import IntegrityError

from counter.domain.confirmation import Confirmation, Outcome
from counter.domain.dates import BirthDate
from counter.domain.kinds import DeliveryContext, all_kinds
from counter.domain.library import LibraryRules
from counter.domain.names import split_given_names
from counter.domain.receipt import from_json, to_json
from counter.domain.schooling import coming_school_year, open_school_years
from counter.domain.visit_context import Member, Option, VisitContext, check_draft
from counter.domain.visits import FieldError, RegState, Request, VisitDraft, duplicates, kind_of
from counter.store.engine import Store
from counter.store.models import AuditEntry, OutboxMessage, Registration, Visit

# The view types moved to counter.domain (the terminal shows them); still importable from here.
__all__ = ["Confirmation", "Member", "Option", "Outcome", "VisitContext", "VisitError", "VisitService",
           "payload_builder"]

class VisitError(Exception):
    """The visit cannot be confirmed as it is; ``errors`` say where (index, field error)."""

    def __init__(self, errors: list[tuple[int, FieldError]]) -> None:
        super().__init__("; ".join(e.message for _, e in errors))
        self.errors = errors


def _now() -> datetime:
    return datetime.now(UTC)


def _revision(stored: str | None) -> int:
    try:
        return int(json.loads(stored or "{}").get("revision") or 0)
    except (ValueError, TypeError, AttributeError):
        return 0


class VisitService:
    def __init__(self, store: Store, clock, agent: str, targets: dict[str, str] | None = None,
                 host: str | None = None, library_codes: set[str] | None = None) -> None:
        self.store = store
        self.clock = clock
        self.agent = agent
        # The town's library categories, for the check that confirm() repeats.
        if library_codes is None:
            from counter.domain.rules import default_rules

            library_codes = default_rules().library.codes
        self.library_codes = set(library_codes)
        # Which backend receives each kind of registration (outbox target names);
        # by default the backend named after the kind's target (composition.delivery_targets).
        self.targets = targets or {kind.id: kind.target for kind in all_kinds()}
        self.host = host or socket.gethostname()

    # -- drafts ---------------------------------------------------------------------

    def start(self, household_id: int | None = None, person_id: int | None = None, *,
              code: str | None = None) -> int:
        """A new draft visit. ``code``: the receipt code already handed over (a visit made
        on the roaming bus, counter.services.tour_sync), kept on the draft so that a sync
        cut short finds its draft again by that code."""
        draft = VisitDraft(household_id=household_id, person_id=person_id)
        with self.store.write() as session:
            visit = Visit(household_id=household_id, person_id=person_id, agent_login=self.agent,
                          draft=draft.to_json(), code=code)
            session.add(visit)
            session.flush()
            self._audit(session, "visit.start", "visit", visit.id)
            return visit.id

    def save(self, visit_id: int, draft: VisitDraft) -> bool:
        """Save what is typed; True if written. A confirmed or abandoned visit is
        left alone, and so is a draft numbered no later than the one saved (a
        save resent after a reconnection, arriving after a newer one)."""
        with self.store.write() as session:
            # Locked (PostgreSQL): two saves of one visit compare revisions one after the other.
            visit = session.get(Visit, visit_id, with_for_update=True)
            if visit is None or visit.state != "draft":
                return False
            if draft.revision and draft.revision <= _revision(visit.draft):
                return False
            visit.draft, visit.updated_at = draft.to_json(), _now()
            return True

    def load(self, visit_id: int) -> tuple[str, VisitDraft]:
        with self.store.engine.connect() as connection:
            row = connection.execute(text("SELECT state, draft FROM visit WHERE id = :id"), {"id": visit_id}).one()
        return row.state, VisitDraft.from_json(row.draft)

    def drafts(self) -> list[tuple[int, int | None, datetime, int]]:
        """This agent's unfinished visits: (id, household, last saved, registrations typed)."""
        from sqlmodel import select

        with self.store.read() as session:
            rows = session.exec(select(Visit).where(Visit.agent_login == self.agent, Visit.state == "draft")
                                .order_by(Visit.updated_at.desc())).all()
            return [(v.id, v.household_id, v.updated_at, len(VisitDraft.from_json(v.draft).requests)) for v in rows]

    def abandon(self, visit_id: int) -> None:
        with self.store.write() as session:
            visit = session.get(Visit, visit_id)
            if visit is not None and visit.state == "draft":
                visit.state, visit.updated_at = "abandoned", _now()
                self._audit(session, "visit.abandon", "visit", visit_id)

    # -- what the forms offer ----------------------------------------------------------

    def context(self, visit_id: int) -> VisitContext:
        from counter.services.households import HouseholdService

        with self.store.engine.connect() as connection:
            visit = connection.execute(text("SELECT household_id, person_id FROM visit WHERE id = :id"),
                                       {"id": visit_id}).one()
            schools = tuple(Option(r.id, r.name, r.uai, r.kind) for r in connection.execute(
                text("SELECT id, name, uai, kind FROM school ORDER BY name")))
            creches = tuple(Option(r.id, r.name, r.code or "") for r in connection.execute(
                text("SELECT id, name, code FROM creche ORDER BY name")))
            person_ids = [visit.person_id] if visit.person_id else []
            if visit.household_id is not None:
                person_ids = list(connection.execute(
                    text("SELECT person_id FROM household_member WHERE household_id = :h ORDER BY id"),
                    {"h": visit.household_id}).scalars())
            existing: dict[int, set[int]] = {}
            if person_ids:
                for row in connection.execute(
                        text("SELECT person_id, school_year FROM registration WHERE kind = 'school' "
                             "AND state != 'cancelled' AND person_id IN :ids"
                             ).bindparams(bindparam("ids", expanding=True)),
                        {"ids": [int(i) for i in person_ids]}):
                    existing.setdefault(row.person_id, set()).add(row.school_year)
            years = open_school_years(self.clock.today())
            places = tuple((r.school_id, r.school_year, r.level, max(0, r.capacity - r.booked))
                           for r in connection.execute(
                               text("SELECT school_id, school_year, level, capacity, booked FROM school_capacity "
                                    "WHERE school_year IN :years").bindparams(bindparam("years", expanding=True)),
                               {"years": list(years)}))
            extra = {}
            for kind in all_kinds():
                data = kind.service().context_data(connection, visit.household_id, [int(i) for i in person_ids],
                                                   self.clock.today())
                if data is not None:
                    extra[kind.id] = data
        household = HouseholdService(self.store).get(visit.household_id) if visit.household_id else None
        if household is not None:
            members = tuple(
                Member(m.person.id, m.role, m.person.birth_name, m.person.usage_name, m.person.given_names,
                       m.person.sex, m.person.birth)
                for m in household.members
            )
            separated = any(m.own_address is not None and m.role in ("parent", "other_guardian")
                            for m in household.members)
            address = household.address
        else:
            members = tuple(self._lone_member(pid) for pid in person_ids)
            separated, address = False, None
        return VisitContext(
            visit_id=visit_id,
            household_id=visit.household_id,
            household=household.label if household else "sans foyer",
            address=address,
            members=members,
            separated_parents=separated,
            school_year=coming_school_year(self.clock.today()),
            sector_schools=self._sector_schools(visit.household_id),
            schools=schools,
            creches=creches,
            existing_school_years=existing,
            school_years=years,
            places=places,
            extra=extra,
        )

    def _lone_member(self, person_id: int) -> Member:
        with self.store.engine.connect() as connection:
            p = connection.execute(text(
                "SELECT id, birth_name, usage_name, given_names, sex, birth_year, birth_month, birth_day "
                "FROM person WHERE id = :id"), {"id": person_id}).one()
        return Member(p.id, "person", p.birth_name, p.usage_name, tuple(split_given_names(p.given_names)), p.sex,
                      BirthDate(p.birth_year, p.birth_month, p.birth_day))

    def _sector_schools(self, household_id: int | None) -> dict[str, int]:
        """The sector's maternelle and élémentaire for the household's address (street and number)."""
        if household_id is None:
            return {}
        from counter.domain.sectors import sector_for

        with self.store.engine.connect() as connection:
            address = connection.execute(text(
                "SELECT a.street_id, a.number FROM household h JOIN address a ON a.id = h.address_id "
                "WHERE h.id = :h"), {"h": household_id}).first()
            if address is None or address.street_id is None:
                return {}
            rules = connection.execute(text(
                "SELECT number_from, number_to, parity, sector_id FROM sector_rule WHERE street_id = :s"),
                {"s": address.street_id}).all()
            sector_id = sector_for(address.number, rules)
            if sector_id is None:
                return {}
            sector = connection.execute(text(
                "SELECT maternelle_id, elementaire_id FROM school_sector WHERE id = :id"), {"id": sector_id}).one()
        return {k: v for k, v in (("maternelle", sector.maternelle_id), ("elementaire", sector.elementaire_id)) if v}

    # -- checking -------------------------------------------------------------------------

    def check(self, context: VisitContext, draft: VisitDraft, library_codes: set[str]) -> list[tuple[int, FieldError]]:
        """Every problem of the draft, with the index of the request it belongs to."""
        return check_draft(context, draft, library_codes, self.clock.today())

    # -- confirming ----------------------------------------------------------------------------

    def confirm(self, visit_id: int, draft: VisitDraft, *, code: str, payloads, receipt=None,
                within=None) -> Confirmation:
        """One transaction: registrations, places, ranks, outbox messages, audit entries, the receipt.

        ``payloads(request, registration_id, state) -> (operation, payload dict)``
        builds each outbox message (counter.domain.deliveries); ``code`` is the
        receipt's tracking code, kept if the visit had already been confirmed.
        ``receipt(confirmation) -> Receipt`` words the receipt once the outcomes
        are known; it is stored with the visit, so that its files can always be
        written again (counter.services.receipts.ensure_saved). ``within(session,
        confirmation)`` writes more in the confirming transaction (the roaming bus's
        sync records there that the visit was applied: both or neither).
        """
        from counter.domain.deliveries import idempotency_key

        # The rules the forms apply, once more: nothing the screen would refuse is
        # written, whoever calls. A visit already confirmed is replayed below.
        state = self._state(visit_id)
        if state is None:
            raise VisitError([(0, FieldError("visit", "Cette visite n'existe pas."))])
        if state == "draft":
            problems = self.check(self.context(visit_id), draft, self.library_codes)
            # Another counter may have confirmed this very visit since: its
            # registrations are what the rules now see (« déjà inscrit »).
            if problems and self._state(visit_id) != "confirmed":
                raise VisitError(problems)
        twice = duplicates(draft.requests)
        if twice:  # the screen checks first; a draft replayed from elsewhere is checked all the same
            raise VisitError([(len(draft.requests) - 1, twice[0])])
        outcomes: list[Outcome] = []
        try:
            with self.store.write() as session:
                # The visit's row first, locked (PostgreSQL; SQLite's BEGIN IMMEDIATE
                # holds every writer): counters confirming the same visit queue here and
                # the next one reads "confirmed". Unlocked, each registration's foreign
                # key share-locked the row, the winner's update of its unique code
                # waited on them and they on the audit head: a deadlock.
                visit = session.get(Visit, visit_id, with_for_update=True)
                if visit.state == "confirmed":
                    return self._already(visit_id, visit.code)
                if visit.state != "draft":
                    raise VisitError([(0, FieldError("visit", "Cette visite a été abandonnée."))])
                for kind in all_kinds():  # e.g. lock the waiting lists before any rank is given
                    mine = [r for r in draft.requests if kind_of(r) is kind]
                    if mine:
                        kind.service().prepare(session, self.store, mine)
                for request in draft.requests:
                    outcome = self._register(session, visit_id, request)
                    operation, payload = payloads(request, outcome.registration_id, outcome.state)
                    session.add(OutboxMessage(
                        registration_id=outcome.registration_id,
                        target=self.targets[kind_of(request).id],
                        operation=operation,
                        payload=json.dumps(payload, ensure_ascii=False, sort_keys=True),
                        idempotency_key=idempotency_key(code, outcome.registration_id),
                    ))
                    self._audit(session, "registration.create", "registration", outcome.registration_id,
                                {"kind": kind_of(request).id, "state": outcome.state.value, "visit": visit_id})
                    outcomes.append(outcome)
                handed = receipt(Confirmation(visit_id, code, tuple(outcomes))) if receipt is not None else None
                visit.state, visit.code, visit.draft = "confirmed", code, draft.to_json()
                visit.receipt = to_json(handed) if handed is not None else None
                visit.confirmed_at = visit.updated_at = _now()
                self._audit(session, "visit.confirm", "visit", visit_id, {"code": code, "count": len(outcomes)})
                session.flush()
                if within is not None:
                    within(session, Confirmation(visit_id, code, tuple(outcomes), receipt=handed))
        except IntegrityError:
            # Another agent registered the same child for the same year meanwhile.
            raise VisitError([(0, FieldError("school_year", "Un autre guichet vient d'inscrire cet enfant "
                                                            "pour cette année : rien n'a été enregistré."))]) from None
        return Confirmation(visit_id, code, tuple(outcomes), receipt=handed)

    def _register(self, session, visit_id: int, request: Request) -> Outcome:
        kind = kind_of(request)
        registration = Registration(visit_id=visit_id, person_id=kind.person_id(request), kind=kind.id, state="",
                                    details=json.dumps(kind.encode(request), ensure_ascii=False, sort_keys=True))
        registered = kind.service().register(session, registration, request)
        registration.state = registered.state.value
        session.add(registration)
        session.flush()  # the unique index on live school registrations speaks here
        return Outcome(registration.id, request, registered.state, registered.rank, registered.note)

    def _state(self, visit_id: int) -> str | None:
        with self.store.engine.connect() as connection:
            return connection.execute(text("SELECT state FROM visit WHERE id = :id"), {"id": visit_id}).scalar()

    def _already(self, visit_id: int, code: str) -> Confirmation:
        with self.store.engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT id, state, rank, kind FROM registration WHERE visit_id = :v ORDER BY id"), {"v": visit_id}).all()
            visit = connection.execute(text("SELECT draft, receipt FROM visit WHERE id = :id"), {"id": visit_id}).one()
        draft = VisitDraft.from_json(visit.draft)
        outcomes = tuple(Outcome(r.id, request, RegState(r.state), r.rank) for r, request in zip(rows, draft.requests))
        return Confirmation(visit_id, code, outcomes, already=True,
                            receipt=from_json(visit.receipt) if visit.receipt else None)

    def _audit(self, session, action: str, target_type: str, target_id, details: dict | None = None) -> None:
        session.add(AuditEntry(agent=self.agent, host=self.host, action=action, target_type=target_type,
                               target_id=str(target_id), details=json.dumps(details or {}, sort_keys=True)))


def _city_ids(store: Store, person_ids: list[int]) -> dict[int, str]:
    """Person id → the family system's id, for those the counter knows one of."""
    if not person_ids:
        return {}
    sql = text("SELECT id, source_id FROM person WHERE id IN :ids AND source_id IS NOT NULL").bindparams(
        bindparam("ids", expanding=True))
    with store.engine.connect() as connection:
        return {row.id: row.source_id for row in connection.execute(sql, {"ids": list(person_ids)})}


def payload_builder(store: Store, context: VisitContext, today: date, library: LibraryRules | None = None):
    """``(request, registration_id, state) -> (operation, payload)`` for the outbox.

    ``today`` is the confirmation date: a library card made or renewed today is
    valid until ``library.valid_until(today)`` (the town's rules; a year by default).
    """
    from counter.domain.rules import default_rules

    valid_until = (library or default_rules().library).valid_until(today)
    # The family system's ids the counter knows (an import, the change feed, an earlier
    # registration's answer): such a person is registered by id, not looked up by identity.
    delivery = DeliveryContext(
        context=context, today=today, city_ids=_city_ids(store, [m.person_id for m in context.members]),
        valid_until=valid_until,
        adults=tuple(m for m in context.members if m.role in ("parent", "other_guardian", "person")))

    def build(request: Request, registration_id: int, state) -> tuple[str, dict]:
        return kind_of(request).service().payload(request, registration_id, state, delivery)

    return build
