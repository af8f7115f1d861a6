"""Families from the town's family system, written into the counter's records.

One function for one family (:func:`apply_family`, the change feed's) and one
for many (:func:`apply_families`, the import's: the same rules, with the
lookups made once for the batch). Both write in the caller's session; the
caller owns the transaction. A family is written whole or not at all: its
checks come first (nothing written for a refused family), and its writes run
in a savepoint.

Matching is on the family system's identifiers (``source_id``): a household or
a person the counter knows by that id is updated, others are created; a member
the family no longer lists is detached from the household (the person stays:
visits refer to them); members the counter added itself (no ``source_id``: a
newborn registered at the counter) are kept. Persons are written through the
ORM, so the mapper events of :mod:`counter.store.indexing` index them in the
same transaction.

Newly created persons are returned (``FamilyOutcome.created_person_ids``) for
the caller to hand to duplicate detection.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm.attributes import set_attribute

from counter.domain import nir as nirs
from counter.domain.family_checks import Reason, check_source_family, person_fields
from counter.domain.family_records import SourceFamily, SourcePerson
from counter.domain.households import normalise_caf_number
from counter.services.family_addresses import AddressBook, AddressFields
from counter.store.indexing import gathered_vocabulary
from counter.store.models import Address, Household, HouseholdMember, Person

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"
# What a blank value of the source does not erase: the counter may know it (typed by
# an agent, given by an agency) when the family software does not.
_KEPT_WHEN_BLANK = frozenset({"nir", "phone", "email"})
_IN_CHUNK = 500  # identifiers per IN (…) list


class FamilyRejected(Exception):
    """The family was not written at all; ``reasons`` say why, field by field. Its
    text names the fields and the source ids only (a reason may quote a value, such
    as a birth date: fit for a reject file, not for a log)."""

    def __init__(self, source_id: str, reasons: list[Reason]) -> None:
        fields = ", ".join(f"{r.field} ({r.person})" if r.person else r.field for r in reasons)
        super().__init__(f"family {source_id!r} refused: {fields}")
        self.source_id = source_id
        self.reasons = reasons


@dataclass(frozen=True)
class FamilyOutcome:
    source_id: str
    household_id: int
    status: str  # created | updated | unchanged
    created_person_ids: tuple[int, ...] = ()
    updated_person_ids: tuple[int, ...] = ()
    detached_person_ids: tuple[int, ...] = ()


@dataclass
class _Checked:
    family: SourceFamily
    address: AddressFields | None
    member_addresses: dict[str, AddressFields | None] = field(default_factory=dict)
    person_fields: dict[str, dict] = field(default_factory=dict)  # source id -> the person row's columns


def check(family: SourceFamily, today: date, addresses: AddressBook) -> _Checked:
    """The family's own rules and its addresses; FamilyRejected, nothing read besides the addresses."""
    reasons = check_source_family(family, today)
    address = None
    if family.address is not None:
        address, more = addresses.resolve(family.address)
        reasons += more
    own: dict[str, AddressFields | None] = {}
    for member in family.members:
        if member.address is not None:
            own[member.source_id], more = addresses.resolve(member.address, member.source_id)
            reasons += more
    if reasons:
        raise FamilyRejected(family.source_id, reasons)
    return _Checked(family, address, own, {m.source_id: _person_fields(m) for m in family.members})


def apply_family(session, family: SourceFamily, *, today: date,
                 addresses: AddressBook | None = None) -> FamilyOutcome:
    """Write one family (create or update, matched on source ids) in ``session``.

    Raises FamilyRejected (nothing written for it) when a rule refuses it or the
    database does (a NIR another person holds). ``addresses``: the town's
    addresses read once by the caller for many families (read here otherwise).
    """
    result = apply_families(session, [family], today=today, addresses=addresses)[0]
    if isinstance(result, FamilyRejected):
        raise result
    return result


