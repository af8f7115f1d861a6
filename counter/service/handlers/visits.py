"""A visit, for the agent the kernel names: its drafts, the agencies' answers,
its summary, the confirmation, the receipt's files and printing.

The terminal sends what the agent typed; everything a visit comes to is worked
out here (prices with the town's rules, papers, checks, payloads, receipt).
"""

from __future__ import annotations

from counter.service.handlers import handles
from counter.wire import api


def _rules(core):
    from counter.domain.rules import default_rules

    return core.runtime.rules or default_rules()


def _visits(core, actor):
    """The visit service acting for ``actor``: audit entries and drafts are theirs."""
    from counter.service.composition import delivery_targets
    from counter.services.visits import VisitService

    return VisitService(core.ready_services().store, core.runtime.clock, actor.login, delivery_targets(core.runtime),
                        host=actor.host, library_codes=_rules(core).library.codes)


def _state(visits, visit_id: int):
    """(state, stored draft); LookupError for a visit that does not exist."""
    from sqlalchemy.exc import NoResultFound

    try:
        return visits.load(visit_id)
    except NoResultFound:
        raise LookupError(visit_id) from None


def _context(core, actor, visits, visit_id: int, fresh: bool = False):
    return core.open_visits.context(visit_id, actor.login, lambda: visits.context(visit_id), fresh=fresh)


@handles(api.VISIT_START)
def start(core, actor, args) -> int:
    from counter.service.handlers.front_desk import desk_service

    # The visit opened on the agent's ticket, if they serve one (counter.services.front_desk), else a new one.
    if args.household_id is not None:
        return desk_service(core, actor).start(args.household_id, None)
    return desk_service(core, actor).start(None, args.person_id)


@handles(api.VISIT_OPEN)
def open_visit(core, actor, args):
    visits = _visits(core, actor)
    state, draft = _state(visits, args.visit_id)
    return api.OpenedVisit(state, draft, _context(core, actor, visits, args.visit_id, fresh=True))


@handles(api.VISIT_DRAFTS)
def drafts(core, actor, _args):
    return tuple(api.DraftInfo(*row) for row in _visits(core, actor).drafts())


@handles(api.VISIT_ABANDON)
def abandon(core, actor, args) -> None:
    _visits(core, actor).abandon(args.visit_id)
    core.open_visits.close(args.visit_id, actor.login)


@handles(api.VISIT_SAVE)
def save(core, actor, args):
    from counter.domain.visit_context import check_draft
    from counter.domain.visit_summary import summarise

    visits = _visits(core, actor)
    visits.save(args.visit_id, args.draft)  # an older revision than the one stored is not written
    context = _context(core, actor, visits, args.visit_id)
    facts = core.open_visits.facts(args.visit_id, actor.login)
    rules, today = _rules(core), core.runtime.clock.today()
    return api.Saved(args.draft.revision, summarise(args.draft, context, facts, rules, today),
                     tuple(check_draft(context, args.draft, rules.library.codes, today)), facts)


@handles(api.VISIT_FACTS)
def facts(core, actor, args):
    import anyio.from_thread

    from counter.services.visit_facts import gather_facts

    services = core.with_agencies()  # waits for the agencies to be connected (seconds, in training)
    visits = _visits(core, actor)

    async def gather(context):
        return await gather_facts(services.dossier, context, actor)

    # Handlers run in anyio's worker threads; the agencies' clients live on the service's loop.
    return anyio.from_thread.run(core.open_visits.ask, args.visit_id, actor.login, gather,
                                 lambda: visits.context(args.visit_id))


@handles(api.VISIT_CONFIRM)
def confirm(core, actor, args):
    from counter.domain.receipt import new_code
    from counter.domain.visit_summary import confirm_blocker, receipt_of, summarise
    from counter.domain.visits import FieldError
    from counter.services.receipts import ensure_saved, files_of
    from counter.services.visits import VisitError, payload_builder

    visits, runtime, rules = _visits(core, actor), core.runtime, _rules(core)
    visit_id, draft, today = args.visit_id, args.draft, runtime.clock.today()
    state, _ = _state(visits, visit_id)
    facts = core.open_visits.facts(visit_id, actor.login)
    # Never priced before the agencies answer; a visit already confirmed is answered as it was.
    if state == "draft" and (blocker := confirm_blocker(facts)):
        raise VisitError([(0, FieldError("visit", blocker))])
    context = visits.context(visit_id)
    summary = summarise(draft, context, facts, rules, today)

    def receipt_for(confirmation):
        return receipt_of(confirmation, summary, context, runtime.town_name, actor.login, today, runtime.training,
                          bus=runtime.bus)

    payloads = payload_builder(core.ready_services().store, context, today, rules.library)
    # The receipt is stored by the confirming transaction; its files come after.
    confirmation = visits.confirm(visit_id, draft, code=new_code(), payloads=payloads, receipt=receipt_for)
    core.open_visits.close(visit_id, actor.login)
    core.wake_outbox()
    receipt = confirmation.receipt or receipt_for(confirmation)
    try:
        files = files_of(ensure_saved(receipt, runtime.data_dir), runtime.data_dir)
    except OSError:  # the receipt is in the database: written again at the next start
        files = None
    return api.Confirmed(receipt, files, confirmation.already)


@handles(api.RECEIPT_PRINT)
def print_receipt(core, actor, args):
    from counter.domain.receipt import PrintResult
    from counter.services import receipts

    data_dir = core.runtime.data_dir
    store = core.ready_services().store
    receipt = receipts.stored_by_code(store, args.code)
    if receipt is None:
        raise LookupError(args.code)
    from counter.domain.registrations import may_supervise

    if receipt.agent != actor.login and not may_supervise(actor.role, actor.training):
        # Printed at the end of the agent's own visit; anyone else's goes through F9
        # (a supervisor's reprint, audited). Refused and audited here too.
        from counter.services import audit

        audit.record(store, actor, "forbidden", "receipt", args.code, {"action": "receipt.print", "role": actor.role})
        raise audit.Forbidden("Action refusée : ce récépissé est celui d'une visite d'un autre agent.",
                              "receipt.print", actor.login, actor.role)
    try:
        saved = receipts.ensure_saved(receipt, data_dir)
    except OSError:
        return PrintResult(False, "Impression impossible : le répertoire des récépissés n'est pas accessible "
                                  "en écriture (voir « counter doctor »).")
    return receipts.print_receipt(saved.pdf_path, _rules(core).printer)
