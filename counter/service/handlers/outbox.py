"""The outbox for the supervisors' screen; RegistrationService checks the role and audits a refusal."""

from __future__ import annotations

from counter.service.handlers import handles
from counter.service.handlers.registrations import registrations
from counter.wire import api


@handles(api.OUTBOX_MESSAGES)
def messages(core, actor, args):
    return registrations(core, actor).outbox_messages(args.state)


@handles(api.OUTBOX_RELAUNCH)
def relaunch(core, actor, args) -> str:
    said = registrations(core, actor).retry_message(args.message_id)
    core.wake_outbox()  # sent now rather than at the relay's next round
    return said
