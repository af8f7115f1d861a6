"""Builders for small, hand-made households used by store and service tests."""

from __future__ import annotations

from sqlmodel import select

from counter.store.engine import Store
from counter.store.models import Address, Household, HouseholdMember, Person, Street

TOWN = ("45999", "Bellerive-sur-Loire")


def person(birth_name: str, given: str, born: tuple, sex: str = "F", **extra) -> Person:
    year, month, day = (tuple(born) + (None, None))[:3]
    return Person(birth_name=birth_name, given_names=given, sex=sex, birth_year=year,
                  birth_month=month, birth_day=day, **extra)


def add_household(store: Store, street: str, number: int, members: list[tuple[Person, str]],
                  caf_number: str | None = None, own_addresses: dict[int, Address] | None = None) -> int:
    """Write a household at a town address; ``own_addresses`` maps member index → address."""
    with store.write() as session:
        found = session.exec(select(Street).where(Street.name == street)).first()
        if found is None:
            found = Street(name=street, postal_code=TOWN[0], city=TOWN[1])
            session.add(found)
            session.flush()
        home = Address(street_id=found.id, number=number, postal_code=TOWN[0], city=TOWN[1])
        session.add(home)
        session.flush()
        household = Household(address_id=home.id, caf_number=caf_number)
        session.add(household)
        session.flush()
        for index, (member, role) in enumerate(members):
            session.add(member)
            session.flush()
            own = (own_addresses or {}).get(index)
            if own is not None:
                session.add(own)
                session.flush()
            session.add(HouseholdMember(household_id=household.id, person_id=member.id, role=role,
                                        address_id=own.id if own is not None else None))
        session.flush()
        return household.id
