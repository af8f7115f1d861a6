"""The session, the lock and the PIN."""

from __future__ import annotations

from counter.wire import api


class SessionCalls:
    connection: object

    def session(self, retry: bool = False):
        return self.connection.call(api.SESSION, api.SessionArgs(retry))

    def unlock(self, pin: str):
        return self.connection.call(api.UNLOCK, api.PinArgs(pin))

    def set_pin(self, pin: str) -> None:
        self.connection.call(api.SET_PIN, api.PinArgs(pin))

    def switch_link(self, up: bool) -> None:
        """Training's bus: cut (False) or restore (True) its link to the town hall."""
        self.connection.call(api.TRAINING_LINK, api.LinkArgs(up))