def apply_families(session, families: Sequence[SourceFamily], *, today: date,
                   addresses: AddressBook | None = None) -> list[FamilyOutcome | FamilyRejected]:
    """Write many families, each whole or not at all; one result per family, in order.

    The families accepted by the checks are written together in one savepoint
    (a few statements for the whole batch); should the database refuse that
    (a unique NIR, a value too long), each is written again in a savepoint of
    its own and the ones it still refuses are reported, the others kept.
    """
    addresses = addresses or AddressBook(session)
    results: list[FamilyOutcome | FamilyRejected | None] = [None] * len(families)
    checked: list[tuple[int, _Checked]] = []
    seen_families: set[str] = set()
    for index, family in enumerate(families):
        try:
            if family.source_id in seen_families:
                raise FamilyRejected(family.source_id, [Reason(
                    "family_id", f"La famille {family.source_id} est déjà plus haut dans le lot.",
                    f"family {family.source_id} already given earlier in the same batch")])
            seen_families.add(family.source_id)
            checked.append((index, check(family, today, addresses)))
        except FamilyRejected as rejected:
            results[index] = rejected
    if checked:
        try:
            with session.begin_nested():
                written = _write(session, [c for _, c in checked])
        except (IntegrityError, DataError):
            written = []
            for _, one in checked:
                try:
                    with session.begin_nested():
                        written += _write(session, [one])
                except (IntegrityError, DataError) as exc:
                    written.append(FamilyRejected(one.family.source_id, [_database_refused(exc)]))
        for (index, _), result in zip(checked, written, strict=True):
            results[index] = result
    return results  # type: ignore[return-value]


def _database_refused(exc: Exception) -> Reason:
    what = "a value already held by another record (a NIR?)" if isinstance(exc, IntegrityError) else \
        "a value the database cannot hold"
    return Reason("family_id", "La base de données a refusé cette famille (une valeur déjà prise ou trop longue).",
                  f"the database refused this family: {what}")


# -- writing -----------------------------------------------------------------------------------


def _chunks(values: Iterable, size: int = _IN_CHUNK):
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _fetch(session, column, values) -> list:
    rows = []
    for chunk in _chunks(sorted(set(values))):
        rows += session.execute(select(column.class_).where(column.in_(chunk))).scalars().all()
    return rows


def _person_fields(p: SourcePerson) -> dict:
    fields = dict(person_fields(p))
    fields.update(nir=nirs.compact(p.nir) if p.nir else None,
                  phone=" ".join(p.phone.split()) if p.phone and p.phone.strip() else None,
                  email=p.email.strip() if p.email and p.email.strip() else None,
                  source_id=p.source_id, removed_at=None)
    return fields


