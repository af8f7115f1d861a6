"""Search and households."""

from __future__ import annotations

from counter.wire import api


class PeopleCalls:
    connection: object

    def search(self, text: str, page: int = 0):
        return self.connection.call(api.SEARCH, api.SearchArgs(text, page))

    def household(self, household_id: int):
        return self.connection.call(api.HOUSEHOLD, api.HouseholdArgs(household_id))

    def reveal_nir(self, person_id: int) -> str | None:
        return self.connection.call(api.REVEAL_NIR, api.PersonArgs(person_id))
