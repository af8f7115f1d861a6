"""The administrators' commands: agents, the audit trail, purge, exports, the outbox."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

from counter.wire import api


class AdminCalls:
    connection: object

    # -- agents
    def agents_list(self):
        return self.connection.call(api.AGENTS_LIST)

    def agents_add(self, login: str, role: str, display_name: str = ""):
        return self.connection.call(api.AGENTS_ADD, api.AgentAddArgs(login, role, display_name))

    def agents_disable(self, login: str):
        return self.connection.call(api.AGENTS_DISABLE, api.AgentArgs(login))

    def agents_enable(self, login: str):
        return self.connection.call(api.AGENTS_ENABLE, api.AgentArgs(login))

    def agents_reset_pin(self, login: str) -> None:
        self.connection.call(api.AGENTS_RESET_PIN, api.AgentArgs(login))

    # -- the audit trail
    def audit_verify(self, publish: bool = True) -> api.ChainReport:
        return self.connection.call(api.AUDIT_VERIFY, api.VerifyArgs(publish))

    def audit_against(self, heads, publish: bool = True) -> api.AnchorReport:
        """``heads``: (seq, hash) pairs published for this database."""
        pairs = tuple(api.PublishedHead(seq, hash_) for seq, hash_ in heads)
        return self.connection.call(api.AUDIT_AGAINST, api.AgainstArgs(pairs, publish))

    def audit_export(self, since: datetime) -> Iterator[api.AuditRow]:
        return self.connection.stream(api.AUDIT_EXPORT, api.AuditExportArgs(since))

    def purge(self, older_than: str | None = None, drafts_older_than: str | None = None) -> api.PurgeReport:
        return self.connection.call(api.PURGE, api.PurgeArgs(older_than, drafts_older_than))

    # -- exports
    def export_registrations(self, since: date, fmt: str = "csv") -> Iterator[api.RegistrationRow]:
        return self.connection.stream(api.REGISTRATIONS_EXPORT, api.RegistrationsExportArgs(since, fmt))

    # -- the outbox
    def outbox_list(self, state: str | None = None):
        return self.connection.call(api.OUTBOX_LIST, api.OutboxListArgs(state))

    def outbox_retry(self, ids=(), refused: bool = False) -> int:
        return self.connection.call(api.OUTBOX_RETRY, api.OutboxRetryArgs(tuple(ids), refused))

    def outbox_deliver(self) -> api.DeliveryReport:
        return self.connection.call(api.OUTBOX_DELIVER)
