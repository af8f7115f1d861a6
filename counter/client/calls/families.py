"""Households written at the counter: a new family, a member, an address."""

from __future__ import annotations

from counter.wire import api


class FamilyCalls:
    connection: object

    def streets(self) -> tuple[tuple[int, str], ...]:
        return self.connection.call(api.FAMILY_STREETS)

    def street_numbers(self, street_id: int):
        """The street's addresses (counter.domain.addresses.TownNumber); none: typed numbers."""
        return self.connection.call(api.FAMILY_NUMBERS, api.StreetArgs(street_id))

    def create_family(self, street_id, number, suffix, complement, members, *, distinct_from=(),
                      ban_id=None) -> api.Written:
        """``distinct_from``: the persons the agent declared different from the members;
        ``ban_id``: the town address picked from the street's list."""
        return self.connection.call(api.FAMILY_CREATE, api.NewFamilyArgs(
            street_id, number, suffix, complement, tuple(members), distinct_from=tuple(distinct_from), ban_id=ban_id))

    def add_member(self, household_id: int, member) -> api.Written:
        return self.connection.call(api.FAMILY_ADD_MEMBER, api.MemberArgs(household_id, member))

    def set_address(self, household_id: int, **address) -> api.Written:
        return self.connection.call(api.FAMILY_SET_ADDRESS, api.AddressArgs(household_id, **address))
