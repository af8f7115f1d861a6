"""The statistics: the core decides whose figures the peer gets (counter.services.statistics)."""

from __future__ import annotations

from counter.service.handlers import handles
from counter.wire import api


@handles(api.STATISTICS)
def compute(core, actor, args):
    from counter.services import audit
    from counter.services.statistics import compute as figures

    store = core.ready_services().store
    result = figures(store, actor, args.query, core.runtime.desk(), today=core.runtime.clock.today())
    if args.export:  # aggregates only: the period and filters, never a figure about a person
        q = result.query
        audit.record(store, actor, "statistics.export", "statistics", "",
                     {"since": q.since.isoformat(), "until": q.until.isoformat(), "site": q.site or "",
                      "agent": q.agent or ""})
    return result
