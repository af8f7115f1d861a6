"""Search and households."""

from __future__ import annotations

from counter.service.handlers import handles
from counter.wire import api


@handles(api.SEARCH)
def search(core, actor, args):
    services = core.ready_services()
    pool = core.search_pool
    if pool is not None:  # a site's service: ranking on every core
        return pool.search(args.text, args.page, services.search.clock.today(), services.search)
    return services.search.search(args.text, args.page)


@handles(api.HOUSEHOLD)
def household(core, actor, args):
    return core.ready_services().households.get(args.household_id)


@handles(api.REVEAL_NIR)
def reveal_nir(core, actor, args):
    return core.ready_services().households.reveal_nir(args.person_id, actor)
