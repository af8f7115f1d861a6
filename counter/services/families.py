"""A family new to the town: its address, household, members — written at once.

Persons are written through the ORM so that the mapper events fill their
search tokens and the name vocabulary in the same transaction: a new family is
found by the citizen search as soon as it is committed, and a failure leaves
no trace at all (no address, household, person, token or audit entry).
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterable

from sqlalchemy import select, text

from counter.clock import SystemClock
from counter.domain.addresses import TownNumber, exact_number, ordered, split_street_line
from counter.domain.identity_checks import (
    ADULT_ROLES,
    PersonInput,
    check_address,
    check_family,
    check_other_address,
    check_person,
)
from counter.domain.duplicate_views import DuplicateMatch
from counter.domain.names import fold
from counter.domain.visits import FieldError
from counter.services.duplicate_review import summaries
from counter.services.duplicates import find_candidates, record_pair
from counter.store.engine import Store
from counter.store.models import Address, AuditEntry, Household, HouseholdMember, Person, Street, TownAddress


class LikelyDuplicates(Exception):
    """Nothing was written: members of the new family may be persons the town knows
    (``matches``: counter.domain.duplicate_views.DuplicateMatch) — the agent decides."""

    def __init__(self, matches: list) -> None:
        super().__init__(f"{len(matches)} likely duplicate(s)")
        self.matches = matches


class FamilyError(Exception):
    """Nothing was written; ``errors`` say where: (member index, or None for the
    address and the household as a whole; the field error)."""

    def __init__(self, errors: list[tuple[int | None, FieldError]]) -> None:
        super().__init__("; ".join(e.message for _, e in errors))
        self.errors = errors


MSG_NO_STREET = "Cette rue n'est plus dans la liste de la ville : choisissez-la de nouveau."
MSG_NO_HOUSEHOLD = "Ce foyer n'existe pas (ou plus)."
MSG_NO_TOWN_ADDRESS = "Ce numéro n'est plus dans la liste de la ville : choisissez-le de nouveau."


class FamilyService:
    def __init__(self, store: Store, agent: str, host: str | None = None, clock=None) -> None:
        self.store = store
        self.agent = agent
        self.host = host or socket.gethostname()
        self.clock = clock or SystemClock()

    def streets(self) -> list[tuple[int, str]]:
        """The town's streets, alphabetical the same way on both databases (retired ones not offered)."""
        with self.store.engine.connect() as connection:
            rows = connection.execute(text("SELECT id, name FROM street WHERE retired = :no"), {"no": False}).all()
        return sorted(((r.id, r.name) for r in rows), key=lambda s: (fold(s[1]), s[0]))

    def numbers(self, street_id: int) -> list[TownNumber]:
        """The street's addresses from the BAN, in list order (retired ones not offered);
        none: the town has not imported its addresses, numbers are typed."""
        with self.store.engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT ban_id, number, suffix FROM town_address WHERE street_id = :s AND retired = :no"),
                {"s": street_id, "no": False}).all()
        return ordered(TownNumber(r.ban_id, r.number, r.suffix) for r in rows)

    def _picked(self, street_id: int | None, number: int | None, suffix: str | None,
                ban_id: str | None) -> tuple[TownAddress | None, list[FieldError]]:
        """The town address an address field names: picked (``ban_id``), or typed and in the
        street's list. A typed number the list lacks is kept as typed (the BAN may lag
        behind a new building; the form offers the list)."""
        if street_id is None:
            return None, []
        with self.store.read() as session:
            if ban_id is not None:
                found = session.execute(select(TownAddress).where(TownAddress.ban_id == ban_id)).scalar()
                if found is None or found.retired or found.street_id != street_id:
                    return None, [FieldError("number", MSG_NO_TOWN_ADDRESS)]
                return found, []
            if number is None:
                return None, []
            rows = session.execute(select(TownAddress).where(
                TownAddress.street_id == street_id, TownAddress.number == number,
                TownAddress.retired.is_(False))).scalars().all()
        wanted = exact_number([TownNumber(r.ban_id, r.number, r.suffix) for r in rows], number, suffix)
        return next((r for r in rows if wanted and r.ban_id == wanted.ban_id), None), []

    def check(self, street_id: int | None, number: int | None, suffix: str | None, complement: str | None,
              members: list[PersonInput], ban_id: str | None = None) -> list[tuple[int | None, FieldError]]:
        """Every problem of a new family; nothing is written."""
        today = self.clock.today()
        picked, errors_picked = self._picked(street_id, number, suffix, ban_id)
        errors: list[tuple[int | None, FieldError]] = [(None, e) for e in errors_picked] + [
            (None, e) for e in check_address(street_id, number, suffix, complement, self._street_name(street_id),
                                             from_list=picked is not None or bool(errors_picked))]
        for index, member in enumerate(members):
            errors.extend((index, e) for e in check_person(member, today))
        errors.extend((None, e) for e in check_family(members, today))
        return errors

    def _street_name(self, street_id: int | None) -> str | None:
        if street_id is None:
            return None
        with self.store.engine.connect() as connection:
            return connection.execute(text("SELECT name FROM street WHERE id = :id"), {"id": street_id}).scalar()

    def create(self, street_id: int, number: int | None, suffix: str | None, complement: str | None,
               members: list[PersonInput], *, distinct_from: Iterable[int] = (),
               ban_id: str | None = None) -> int:
        """Write the family in one transaction; the new household's id.

        Before writing, every member is compared with the persons the town knows
        (counter.services.duplicates): a likely duplicate the agent has not declared
        a different person (``distinct_from``: their ids) raises LikelyDuplicates
        and nothing is written. Those declared different are recorded as dismissed
        pairs and audited (ids and reasons only). ``ban_id``: the town address
        picked from the street's list (kept on the address)."""
        errors = self.check(street_id, number, suffix, complement, members, ban_id)
        if errors:
            raise FamilyError(errors)
        picked, _ = self._picked(street_id, number, suffix, ban_id)
        declared = set(distinct_from)
        with self.store.write() as session:
            found = [(index, candidate) for index, member in enumerate(members)
                     for candidate in find_candidates(session, member)]
            if any(candidate.person_id not in declared for _, candidate in found):
                raise LikelyDuplicates(_matches(session, found))
            street = session.get(Street, street_id)
            if street is None:
                raise FamilyError([(None, FieldError("street", MSG_NO_STREET))])
            address = _town_address(street, number, suffix, complement, picked)
            session.add(address)
            session.flush()
            household = Household(address_id=address.id)
            session.add(household)
            session.flush()
            person_ids = [self._add_person(session, household.id, member) for member in members]
            adults = sum(m.role in ADULT_ROLES for m in members)
            self._audit(session, "household.create", household.id,
                        {"members": len(members), "adults": adults, "children": len(members) - adults})
            if found:  # the agent said « personne différente »: never proposed again, and audited
                pairs = []
                for index, candidate in found:
                    record_pair(session, person_ids[index], candidate.person_id, candidate.reasons, "counter",
                                state="dismissed", decided_by=self.agent)
                    pairs.append({"person": person_ids[index], "candidate": candidate.person_id,
                                  "reasons": list(candidate.reasons)})
                self._audit(session, "duplicate.distinct", household.id, {"pairs": pairs})
            return household.id

    def add_member(self, household_id: int, member: PersonInput) -> int:
        """One more person in an existing household (a child the town did not know)."""
        errors = check_person(member, self.clock.today())
        if errors:
            raise FamilyError([(0, e) for e in errors])
        with self.store.write() as session:
            if session.get(Household, household_id) is None:
                raise FamilyError([(None, FieldError("household", MSG_NO_HOUSEHOLD))])
            rows = session.execute(text(
                "SELECT p.birth_name, p.given_names, p.birth_year, p.birth_month, p.birth_day FROM person p "
                "JOIN household_member m ON m.person_id = p.id WHERE m.household_id = :h"),
                {"h": household_id}).all()
            known = {(fold(r.birth_name), fold(r.given_names), r.birth_year, r.birth_month, r.birth_day)
                     for r in rows}
            if member.identity_key() in known:
                raise FamilyError([(0, FieldError("members", "Cette personne fait déjà partie du foyer "
                                                             "(mêmes noms, prénoms et date de naissance)."))])
            person_id = self._add_person(session, household_id, member)
            details = {"person": person_id, "role": member.role}
            if member.birthplace_to_complete and not member.to_person_fields()["birth_insee_code"]:
                details["birthplace"] = "to_complete"
            self._audit(session, "household.add_member", household_id, details)
            return person_id

    def set_address(self, household_id: int, street_id: int | None, number: int | None = None,
                    suffix: str | None = None, complement: str | None = None, line: str | None = None,
                    postal_code: str | None = None, city: str | None = None, ban_id: str | None = None) -> int:
        """Move the household to an address: a street of the town (its postal code
        and city follow the street), or a free address as an agency gives it.
        A new address row: others pointing at the old one are left alone.
        A free address that names a street of the town (an agency's "12 BIS RUE DES
        LILAS", the town's postal code) is taken as that street and number, so that
        the household keeps its school sector."""
        if street_id is None and line and postal_code:
            found = self._in_town(line, postal_code)
            if found is not None and not self._town_errors(*found, complement):
                street_id, number, suffix = found
        picked, errors = self._picked(street_id, number, suffix, ban_id)
        if street_id is not None:
            errors += self._town_errors(street_id, number, suffix, complement, picked is not None or bool(errors))
        else:
            errors = check_other_address(line, postal_code, city, complement)
        if errors:
            raise FamilyError([(None, e) for e in errors])
        with self.store.write() as session:
            household = session.get(Household, household_id)
            if household is None:
                raise FamilyError([(None, FieldError("household", MSG_NO_HOUSEHOLD))])
            if street_id is not None:
                street = session.get(Street, street_id)
                if street is None:
                    raise FamilyError([(None, FieldError("street", MSG_NO_STREET))])
                address = _town_address(street, number, suffix, complement, picked)
            else:
                address = Address(line=" ".join(line.split()), complement=_blank_none(complement),
                                  postal_code=postal_code.strip(), city=" ".join(city.split()))
            session.add(address)
            session.flush()
            household.address_id = address.id
            session.add(household)
            self._audit(session, "household.address", household_id,
                        {"address": address.id, "in_town": street_id is not None})
            return address.id

    def _town_errors(self, street_id, number, suffix, complement, from_list: bool = False) -> list[FieldError]:
        if not from_list:
            picked, _ = self._picked(street_id, number, suffix, None)
            from_list = picked is not None
        return check_address(street_id, number, suffix, complement, self._street_name(street_id),
                             from_list=from_list)

    def _in_town(self, line: str, postal_code: str) -> tuple[int, int, str | None] | None:
        """(street id, number, suffix) of a free address on one of the town's streets (same
        postal code, same name once abbreviations and accents are set aside)."""
        from counter.domain.merge import normalise_street

        split = split_street_line(line)
        if split is None:
            return None
        wanted = normalise_street(split[2])
        with self.store.engine.connect() as connection:
            rows = connection.execute(text("SELECT id, name FROM street WHERE retired = :no AND postal_code = :p"),
                                      {"no": False, "p": postal_code.strip()}).all()
        found = [r.id for r in rows if normalise_street(r.name) == wanted]
        return (found[0], split[0], split[1]) if len(found) == 1 else None

    def _add_person(self, session, household_id: int, member: PersonInput) -> int:
        person = Person(**member.to_person_fields())  # the mapper events index it
        session.add(person)
        session.flush()
        session.add(HouseholdMember(household_id=household_id, person_id=person.id, role=member.role))
        session.flush()
        return person.id

    def _audit(self, session, action: str, household_id: int, details: dict) -> None:
        # Counts and ids only: the audit trail never holds names or dates.
        session.add(AuditEntry(agent=self.agent, host=self.host, action=action, target_type="household",
                               target_id=str(household_id), details=json.dumps(details, sort_keys=True)))


def _matches(session, found) -> list[DuplicateMatch]:
    """The candidates as the agent sees them: who, born when, which household, why."""
    people = summaries(session.connection(), [candidate.person_id for _, candidate in found])
    return [DuplicateMatch(index, people[candidate.person_id], candidate.reasons) for index, candidate in found]


def _blank_none(value: str | None) -> str | None:
    value = " ".join((value or "").split())
    return value or None


def _suffix(value: str | None) -> str | None:
    value = _blank_none(value)
    return value.lower() if value else None


def _town_address(street: Street, number, suffix, complement, picked: TownAddress | None) -> Address:
    """An address row on a street of the town; picked from the BAN list: its number,
    suffix and postal code (a town may have several), and its id kept."""
    if picked is not None:
        return Address(street_id=street.id, number=picked.number, suffix=picked.suffix,
                       complement=_blank_none(complement), postal_code=picked.postal_code, city=street.city,
                       ban_id=picked.ban_id)
    return Address(street_id=street.id, number=number, suffix=_suffix(suffix), complement=_blank_none(complement),
                   postal_code=street.postal_code, city=street.city)
