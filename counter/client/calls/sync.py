"""The family system's change feed, for the supervisors' screen."""

from __future__ import annotations

from counter.wire import api


class SyncCalls:
    connection: object

    def sync_status(self):
        return self.connection.call(api.SYNC_STATUS, api.SyncStatusArgs())
