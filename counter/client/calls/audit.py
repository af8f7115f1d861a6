"""The audit screen."""

from __future__ import annotations

from counter.wire import api


class AuditCalls:
    connection: object

    def audit_recent(self, limit: int = 200):
        return self.connection.call(api.AUDIT_RECENT, api.AuditRecentArgs(limit))
