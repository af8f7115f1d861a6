"""The dossier: one DossierService for every agent (the backends, their caches
and rate limits); the agent comes with each request."""

from __future__ import annotations

import asyncio

from counter.service.handlers import handles
from counter.wire import api


@handles(api.DOSSIER_SECTIONS)
def sections(core, actor, _args):
    return tuple(core.with_agencies().dossier.sections())


@handles(api.DOSSIER_CONSULT)
async def consult(core, actor, args):
    # Waiting for the agencies to be connected blocks: not on the event loop.
    services = await asyncio.to_thread(core.with_agencies)
    keys = None if args.sections is None else [tuple(key) for key in args.sections]
    async for update in services.dossier.consultation(actor, args.person_id, args.purpose, keys,
                                                      args.refresh, args.opening):
        yield update


@handles(api.DOSSIER_COMPARE)
def compare(core, actor, args):
    return core.with_agencies().dossier.compare(actor, args.opening)