def _write(session, batch: list[_Checked]) -> list[FamilyOutcome | FamilyRejected]:
    """Write the checked families of ``batch``: lookups once, then four flushes
    (addresses, households, persons, memberships) whatever the batch's size."""
    with session.no_autoflush:
        households = {h.source_id: h for h in _fetch(session, Household.source_id,
                                                     (c.family.source_id for c in batch))}
        member_ids = {m.source_id for c in batch for m in c.family.members}
        persons = {p.source_id: p for p in _fetch(session, Person.source_id, member_ids)}
        wanted_nirs = {nirs.compact(m.nir) for c in batch for m in c.family.members if m.nir}
        nir_holders = {p.nir: p for p in _fetch(session, Person.nir, wanted_nirs)}
        known_ids = [h.id for h in households.values()]
        memberships: dict[int, list[HouseholdMember]] = {}
        for member in _fetch(session, HouseholdMember.household_id, known_ids):
            memberships.setdefault(member.household_id, []).append(member)
        member_person_ids = {m.person_id for ms in memberships.values() for m in ms}
        member_persons = {p.id: p for p in _fetch(session, Person.id, member_person_ids)}
        address_ids = {h.address_id for h in households.values() if h.address_id} | {
            m.address_id for ms in memberships.values() for m in ms if m.address_id}
        old_addresses = {a.id: AddressFields.of_row(a) for a in _fetch(session, Address.id, address_ids)}

    results: list[FamilyOutcome | FamilyRejected | None] = [None] * len(batch)
    ids = _Ids(session)
    plans: list[_Plan] = []
    nir_owner = {nir: p.source_id for nir, p in nir_holders.items()}
    for index, checked in enumerate(batch):
        family = checked.family
        conflicts = []
        for member in family.members:
            nir = nirs.compact(member.nir) if member.nir else None
            if nir is None:
                continue
            owner = nir_owner.get(nir, member.source_id)
            if owner != member.source_id:
                conflicts.append(Reason("nir", "Ce NIR est déjà celui d'une autre personne connue du guichet.",
                                        "this NIR already belongs to another person the counter knows",
                                        member.source_id))
        if conflicts:
            results[index] = FamilyRejected(family.source_id, conflicts)
            continue
        for member in family.members:
            if member.nir:
                nir_owner[nirs.compact(member.nir)] = member.source_id
        plans.append(_Plan(index, checked, households.get(family.source_id)))

    # 1. addresses that changed or are new (Core inserts: one statement for the batch)
    wanted: list[tuple[_Plan, str | None, AddressFields]] = []
    for plan in plans:
        old = old_addresses.get(plan.household.address_id) if plan.household else None
        if plan.checked.address is not None and plan.checked.address != old:
            wanted.append((plan, None, plan.checked.address))
        current = {m.person_id: m for m in memberships.get(plan.household.id, [])} if plan.household else {}
        plan.memberships = current
        for member in plan.checked.family.members:
            own = plan.checked.member_addresses.get(member.source_id)
            if own is None:
                continue
            person = persons.get(member.source_id)
            membership = current.get(person.id) if person is not None else None
            if membership is None or own != old_addresses.get(membership.address_id):
                wanted.append((plan, member.source_id, own))
    for (plan, who, _), new_id in zip(wanted, ids.insert(Address, [a.columns() for _, _, a in wanted]),
                                      strict=True):
        if who is None:
            plan.new_address_id = new_id
        else:
            plan.own_address_ids[who] = new_id
    # 2. households
    new_households = []
    for plan in plans:
        family, household = plan.checked.family, plan.household
        caf = normalise_caf_number(family.caf_number) if family.caf_number and family.caf_number.strip() else None
        if household is None:
            new_households.append({"source_id": family.source_id, "caf_number": caf,
                                   "address_id": plan.new_address_id})
            plan.status = CREATED
        else:
            # No address from the source: the one the counter has is kept.
            address_id = plan.new_address_id or household.address_id
            values = {"caf_number": caf, "address_id": address_id, "removed_at": None}
            if caf is None:
                del values["caf_number"]  # blank in the source: the counter's is kept
            plan.changed |= _assign(household, values)
    household_ids = iter(ids.insert(Household, new_households))
    for plan in plans:
        plan.household_id = next(household_ids) if plan.status == CREATED else plan.household.id
    # 3. persons, through the ORM (the mapper events index them); the same person in
    # two families of the batch is one row
    new_ids = iter(ids.take(Person, len({m.source_id for plan in plans for m in plan.checked.family.members
                                         if m.source_id not in persons})))
    connection = session.connection()
    with gathered_vocabulary(connection):
        for plan in plans:
            for member in plan.checked.family.members:
                fields = plan.checked.person_fields[member.source_id]
                person = persons.get(member.source_id)
                if person is None:
                    person = _new_person(fields, next(new_ids))
                    session.add(person)
                    persons[member.source_id] = person
                    plan.created.append(person)
                elif _assign(person, {k: v for k, v in fields.items() if v is not None or k not in _KEPT_WHEN_BLANK}):
                    plan.updated.append(person)
        session.flush()
    # 4. memberships (and a member's own address)
    new_members = []
    for plan in plans:
        current = plan.memberships
        listed: set[int] = set()
        for member in plan.checked.family.members:
            person = persons[member.source_id]
            listed.add(person.id)
            membership = current.get(person.id)
            own = plan.checked.member_addresses.get(member.source_id)
            own_id = plan.own_address_ids.get(member.source_id) or (
                membership.address_id if own is not None and membership is not None else None)
            if membership is None:
                new_members.append({"household_id": plan.household_id, "person_id": person.id, "role": member.role,
                                    "address_id": own_id})
                plan.changed = True
            else:
                plan.changed |= _assign(membership, {"role": member.role, "address_id": own_id})
        for person_id, membership in current.items():
            if person_id in listed:
                continue
            person = member_persons.get(person_id)
            if person is not None and person.source_id is None:
                continue  # added at the counter: the family system does not know them yet
            session.delete(membership)
            plan.detached.append(person_id)
    ids.insert(HouseholdMember, new_members)
    session.flush()
    for plan in plans:
        status = plan.status or (UPDATED if plan.changed or plan.updated or plan.created or plan.detached
                                 or plan.new_address_id is not None or plan.own_address_ids else UNCHANGED)
        results[plan.index] = FamilyOutcome(plan.checked.family.source_id, plan.household_id, status,
                                            tuple(p.id for p in plan.created), tuple(p.id for p in plan.updated),
                                            tuple(plan.detached))
    return results  # type: ignore[return-value]


