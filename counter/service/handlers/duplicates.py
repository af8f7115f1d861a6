"""Likely duplicates for the supervisors; ReviewService checks the role and audits a refusal."""

from __future__ import annotations

from counter.service.handlers import handles
from counter.wire import api

STATES = ("pending", "merged", "dismissed")


def _reviews(core, actor):
    from counter.services.duplicate_review import ReviewService

    return ReviewService(core.ready_services().store, actor)


@handles(api.DUPLICATES_LIST)
def pairs(core, actor, args):
    if args.state is not None and args.state not in STATES:
        from counter.wire.codec import WireFormatError

        raise WireFormatError(f"unknown state {args.state[:20]!r}")
    return _reviews(core, actor).pairs(args.state)


@handles(api.DUPLICATES_MERGE)
def merge(core, actor, args):
    return _reviews(core, actor).merge(args.keep, args.drop)


@handles(api.DUPLICATES_DISMISS)
def dismiss(core, actor, args) -> int:
    return _reviews(core, actor).dismiss(args.review_id)
