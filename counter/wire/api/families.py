"""Households written at the counter: a new family, a member added, an address."""

from __future__ import annotations

from dataclasses import dataclass

from counter.domain.addresses import TownNumber
from counter.domain.duplicate_views import DuplicateMatch
from counter.domain.identity_checks import PersonInput
from counter.domain.visits import FieldError
from counter.wire.endpoints import NoArgs, endpoint

# The town's streets: (id, name), alphabetical.
FAMILY_STREETS = endpoint("family.streets", NoArgs, tuple[tuple[int, str], ...])


@dataclass(frozen=True)
class StreetArgs:
    street_id: int


# A street's addresses from the BAN, in list order; none: numbers are typed (no BAN import).
FAMILY_NUMBERS = endpoint("family.numbers", StreetArgs, tuple[TownNumber, ...])


@dataclass(frozen=True)
class NewFamilyArgs:
    street_id: int | None
    number: int | None
    suffix: str | None
    complement: str | None
    members: tuple[PersonInput, ...]
    # Persons the agent declared different (« Personne différente ») from the members.
    distinct_from: tuple[int, ...] = ()
    ban_id: str | None = None  # the town address picked from the street's list


@dataclass(frozen=True)
class Written:
    """The new row's id, or what kept anything from being written: the problems
    (member index, or None for the address and the household; the error), or
    persons the town knows whom members may be (``duplicates``: the agent decides)."""

    id: int | None = None
    errors: tuple[tuple[int | None, FieldError], ...] = ()
    duplicates: tuple[DuplicateMatch, ...] = ()


FAMILY_CREATE = endpoint("family.create", NewFamilyArgs, Written)


@dataclass(frozen=True)
class MemberArgs:
    household_id: int
    member: PersonInput


FAMILY_ADD_MEMBER = endpoint("family.add_member", MemberArgs, Written)


@dataclass(frozen=True)
class AddressArgs:
    """A street of the town (``street_id``, number…) or a free address as an agency gives it."""

    household_id: int
    street_id: int | None = None
    number: int | None = None
    suffix: str | None = None
    complement: str | None = None
    line: str | None = None
    postal_code: str | None = None
    city: str | None = None
    ban_id: str | None = None


FAMILY_SET_ADDRESS = endpoint("family.set_address", AddressArgs, Written)
