"""The family system's change feed: its state, for supervisors' screens."""

from __future__ import annotations

from counter.service.handlers import handles
from counter.wire import api


@handles(api.SYNC_STATUS)
def status(core, actor, _args):
    return core.sync_status()