@dataclass
class _Plan:
    index: int
    checked: _Checked
    household: Household | None
    household_id: int | None = None
    memberships: dict[int, HouseholdMember] = field(default_factory=dict)
    new_address_id: int | None = None
    own_address_ids: dict[str, int] = field(default_factory=dict)
    status: str | None = None
    changed: bool = False
    created: list[Person] = field(default_factory=list)
    updated: list[Person] = field(default_factory=list)
    detached: list[int] = field(default_factory=list)


_PERSON_DEFAULTS = {name: info.get_default(call_default_factory=True) for name, info in Person.model_fields.items()
                    if not info.is_required()}


def _new_person(fields: dict, person_id: int | None = None) -> Person:
    """``Person(**fields)`` as SQLModel builds it (every column through the ORM's
    instrumentation, pydantic's bookkeeping set), without its per-field overhead:
    a tenth of the time, and an import builds 100,000. The mapper events fire at
    the flush as for any person."""
    person = Person._sa_class_manager.new_instance()
    for name, value in {**_PERSON_DEFAULTS, **fields, "id": person_id}.items():
        set_attribute(person, name, value)
    object.__setattr__(person, "__pydantic_fields_set__", set(fields))
    object.__setattr__(person, "__pydantic_extra__", None)
    object.__setattr__(person, "__pydantic_private__", None)
    return person


class _Ids:
    """New rows' ids, taken before they are inserted, so that each table's new rows of a
    batch go in as one executemany (an INSERT … RETURNING would be sent row by row on
    SQLite, and as one enormous statement psycopg parses again for every batch).

    SQLite writes one transaction at a time (``BEGIN IMMEDIATE``): the ids follow the
    table's largest. PostgreSQL: from the table's sequence, as the column's default would.
    """

    def __init__(self, session) -> None:
        self.session = session
        self.sqlite = session.get_bind().dialect.name == "sqlite"
        self._next: dict[str, int] = {}

    def take(self, model, count: int) -> list[int]:
        if count == 0:
            return []
        table = model.__table__
        if not self.sqlite:
            return list(self.session.execute(
                text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :count)"),
                {"table": table.name, "count": count}).scalars())
        if table.name not in self._next:
            top = self.session.execute(select(func.max(table.c.id))).scalar()
            self._next[table.name] = (top or 0) + 1
        first = self._next[table.name]
        self._next[table.name] = first + count
        return list(range(first, first + count))

    def insert(self, model, rows: list[dict]) -> list[int]:
        """Insert ``rows`` (Core: no ORM objects to build); their ids, in order. A new
        address row is never an update: rows pointing at an old one are left alone."""
        if not rows:
            return []
        new_ids = self.take(model, len(rows))
        self.session.execute(insert(model.__table__),
                             [{**row, "id": i} for row, i in zip(rows, new_ids, strict=True)])
        return new_ids


def _assign(row, values: dict) -> bool:
    """Set the columns that differ; whether any did."""
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed
