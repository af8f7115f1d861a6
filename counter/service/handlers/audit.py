"""The audit screen: supervisors only (``audit.require`` audits a refusal)."""

from __future__ import annotations

from counter.service.handlers import handles
from counter.wire import api

MAX_ENTRIES = 1000


@handles(api.AUDIT_RECENT)
def recent(core, actor, args) -> api.AuditOverview:
    from counter.services import audit

    store = core.ready_services().store
    audit.require(store, actor, "audit.view")
    broken, checked = audit.verify(store)
    entries = audit.recent(store, min(max(args.limit, 1), MAX_ENTRIES))
    return api.AuditOverview(tuple(entries), broken, checked)
