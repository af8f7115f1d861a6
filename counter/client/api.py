"""Typed calls on the counter service: what the screens and the commands use.

Each method is one endpoint of ``counter.wire.api``; it raises
``ServiceUnavailable`` when the service does not answer and ``Refused`` when it
says no (``exc.problem.message`` is the French sentence to show).
"""

from __future__ import annotations

from pathlib import Path

from counter.client.connection import Connection
from counter.wire import api


class CounterClient:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    @classmethod
    def at(cls, socket_path: str | Path) -> CounterClient:
        return cls(Connection(socket_path))

    def close(self) -> None:
        self.connection.close()

    # -- the session ------------------------------------------------------------------------

    def session(self):
        return self.connection.call(api.SESSION)

    def unlock(self, pin: str):
        return self.connection.call(api.UNLOCK, api.PinArgs(pin))

    def set_pin(self, pin: str) -> None:
        self.connection.call(api.SET_PIN, api.PinArgs(pin))

    # -- search and households ----------------------------------------------------------------

    def search(self, text: str, page: int = 0):
        return self.connection.call(api.SEARCH, api.SearchArgs(text, page))

    def household(self, household_id: int):
        return self.connection.call(api.HOUSEHOLD, api.HouseholdArgs(household_id))

    def reveal_nir(self, person_id: int) -> str | None:
        return self.connection.call(api.REVEAL_NIR, api.PersonArgs(person_id))
