"""The outbox, for the supervisors' screen."""

from __future__ import annotations

from counter.wire import api


class OutboxCalls:
    connection: object

    def outbox_messages(self, state: str | None = None):
        return self.connection.call(api.OUTBOX_MESSAGES, api.OutboxMessagesArgs(state))

    def relaunch_message(self, message_id: int) -> str:
        return self.connection.call(api.OUTBOX_RELAUNCH, api.OutboxMessageArgs(message_id))
