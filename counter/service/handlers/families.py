"""Households written at the counter, by the agent the kernel names."""

from __future__ import annotations

from counter.service.handlers import handles
from counter.wire import api


def _families(core, actor):
    from counter.services.families import FamilyService

    return FamilyService(core.ready_services().store, actor.login, host=actor.host, clock=core.runtime.clock)


def _written(write) -> api.Written:
    """The new row's id, or the rules' problems (nothing written) for the screen to show at their fields."""
    from counter.services.families import FamilyError, LikelyDuplicates

    try:
        return api.Written(id=write())
    except FamilyError as exc:
        return api.Written(errors=tuple(exc.errors))
    except LikelyDuplicates as exc:
        return api.Written(duplicates=tuple(exc.matches))


@handles(api.FAMILY_STREETS)
def streets(core, actor, _args):
    return tuple(_families(core, actor).streets())


@handles(api.FAMILY_NUMBERS)
def numbers(core, actor, args):
    return tuple(_families(core, actor).numbers(args.street_id))


@handles(api.FAMILY_CREATE)
def create(core, actor, args):
    families = _families(core, actor)
    return _written(lambda: families.create(args.street_id, args.number, args.suffix, args.complement,
                                            list(args.members), distinct_from=args.distinct_from,
                                            ban_id=args.ban_id))


@handles(api.FAMILY_ADD_MEMBER)
def add_member(core, actor, args):
    families = _families(core, actor)
    return _written(lambda: families.add_member(args.household_id, args.member))


@handles(api.FAMILY_SET_ADDRESS)
def set_address(core, actor, args):
    families = _families(core, actor)
    return _written(lambda: families.set_address(args.household_id, args.street_id, args.number, args.suffix,
                                                 args.complement, args.line, args.postal_code, args.city,
                                                 args.ban_id))
