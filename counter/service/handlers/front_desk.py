"""The front desk, for the agent the kernel names: tickets issued and called, the
waiting list, the room's display, the end of a visit (counter.services.front_desk).
Any agent issues and calls tickets."""

from __future__ import annotations

from counter.service.handlers import handles
from counter.wire import api


def desk_service(core, actor):
    from counter.services.front_desk import FrontDeskService

    runtime = core.runtime
    return FrontDeskService(core.ready_services().store, runtime.desk(), actor.login, today=runtime.clock.today,
                            now=lambda: core.utc_now(), host=actor.host)


@handles(api.QUEUE_ISSUE)
def issue(core, actor, args):
    from counter.domain.front_desk import Issued, ticket_lines
    from counter.domain.rules import default_rules
    from counter.services.front_desk import save_ticket
    from counter.services.receipts import print_receipt

    runtime = core.runtime
    ticket = desk_service(core, actor).issue(tuple(args.reasons), args.need, args.appointment)
    # The ticket is in the database: its paper comes after, and its failure is only said.
    lines = ticket_lines(runtime.town_name, runtime.desk(), ticket, runtime.training)
    try:
        path = save_ticket(lines, runtime.data_dir, runtime.desk().site, runtime.clock.today(), ticket.number)
    except OSError:
        return Issued(ticket, False, "Ticket non imprimé : le répertoire des tickets n'est pas accessible en écriture.")
    printer = (runtime.rules or default_rules()).printer
    if not printer or not printer.strip():  # said shortly: the reception issues tickets all day
        return Issued(ticket, False, "Non imprimé : pas d'imprimante ([printing] printer).")
    printed = print_receipt(path, printer, document="Le ticket", sent="Ticket envoyé")
    return Issued(ticket, printed.ok, printed.message)


@handles(api.QUEUE_CALL)
def call(core, actor, args):
    return desk_service(core, actor).call(args.number)


@handles(api.QUEUE_GONE)
def gone(core, actor, args) -> None:
    if args.number is None:
        raise LookupError("ticket")
    desk_service(core, actor).gone(args.number)


@handles(api.QUEUE_LIST)
def queue(core, actor, _args):
    return desk_service(core, actor).queue()


@handles(api.QUEUE_DISPLAY)
def display(core, actor, _args):
    return desk_service(core, actor).display()


@handles(api.VISIT_ENDING)
def ending(core, actor, args):
    return api.Ending(*desk_service(core, actor).ending(args.visit_id))


@handles(api.VISIT_END)
def end(core, actor, args) -> int:
    visit_id = desk_service(core, actor).end(args.end, args.visit_id, args.household_id, args.person_id)
    if args.visit_id is not None:
        core.open_visits.close(visit_id, actor.login)
    return visit_id
