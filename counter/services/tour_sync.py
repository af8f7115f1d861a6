"""`counter tour sync`: what was done on the roaming bus goes back to the town's database
(docs/tour.md).

Items go in the order they were made: households created on board, persons added
on board to households copied from central, visits confirmed on board (with their
registrations), then the bus's audit entries. Each item is applied to central in
one transaction that also writes its key in ``tour_applied``; the bus then writes
what came back in ``tour_synced``. A key central already has is never applied
again: its recorded outcome is taken (the link dropped after central committed,
before the bus heard).

- **Families**: a household made on board whose persons central's duplicate check
  finds (counter.services.duplicates.find_candidates) creates no second household:
  its persons join the household central has, as new person records, each matched
  one with a duplicate review (source ``tour``) against the person central had.
- **Visits** are started and confirmed on central by the town hall's own use case
  (counter.services.visits.VisitService), with the bus's receipt code and receipt,
  so places are taken under central's locks and rules; central's confirmation
  writes the outbox messages (the bus's outbox is never relayed). A registration
  central placed differently (a waiting list instead of the last place) is updated
  on the bus and reported; a visit central refuses is recorded as refused with
  central's French message and never retried; a visit that needs a refused
  household is recorded as blocked.
- **Audit**: each entry of the bus's chain becomes a new entry of central's (same
  action, agent and target; ``details`` gain ``bus``, ``bus_seq``, ``bus_at``),
  chained by central: both chains still verify. The sync writes nothing in the
  bus's chain (it would have to be sent back in turn).
- **One sync at a time** for a town: a lease in central's ``sync_state`` (row
  ``tour``), renewed and checked by every item's transaction.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, bindparam, or_, text, update
from sqlalchemy.exc import IntegrityError

from counter.clock import SystemClock, utc_now
from counter.domain.dates import as_utc
from counter.store import migrate
from counter.store.engine import Store
from counter.store.models import AuditEntry, Household, HouseholdMember, Person, SyncState, TourApplied

log = logging.getLogger("counter.tour")

LEASE_NAME = "tour"  # SyncState.name
LEASE = timedelta(minutes=5)  # renewed by every item
LINK_DEAD_AFTER = 20.0  # seconds without an answer from the town's database: the link is dead
AUDIT_BATCH = 200  # audit entries per central transaction (each with its own key)
# The request fields that name a person of the household (ids mapped to central's);
# the other ids (schools, crèches) are the town's reference tables, copied as they are.
PERSON_FIELDS = ("person_id", "guarantor_id")
ADDRESS_FIELDS = ("street_id", "number", "suffix", "complement", "line", "postal_code", "city", "ban_id")
PERSON_COPY = ("birth_name", "usage_name", "given_names", "sex", "birth_year", "birth_month", "birth_day",
               "birth_insee_code", "birth_country_code", "nir", "phone", "email", "france_travail_id")

MSG_NO_HOUSEHOLD = "Ce foyer n'existe plus à la mairie : la personne n'a pas été ajoutée."
MSG_CODE_TAKEN = "Ce numéro de récépissé est déjà celui d'une autre visite à la mairie : rien n'a été enregistré."
MSG_REFUSED_ROW = "La base de la mairie a refusé cet enregistrement (donnée déjà présente) : rien n'a été enregistré."


class TourError(Exception):
    """The sync cannot start (not a replica, a schema not current); English, for administrators."""


class TourBusy(TourError):
    """Another sync holds the lease."""


class LeaseLost(TourError):
    """Another sync took the lease over (ours ran out): the item under way was rolled back."""


@dataclass
class ItemResult:
    key: str
    kind: str  # household | person | visit | audit
    status: str  # created | joined | added | confirmed | refused | blocked | appended
    outcome: dict
    reused: bool = False  # central had it already: its recorded outcome taken


@dataclass
class SyncReport:
    bus: str
    items: list[ItemResult] = field(default_factory=list)
    skipped: int = 0  # known to the bus already
    deferred: int = 0  # needing a family made on board during this sync: sent by the next one

    def count(self, kind: str, *statuses: str) -> int:
        return sum(1 for i in self.items if i.kind == kind and (not statuses or i.status in statuses))

    @property
    def reused(self) -> int:
        return sum(1 for i in self.items if i.reused)

    @property
    def refused(self) -> list[ItemResult]:
        return [i for i in self.items if i.status in ("refused", "blocked")]

    @property
    def changed(self) -> list[tuple[ItemResult, dict]]:
        """Registrations central placed otherwise than the bus did (the family must be told)."""
        return [(i, r) for i in self.items if i.kind == "visit" for r in i.outcome.get("registrations", ())
                if r.get("changed")]

    @property
    def reviews(self) -> int:
        return sum(len(i.outcome.get("reviews", ())) for i in self.items)


@dataclass(frozen=True)
class ReplicaFacts:
    bus: str
    highest: dict[str, int]  # tour.max.<table>


def replica_facts(replica: Store) -> ReplicaFacts:
    """What `counter tour prepare` recorded in the replica; TourError if it is not one."""
    if migrate.current_revision(replica) != migrate.HEAD:
        raise TourError("the replica's schema is not current: run 'counter db upgrade' with the bus's configuration")
    with replica.engine.connect() as connection:
        meta = dict(connection.execute(text("SELECT key, value FROM store_meta WHERE key LIKE 'tour.%'")).all())
    if "tour.bus" not in meta:
        raise TourError("this database is not a bus's replica (no tour.bus in store_meta): "
                        "make one with 'counter tour prepare'")
    highest = {}
    for table in ("person", "household", "household_member", "address", "visit", "registration"):
        try:
            highest[table] = int(meta[f"tour.max.{table}"])
        except (KeyError, ValueError):
            raise TourError(f"the replica's store_meta lacks tour.max.{table}: it was not made by "
                            "'counter tour prepare'") from None
    return ReplicaFacts(meta["tour.bus"], highest)


def holder_name(bus: str) -> str:
    from counter.services.family_sync import holder_name as named

    return named(f"tour-{bus}")


def central_store(url: str, *, dead_after: float = LINK_DEAD_AFTER) -> Store:
    """The town's database as the bus reaches it, over a link that may die silently
    (4G out of reach: no reset, packets just stop). PostgreSQL's connection is given
    TCP keepalives and a user time-out, so that a query on a dead link fails after
    ``dead_after`` seconds instead of waiting for ever — with the sync's thread,
    and the lease it holds. Options the URL sets itself are kept."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        wanted = {"keepalives": "1", "keepalives_idle": "5", "keepalives_interval": "2",
                  "keepalives_count": str(max(1, int(dead_after // 4))),
                  "tcp_user_timeout": str(int(dead_after * 1000))}
        parsed = parsed.update_query_dict({k: v for k, v in wanted.items() if k not in parsed.query})
    return Store(parsed)


def sync_tour(replica: Store, central: Store, clock=None, *, host: str | None = None, agent: str = "tour",
              targets: dict[str, str] | None = None, library=None, holder: str | None = None) -> SyncReport:
    """Send back what the bus did (see the module's docstring). ``holder``: the lease's
    holder name (the bus's service keeps one, to take its own lease up again after a
    dead link; by default a new one, as `counter tour sync` needs). ``agent``: who runs the
    sync, in central's ``tour.*`` audit entries; ``targets`` and ``library``: the town's
    delivery targets and library rules for the visits' outbox messages (their
    defaults as VisitService's). Raises TourError (TourBusy, LeaseLost) or a database
    error; what was applied before stays, the next sync resumes."""
    facts = replica_facts(replica)
    if migrate.current_revision(central) != migrate.HEAD:
        raise TourError("the town's database schema is not current: it must be upgraded first "
                        "(counter db upgrade, with the town's configuration)")
    holder = holder or holder_name(facts.bus)
    _acquire(central, holder)
    error = None
    try:
        run = _Sync(replica, central, facts, clock or SystemClock(), holder, host or socket.gethostname(), agent,
                    targets, library)
        return run.run()
    except Exception as exc:
        error = type(exc).__name__
        raise
    finally:
        _release(central, holder, error)


class _NotYet(Exception):
    """An item needing a row made on board after the sync read its list: left for the next sync."""


# -- the lease ------------------------------------------------------------------------------------


def _acquire(central: Store, holder: str) -> None:
    now = utc_now()
    try:
        with central.write() as session:
            if session.get(SyncState, LEASE_NAME) is None:
                session.add(SyncState(name=LEASE_NAME))
    except IntegrityError:  # another sync created the row at the same moment
        pass
    # A lease is free when nobody holds it, when it ran out, or when it is our own: the
    # bus's service keeps one holder name, and takes its lease up again after a link
    # that died in the middle of a sync (it could not release it).
    free = or_(SyncState.holder.is_(None), SyncState.lease_until.is_(None), SyncState.lease_until <= now,
               SyncState.holder == holder)
    with central.write() as session:
        taken = session.execute(update(SyncState).where(SyncState.name == LEASE_NAME, free)
                                .values(holder=holder, lease_until=now + LEASE, last_attempt_at=now))
        if taken.rowcount != 1:
            state = session.get(SyncState, LEASE_NAME)
            until = as_utc(state.lease_until) if state.lease_until else None
            raise TourBusy(f"another tour sync is running ({state.holder or 'unknown'}"
                           + (f", lease until {until:%Y-%m-%d %H:%M} UTC)" if until else ")"))


def _fence(session, holder: str) -> None:
    """In an item's transaction: renew the lease, or give up if another sync took it."""
    renewed = session.execute(update(SyncState).where(SyncState.name == LEASE_NAME, SyncState.holder == holder)
                              .values(lease_until=utc_now() + LEASE))
    if renewed.rowcount != 1:
        raise LeaseLost("another tour sync took the lease over (ours had run out); run the sync again")


def _release(central: Store, holder: str, error: str | None) -> None:
    values: dict[str, Any] = {"holder": None, "lease_until": None, "last_error": error}
    if error is None:
        values["last_success_at"] = utc_now()
    try:
        with central.write() as session:
            session.execute(update(SyncState).where(SyncState.name == LEASE_NAME, SyncState.holder == holder)
                            .values(**values))
    except Exception:  # noqa: BLE001 — the link is gone: the lease runs out by itself
        log.warning("tour sync: the lease could not be released (it runs out in %d minutes)",
                    LEASE.seconds // 60)


# -- one sync -------------------------------------------------------------------------------------


def _dumps(value: dict) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


class _Sync:
    def __init__(self, replica: Store, central: Store, facts: ReplicaFacts, clock, holder: str, host: str,
                 agent: str, targets, library) -> None:
        self.replica, self.central, self.facts = replica, central, facts
        self.bus, self.top = facts.bus, facts.highest
        self.clock, self.holder, self.host, self.agent = clock, holder, host, agent
        self.targets, self.library = targets, library
        self.report = SyncReport(self.bus)
        with replica.engine.connect() as connection:
            self.synced = set(connection.execute(text("SELECT key FROM tour_synced")).scalars())
        self.persons: dict[int, int] = {}  # bus person id → central id
        self.households: dict[int, int] = {}  # bus household id → central id
        self.failed: set[str] = set()  # keys refused or blocked
        self.household_keys: dict[int, str] = {}
        self.person_keys: dict[int, str] = {}
        with central.engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT key, kind, local_id, outcome FROM tour_applied WHERE bus = :b AND kind IN "
                "('household', 'person')"), {"b": self.bus}).all()
        for row in rows:
            self._learn(row.kind, row.local_id, row.key, json.loads(row.outcome))

    def _learn(self, kind: str, local_id: int, key: str, outcome: dict) -> None:
        for bus_id, central_id in outcome.get("persons", {}).items():
            self.persons[int(bus_id)] = int(central_id)
        if kind == "household":
            self.household_keys[local_id] = key
            if outcome.get("household") is not None:
                self.households[local_id] = int(outcome["household"])
        if outcome.get("status") in ("refused", "blocked"):
            self.failed.add(key)
            for bus_id in outcome.get("bus_persons", ()):
                self.person_keys[int(bus_id)] = key

    def run(self) -> SyncReport:
        for row in self._bus_rows("SELECT id FROM household WHERE id > :top ORDER BY id", self.top["household"]):
            self._item("household", row.id, f"{self.bus}:household:{row.id}", self._apply_household)
        added = self._bus_rows(
            "SELECT DISTINCT p.id FROM person p JOIN household_member m ON m.person_id = p.id "
            "WHERE p.id > :top AND m.household_id <= :households ORDER BY p.id", self.top["person"],
            households=self.top["household"])
        for row in added:
            self._item("person", row.id, f"{self.bus}:person:{row.id}", self._apply_person)
        visits = self._bus_rows("SELECT id, code FROM visit WHERE id > :top AND state = 'confirmed' "
                                "AND code IS NOT NULL ORDER BY confirmed_at, id", self.top["visit"])
        for row in visits:
            self._item("visit", row.id, f"{self.bus}:visit:{row.code}", self._apply_visit)
        # The front desk's record of each visit ended on board (reasons, outcome, times):
        # the town's statistics count the bus's visits too, information-only ones included.
        ended = self._bus_rows("SELECT id FROM visit WHERE id > :top AND ended_at IS NOT NULL "
                               "ORDER BY ended_at, id", self.top["visit"])
        for row in ended:
            self._item("visit_end", row.id, f"{self.bus}:visit-end:{row.id}", self._apply_visit_end)
        self._audit_entries()
        return self.report

    def _bus_rows(self, sql: str, top: int, **params) -> list:
        with self.replica.engine.connect() as connection:
            return connection.execute(text(sql), {"top": top, **params}).all()

    # -- the exactly-once frame ---------------------------------------------------------------

    def _item(self, kind: str, local_id: int, key: str, apply) -> None:
        if key in self.synced:
            self.report.skipped += 1
            return
        with self.central.engine.connect() as connection:
            known = connection.execute(text("SELECT central_id, outcome FROM tour_applied WHERE key = :k"),
                                       {"k": key}).first()
        if known is not None:  # central committed it before the link dropped
            outcome, central_id, reused = json.loads(known.outcome), known.central_id, True
        else:
            try:
                outcome, central_id = apply(local_id, key)
            except _NotYet:
                self.report.deferred += 1
                return
            reused = False
        self._learn(kind, local_id, key, outcome)
        self._heard(key, central_id, outcome)
        self.report.items.append(ItemResult(key, kind, outcome["status"], outcome, reused))

    def _record(self, session, kind: str, local_id: int, key: str, central_id: int | None, outcome: dict) -> None:
        """In the item's central transaction: its key, and an audit entry saying what came of it."""
        _fence(session, self.holder)
        session.add(TourApplied(key=key, bus=self.bus, kind=kind, local_id=local_id, central_id=central_id,
                                outcome=_dumps(outcome), applied_at=utc_now()))
        details = {"bus": self.bus, "item": kind, "local": local_id, "status": outcome["status"]}
        if "reviews" in outcome:
            details["reviews"] = len(outcome["reviews"])
        session.add(AuditEntry(agent=self.agent, host=self.host, action=f"tour.{kind}",
                               target_type=kind if kind != "person" else "household",
                               target_id=str(central_id if kind != "person" else outcome.get("household") or ""),
                               details=_dumps(details)))

    def _refuse(self, kind: str, local_id: int, key: str, outcome: dict) -> tuple[dict, None]:
        with self.central.write() as session:
            self._record(session, kind, local_id, key, None, outcome)
        return outcome, None

    def _heard(self, key: str, central_id: int | None, outcome: dict) -> None:
        """The bus keeps what came back, and takes central's word on its registrations."""
        with self.replica.write() as session:
            for registration in outcome.get("registrations", ()):
                if registration.get("changed"):
                    session.execute(text("UPDATE registration SET state = :s, rank = :r WHERE id = :id"),
                                    {"s": registration["state"], "r": registration.get("rank"),
                                     "id": registration["bus"]})
            session.execute(text("INSERT INTO tour_synced (key, central_id, outcome, synced_at) "
                                 "VALUES (:k, :c, :o, :at)"),
                            {"k": key, "c": central_id, "o": _dumps(outcome), "at": utc_now()})
        self.synced.add(key)

    # -- families -----------------------------------------------------------------------------

    def _bus_family(self, household_id: int | None, person_ids: list[int] | None = None) -> tuple[Any, list]:
        """The bus's household row (or None) and its members to send: (member, person) rows."""
        with self.replica.engine.connect() as connection:
            household = None
            if household_id is not None:
                household = connection.execute(text("SELECT * FROM household WHERE id = :id"),
                                               {"id": household_id}).first()
                members = connection.execute(text(
                    "SELECT m.person_id, m.role, m.address_id FROM household_member m "
                    "WHERE m.household_id = :h ORDER BY m.id"), {"h": household_id}).all()
            else:
                members = connection.execute(text(
                    "SELECT m.person_id, m.role, m.address_id, m.household_id FROM household_member m "
                    "WHERE m.person_id IN :ids ORDER BY m.id").bindparams(bindparam("ids", expanding=True)),
                    {"ids": person_ids}).all()
            found = []
            for member in members:
                person = connection.execute(text("SELECT * FROM person WHERE id = :id"),
                                            {"id": member.person_id}).one()
                own = None
                if member.address_id is not None:
                    own = connection.execute(text("SELECT * FROM address WHERE id = :id"),
                                             {"id": member.address_id}).first()
                found.append((member, person, own))
            address = None
            if household is not None and household.address_id is not None:
                address = connection.execute(text("SELECT * FROM address WHERE id = :id"),
                                             {"id": household.address_id}).first()
        return (household, address), found

    def _apply_household(self, local_id: int, key: str) -> tuple[dict, int | None]:
        from counter.domain.duplicates import identity_of
        from counter.services.duplicates import find_candidates

        (household, address), members = self._bus_family(local_id)
        bus_persons = [person.id for _, person, _ in members]
        try:
            with self.central.write() as session:
                matches = {person.id: find_candidates(session, identity_of(person)) for _, person, _ in members}
                joined = self._household_of(session, [c.person_id for _, person, _ in members
                                                      for c in matches[person.id]])
                if joined is None:
                    address_id = self._address(session, address) if address is not None else None
                    target = Household(address_id=address_id, caf_number=household.caf_number)
                    session.add(target)
                    session.flush()
                    central_id, status = target.id, "created"
                else:
                    central_id, status = joined, "joined"
                persons, reviews = self._add_members(session, central_id, members, matches)
                outcome = {"status": status, "household": central_id, "persons": persons, "reviews": reviews,
                           "members": len(members)}
                self._record(session, "household", local_id, key, central_id, outcome)
                return outcome, central_id
        except IntegrityError:
            return self._refuse("household", local_id, key, {"status": "refused", "message": MSG_REFUSED_ROW,
                                                             "bus_persons": bus_persons})

    def _apply_person(self, local_id: int, key: str) -> tuple[dict, int | None]:
        from counter.domain.duplicates import identity_of
        from counter.services.duplicates import find_candidates

        _, members = self._bus_family(None, [local_id])
        copied = [m for m in members if m[0].household_id <= self.top["household"]]
        member = copied[0][0]
        with self.central.engine.connect() as connection:
            gone = connection.execute(text("SELECT 1 FROM household WHERE id = :h"),
                                      {"h": member.household_id}).first() is None
        if gone:  # households are never deleted; a replica of another town's database, say
            return self._refuse("person", local_id, key, {"status": "refused", "message": MSG_NO_HOUSEHOLD,
                                                          "bus_persons": [local_id]})
        try:
            with self.central.write() as session:
                _, person, _ = copied[0]
                matches = {person.id: find_candidates(session, identity_of(person))}
                persons, reviews = self._add_members(session, member.household_id, copied[:1], matches)
                outcome = {"status": "added", "household": member.household_id, "persons": persons,
                           "reviews": reviews}
                self._record(session, "person", local_id, key, persons[str(local_id)], outcome)
                return outcome, persons[str(local_id)]
        except IntegrityError:
            return self._refuse("person", local_id, key, {"status": "refused", "message": MSG_REFUSED_ROW,
                                                          "bus_persons": [local_id]})

    def _household_of(self, session, candidates: list[int]) -> int | None:
        """The household central has for the first matched person that has one."""
        for person_id in candidates:
            found = session.execute(text("SELECT household_id FROM household_member WHERE person_id = :p "
                                         "ORDER BY id LIMIT 1"), {"p": person_id}).scalar()
            if found is not None:
                return found
        return None

    def _add_members(self, session, household_id: int, members: list, matches: dict) -> tuple[dict, list]:
        """New person records in the household; each likely duplicate reviewed (source tour)."""
        from counter.services.duplicates import record_pair

        persons, reviews = {}, []
        for member, person, own in members:
            if person.id in self.persons:  # sent already with another household: the membership only
                central_person = self.persons[person.id]
            else:
                values = {name: getattr(person, name) for name in PERSON_COPY}
                if values["nir"] and session.execute(text("SELECT 1 FROM person WHERE nir = :n"),
                                                     {"n": values["nir"]}).first():
                    # Unique: the person central has keeps it; the review says "nir".
                    values["nir"] = None
                row = Person(**values)  # the mapper events index it for central's search
                session.add(row)
                session.flush()
                central_person = row.id
                for candidate in matches.get(person.id, ()):
                    if record_pair(session, central_person, candidate.person_id, candidate.reasons, "tour"):
                        reviews.append([central_person, candidate.person_id])
            own_id = self._address(session, own) if own is not None else None
            exists = session.execute(text("SELECT 1 FROM household_member WHERE household_id = :h "
                                          "AND person_id = :p"), {"h": household_id, "p": central_person}).first()
            if not exists:
                session.add(HouseholdMember(household_id=household_id, person_id=central_person, role=member.role,
                                            address_id=own_id))
            persons[str(person.id)] = central_person
        session.flush()
        return persons, reviews

    def _address(self, session, address) -> int:
        from counter.store.models import Address

        row = Address(**{name: getattr(address, name) for name in ADDRESS_FIELDS})
        session.add(row)
        session.flush()
        return row.id

    # -- visits -------------------------------------------------------------------------------

    def _central_id(self, kind: str, bus_id: int | None) -> tuple[int | None, str | None]:
        """(central id, None), or (None, the key that blocks it) for a row made on board
        whose item was refused."""
        if bus_id is None:
            return None, None
        top = self.top[kind]
        if bus_id <= top:
            return bus_id, None
        found = (self.households if kind == "household" else self.persons).get(bus_id)
        if found is not None:
            return found, None
        blocker = (self.household_keys if kind == "household" else self.person_keys).get(bus_id)
        if blocker is not None and blocker in self.failed:
            return None, blocker
        # Made on board after this sync read its list of families (the agent went on
        # working): not refused, only not sent yet. The next sync sends both.
        raise _NotYet(f"{self.bus}:{kind}:{bus_id}")

    def _apply_visit(self, local_id: int, key: str) -> tuple[dict, int | None]:
        from counter.domain.receipt import from_json
        from counter.domain.visits import VisitDraft
        from counter.services.visits import VisitError, VisitService, payload_builder

        with self.replica.engine.connect() as connection:
            visit = connection.execute(text("SELECT * FROM visit WHERE id = :id"), {"id": local_id}).one()
            registrations = connection.execute(text(
                "SELECT id, kind, state, rank FROM registration WHERE visit_id = :v ORDER BY id"),
                {"v": local_id}).all()
        base = {"code": visit.code}
        draft = VisitDraft.from_json(visit.draft)
        household, blocked = self._central_id("household", visit.household_id)
        person, blocked_person = self._central_id("person", visit.person_id)
        blocked = blocked or blocked_person
        requests = []
        for request in draft.requests:
            changes = {}
            for name in PERSON_FIELDS:
                if hasattr(request, name) and getattr(request, name) is not None:
                    changes[name], by = self._central_id("person", getattr(request, name))
                    blocked = blocked or by
            requests.append(dataclasses.replace(request, **changes) if changes else request)
        if blocked:
            return self._refuse("visit", local_id, key, {**base, "status": "blocked", "by": blocked})
        draft = dataclasses.replace(draft, household_id=household, person_id=person, requests=requests)
        bus_receipt = from_json(visit.receipt) if visit.receipt else None
        visits = VisitService(self.central, self.clock, visit.agent_login, targets=self.targets, host=self.host)
        with self.central.engine.connect() as connection:
            existing = connection.execute(text("SELECT id, state FROM visit WHERE code = :c"),
                                          {"c": visit.code}).first()
        if existing is not None and existing.state != "draft":
            return self._refuse("visit", local_id, key, {**base, "status": "refused", "message": MSG_CODE_TAKEN})
        # A draft left by a sync cut short carries the code: taken up again, not doubled.
        visit_id = existing.id if existing is not None else visits.start(household, person, code=visit.code)
        outcome: dict = {}

        def applied(session, confirmation) -> None:
            rows = []
            for bus_row, done in zip(registrations, confirmation.outcomes, strict=False):
                state = done.state.value
                rows.append({"bus": bus_row.id, "central": done.registration_id, "kind": bus_row.kind,
                             "bus_state": bus_row.state, "state": state, "bus_rank": bus_row.rank,
                             "rank": done.rank, "changed": state != bus_row.state or done.rank != bus_row.rank,
                             "note": done.note})  # the kind's French word on it (« Plus de place… »)
            outcome.update(base, status="confirmed", visit=visit_id, registrations=rows)
            self._record(session, "visit", local_id, key, visit_id, outcome)

        try:
            context = visits.context(visit_id)
            payloads = payload_builder(self.central, context, self.clock.today(), self.library)
            visits.confirm(visit_id, draft, code=visit.code, payloads=payloads,
                           receipt=lambda _confirmation: bus_receipt, within=applied)
        except VisitError as exc:
            outcome = {**base, "status": "refused", "message": str(exc)[:300]}
            with self.central.write() as session:
                session.execute(text("UPDATE visit SET state = 'abandoned', updated_at = :now "
                                     "WHERE id = :id AND state = 'draft'"), {"id": visit_id, "now": utc_now()})
                self._record(session, "visit", local_id, key, visit_id, outcome)
        return outcome, visit_id

    def _apply_visit_end(self, local_id: int, key: str) -> tuple[dict, int | None]:
        """A visit's end as the bus recorded it: written on the town's visit of that code (a
        confirmed one, sent as its own item), or a new ended visit (information only)."""
        from counter.store.models import Visit

        with self.replica.engine.connect() as connection:
            bus = connection.execute(text(
                "SELECT code, state, household_id, person_id, agent_login, site, created_at, arrived_at, "
                "ended_at, reasons, outcome, outcome_detail FROM visit WHERE id = :id").columns(
                created_at=DateTime(), arrived_at=DateTime(), ended_at=DateTime()), {"id": local_id}).one()
        fields = {"site": bus.site or self.bus, "arrived_at": as_utc(bus.arrived_at), "ended_at": as_utc(bus.ended_at),
                  "reasons": bus.reasons or "", "outcome": bus.outcome, "outcome_detail": bus.outcome_detail}
        if bus.code is not None:
            visit_key = f"{self.bus}:visit:{bus.code}"
            with self.central.engine.connect() as connection:
                sent = connection.execute(text("SELECT central_id, outcome FROM tour_applied WHERE key = :k"),
                                          {"k": visit_key}).first()
            if sent is None:
                raise _NotYet(visit_key)  # the visit itself goes first (this sync or the next)
            if sent.central_id is None or json.loads(sent.outcome).get("status") != "confirmed":
                return self._refuse("visit_end", local_id, key, {"status": "blocked", "by": visit_key})
            with self.central.write() as session:
                session.execute(update(Visit).where(Visit.id == sent.central_id, Visit.ended_at.is_(None))
                                .values(**fields))
                outcome = {"status": "ended", "visit": sent.central_id, "code": bus.code}
                self._record(session, "visit_end", local_id, key, sent.central_id, outcome)
            return outcome, sent.central_id
        household, blocked = self._central_id("household", bus.household_id)
        person, blocked_person = self._central_id("person", bus.person_id)
        if blocked or blocked_person:
            return self._refuse("visit_end", local_id, key, {"status": "blocked", "by": blocked or blocked_person})
        with self.central.write() as session:
            visit = Visit(household_id=household, person_id=person, agent_login=bus.agent_login, state="ended",
                          created_at=as_utc(bus.created_at), updated_at=utc_now(), **fields)
            session.add(visit)
            session.flush()
            central_id = visit.id
            outcome = {"status": "ended", "visit": central_id}
            self._record(session, "visit_end", local_id, key, central_id, outcome)
        return outcome, central_id

    # -- the audit trail ----------------------------------------------------------------------

    def _audit_entries(self) -> None:
        with self.replica.engine.connect() as connection:
            entries = connection.execute(text(
                "SELECT seq, at, agent, host, action, target_type, target_id, details FROM audit_entry "
                "WHERE seq IS NOT NULL ORDER BY seq").columns(at=DateTime())).all()
        pending = [e for e in entries if f"{self.bus}:audit:{e.seq}" not in self.synced]
        self.report.skipped += len(entries) - len(pending)
        for start in range(0, len(pending), AUDIT_BATCH):
            self._audit_batch(pending[start:start + AUDIT_BATCH])

    def _audit_batch(self, batch: list) -> None:
        keys = {f"{self.bus}:audit:{e.seq}": e for e in batch}
        sql = text("SELECT key, central_id, outcome FROM tour_applied WHERE key IN :keys").bindparams(
            bindparam("keys", expanding=True))
        results: dict[str, tuple[int | None, dict, bool]] = {}
        with self.central.write() as session:
            known = {r.key: r for r in session.execute(sql, {"keys": list(keys)})}
            _fence(session, self.holder)
            added = []
            for key, entry in keys.items():
                if key in known:
                    results[key] = (known[key].central_id, json.loads(known[key].outcome), True)
                    continue
                details = _json_dict(entry.details)
                details.update(bus=self.bus, bus_seq=entry.seq, bus_at=_iso(entry.at))
                row = AuditEntry(agent=entry.agent, host=entry.host or "", action=entry.action,
                                 target_type=entry.target_type or "", target_id=entry.target_id or "",
                                 details=_dumps(details))
                session.add(row)
                added.append((key, entry, row))
            session.flush()  # chained here (counter.store.audit_chain)
            for key, entry, row in added:
                outcome = {"status": "appended", "seq": row.seq}
                session.add(TourApplied(key=key, bus=self.bus, kind="audit", local_id=entry.seq, central_id=row.id,
                                        outcome=_dumps(outcome), applied_at=utc_now()))
                results[key] = (row.id, outcome, False)
        with self.replica.write() as session:
            session.execute(text("INSERT INTO tour_synced (key, central_id, outcome, synced_at) "
                                 "VALUES (:k, :c, :o, :at)"),
                            [{"k": k, "c": c, "o": _dumps(o), "at": utc_now()} for k, (c, o, _) in results.items()])
        for key, (_, outcome, reused) in results.items():
            self.synced.add(key)
            self.report.items.append(ItemResult(key, "audit", outcome["status"], outcome, reused))


def _json_dict(raw: str | None) -> dict:
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {"raw": raw}
    return value if isinstance(value, dict) else {"value": value}


def _iso(at) -> str:
    if isinstance(at, str):
        return at
    return as_utc(at).isoformat() if isinstance(at, datetime) else str(at)


# -- what the last syncs brought ----------------------------------------------------------------


@dataclass(frozen=True)
class Recorded:
    key: str
    at: datetime
    outcome: dict


def recorded(store: Store, *, central: bool, bus: str | None = None, limit: int = 2000) -> list[Recorded]:
    """The newest outcomes recorded: central's ``tour_applied`` (every bus, or ``bus``), or
    a replica's ``tour_synced``; audit entries left out (nothing to tell anyone)."""
    if central:
        sql = ("SELECT key, applied_at AS at, outcome FROM tour_applied WHERE kind != 'audit'"
               + (" AND bus = :bus" if bus else "") + " ORDER BY applied_at DESC, key LIMIT :limit")
    else:
        sql = ("SELECT key, synced_at AS at, outcome FROM tour_synced WHERE key NOT LIKE '%:audit:%' "
               "ORDER BY synced_at DESC, key LIMIT :limit")
    with store.engine.connect() as connection:
        rows = connection.execute(text(sql).columns(at=DateTime()), {"bus": bus, "limit": limit}).all()
    return [Recorded(r.key, as_utc(r.at), _json_dict(r.outcome)) for r in rows]
