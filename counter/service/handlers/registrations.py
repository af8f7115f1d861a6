"""Confirmed registrations and their receipts. Who may cancel is checked by
RegistrationService, which audits a refusal under the peer's login."""

from __future__ import annotations

from pathlib import Path

from counter.service.handlers import handles
from counter.wire import api


def registrations(core, actor):
    """The registrations as the peer may handle them (their login and role, from the service)."""
    from counter.services.registrations import RegistrationService

    return RegistrationService(core.ready_services().store, actor.login, actor.role, actor.host,
                               training=actor.training)


@handles(api.REGISTRATIONS_SEARCH)
def search(core, actor, args):
    return registrations(core, actor).search(args.text)


@handles(api.REGISTRATION_DETAIL)
def detail(core, actor, args):
    return registrations(core, actor).get(args.registration_id)


@handles(api.REGISTRATION_CANCEL)
def cancel(core, actor, args):
    result = registrations(core, actor).cancel(args.registration_id, args.reason)
    core.wake_outbox()  # a cancellation for the town's system leaves now rather than at the next round
    return result


# -- the receipt, again -------------------------------------------------------------------------

CANNOT_WRITE = ("Impression impossible : le répertoire des récépissés n'est pas accessible en écriture "
                "(voir « counter doctor »).")


def _saved(core, receipt):
    """The receipt's files under the service's data directory, written again if lost; None if they cannot be."""
    from counter.services.receipts import ensure_saved

    try:
        return ensure_saved(receipt, core.runtime.data_dir)
    except (OSError, ValueError):  # a directory not writable, a code unfit for a file name
        return None


@handles(api.STORED_RECEIPT)
def stored_receipt(core, actor, args) -> api.StoredReceipt:
    receipt = registrations(core, actor).receipt(args.visit_id)
    saved = _saved(core, receipt)
    where = None
    if saved is not None:
        where = str(saved.pdf_path.relative_to(Path(core.runtime.data_dir) / "receipts"))
    return api.StoredReceipt(receipt, where)


@handles(api.REPRINT_RECEIPT)
def reprint_receipt(core, actor, args) -> api.Printed:
    """Printed on the service's printer (the town's rules), the reprint audited: it holds personal data."""
    from counter.domain.rules import default_rules
    from counter.services.receipts import print_receipt

    receipt = registrations(core, actor).receipt(args.visit_id, reprint=True)
    saved = _saved(core, receipt)
    if saved is None:
        return api.Printed(False, CANNOT_WRITE)
    result = print_receipt(saved.pdf_path, (core.runtime.rules or default_rules()).printer)
    return api.Printed(result.ok, result.message)
