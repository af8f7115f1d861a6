"""The front desk (issue 16): the waiting list with its tickets, issuing a ticket in a
few keys, and the end of a visit (reasons and outcome) in one or two.

Thin: the lists come from the session (``app.session.desk``), the rules and the
numbering from the service (counter.services.front_desk); no name is ever shown here.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Label, Static

from counter.domain.front_desk import (DONE, MAX_REASONS, REDIRECTED, TICKET_STATE_LABELS, FrontDesk, TicketView,
                                       VisitEnd, check_end, check_ticket, reasons_label)
from screens.base import CounterScreen, WorkerFailures, service_worker
from screens.results import Column, ResultsTable
from screens.widgets import StatusLine, lines_of, quit_unshown

MODAL_CSS = """
{name} {{ align: center middle; }}
{name} > VerticalScroll {{
    width: 76; max-width: 100%; height: auto; max-height: 100%;
    border: thick $primary; background: $surface; padding: 0 1;
}}
{name} #title {{ text-style: bold; }}
{name} #error {{ color: $error; text-style: bold; }}
"""


def desk_of(app) -> FrontDesk:
    return app.session.desk if app.session is not None else FrontDesk()


# The modals' Enter is an ordinary binding, as their digits are: Textual runs a
# priority binding as soon as it reads the key, but the others once the key has
# gone through the screen, so in a burst (« 3 4 Entrée » over SSH) a priority Enter
# ran before the reasons typed ahead of it and the ticket was not issued.


def _reason_bindings(screen: str) -> list[Binding]:
    return [Binding(str(n), f"toggle({n - 1})", f"Motif {n}", id=f"{screen}.reason_{n}", show=False)
            for n in range(1, MAX_REASONS + 1)]


class ReasonsModal(WorkerFailures, ModalScreen):
    """A checklist of the site's reasons, ticked with the digits 1 to 9."""

    def __init__(self, desk: FrontDesk, chosen: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.desk = desk
        self.shown_reasons = desk.reasons[:MAX_REASONS]
        self.chosen = [c for c in chosen if c in {r.code for r in self.shown_reasons}]

    def compose(self) -> ComposeResult:
        with VerticalScroll(can_focus=False):
            yield Label(self.TITLE_TEXT, id="title", markup=False)
            yield Static(id="body")
            yield Label("", id="error", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._paint()

    def action_toggle(self, index: int) -> None:
        if 0 <= index < len(self.shown_reasons):
            code = self.shown_reasons[index].code
            if code in self.chosen:
                self.chosen.remove(code)
            else:
                self.chosen.append(code)
            self._error("")
            self._paint()

    def _reason_lines(self) -> list[str]:
        return [f"  {n}  [{'x' if c.code in self.chosen else ' '}] {c.label}" for n, c in enumerate(self.shown_reasons, 1)]

    def _error(self, message: str) -> None:
        self.query_one("#error", Label).update(f"⚠ {message}" if message else "")

    def _paint(self) -> None:
        self.query_one("#body", Static).update(lines_of(self.lines()))

    def _ordered(self) -> tuple[str, ...]:
        order = [c.code for c in self.shown_reasons]
        return tuple(sorted(self.chosen, key=order.index))

    def action_cancel(self) -> None:
        self.dismiss(None)


class IssueTicket(ReasonsModal):
    """The reception's ticket: reasons (1-9), a need (b), appointment (r), Enter issues."""

    DEFAULT_CSS = MODAL_CSS.format(name="IssueTicket")
    TITLE_TEXT = "Nouveau ticket"
    BINDINGS = [
        *_reason_bindings("ticket"),
        Binding("b", "need", "Besoin", id="ticket.need", tooltip="Langue ou accessibilité (chaque appui : le suivant)."),
        Binding("r", "appointment", "RDV", id="ticket.appointment", tooltip="Sur rendez-vous ou sans."),
        Binding("enter", "issue", "Émettre", id="ticket.issue", tooltip="Émettre et imprimer le ticket."),
        Binding("escape", "cancel", "Annuler", id="ticket.cancel"),
    ]

    def __init__(self, desk: FrontDesk) -> None:
        super().__init__(desk)
        self.need: str | None = None
        self.appointment = False

    def lines(self) -> list[str]:
        need = self.desk.label("needs", self.need) if self.need else "aucun"
        return ["Motifs (chiffres 1 à 9) :", *self._reason_lines(), "",
                f"Besoin (b) : {need}", f"Rendez-vous (r) : {'oui' if self.appointment else 'non'}", "",
                "Entrée : émettre le ticket · Échap : annuler"]

    def action_need(self) -> None:
        codes = [None, *(c.code for c in self.desk.needs)]
        self.need = codes[(codes.index(self.need) + 1) % len(codes)] if self.need in codes else None
        self._paint()

    def action_appointment(self) -> None:
        self.appointment = not self.appointment
        self._paint()

    def action_issue(self) -> None:
        reasons = self._ordered()
        if problem := check_ticket(self.desk, reasons, self.need):
            self._error(problem)
            return
        self.dismiss((reasons, self.need, self.appointment))


class EndVisit(ReasonsModal):
    """How a visit ended: reasons (1-9, the ticket's proposed), outcome (r, o, p), Enter."""

    DEFAULT_CSS = MODAL_CSS.format(name="EndVisit")
    TITLE_TEXT = "Fin de la visite : motifs et issue"
    BINDINGS = [
        *_reason_bindings("end_visit"),
        Binding("r", "outcome('done')", "Réglé", id="end_visit.done"),
        Binding("o", "redirect", "Orienté", id="end_visit.redirected",
                tooltip="Orienté vers un autre service (chaque appui : le service suivant)."),
        Binding("p", "outcome('come_back')", "Papiers", id="end_visit.come_back",
                tooltip="À revenir avec des papiers."),
        Binding("enter", "record", "Enregistrer", id="end_visit.record"),
        Binding("escape", "cancel", "Plus tard", id="end_visit.cancel"),
    ]

    def __init__(self, desk: FrontDesk, reasons: tuple[str, ...] = (), ticket: int | None = None) -> None:
        super().__init__(desk, reasons)
        self.ticket = ticket
        self.outcome = DONE
        self.detail: str | None = None

    def lines(self) -> list[str]:
        outcome = self.desk.label("outcomes", self.outcome)
        if self.detail:
            outcome += f" : {self.desk.label('redirections', self.detail)}"
        head = [f"Ticket {self.ticket}"] if self.ticket is not None else []
        return [*head, "Motifs (chiffres 1 à 9) :", *self._reason_lines(), "",
                f"Issue : {outcome}", "  r réglé · o orienté (o encore : service suivant) · p revenir avec papiers",
                "", "Entrée : enregistrer · Échap : plus tard"]

    def action_outcome(self, outcome: str) -> None:
        self.outcome, self.detail = outcome, None
        self._error("")
        self._paint()

    def action_redirect(self) -> None:
        codes = [c.code for c in self.desk.redirections]
        if self.outcome == REDIRECTED and self.detail in codes:
            self.detail = codes[(codes.index(self.detail) + 1) % len(codes)]
        else:
            self.outcome, self.detail = REDIRECTED, codes[0]
        self._error("")
        self._paint()

    def action_record(self) -> None:
        end = VisitEnd(self._ordered(), self.outcome, self.detail)
        if problem := check_end(self.desk, end):
            self._error(problem)
            return
        self.dismiss(end)


def end_visit(screen, *, visit_id: int | None = None, household_id: int | None = None,
              person_id: int | None = None, then=None, later=None) -> None:
    """Ask the service what the visit's end starts from, open EndVisit, record what the
    agent chose; ``then(visit_id)`` once recorded (or found ended already), ``later()``
    when the agent leaves the modal with Escape. For any screen with a status line."""
    _ending(screen, visit_id, household_id, person_id, then, later)


@service_worker(group="visit-ending", failed="Fin de visite impossible : {reason}")
def _ending(screen, visit_id, household_id, person_id, then, later) -> None:
    ending = screen.app.counter.visit_ending(visit_id)
    screen.app.call_from_thread(_open_end, screen, ending, visit_id, household_id, person_id, then, later)


def _open_end(screen, ending, visit_id, household_id, person_id, then, later) -> None:
    if ending.ended:
        screen.say("Cette visite est déjà terminée : ses motifs sont enregistrés.")
        if then is not None:
            then(ending.visit_id)
        return

    def chosen(end: VisitEnd | None) -> None:
        if end is None:
            screen.say("Motifs non enregistrés : la visite n'est pas comptée tant qu'ils ne le sont pas.", error=True)
            if later is not None:
                later()
            return
        _record(screen, end, visit_id, household_id, person_id, then)

    screen.app.push_screen(EndVisit(desk_of(screen.app), ending.reasons, ending.ticket), chosen)


@service_worker(group="visit-end", failed="Motifs non enregistrés : {reason}")
def _record(screen, end, visit_id, household_id, person_id, then) -> None:
    ended = screen.app.counter.end_visit(end, visit_id, household_id, person_id)
    screen.app.call_from_thread(_recorded, screen, ended, then)


def _recorded(screen, visit_id: int, then) -> None:
    screen.say("Visite terminée : motifs et issue enregistrés.")
    if then is not None:
        then(visit_id)


def ticket_columns(desk: FrontDesk) -> tuple[Column, ...]:
    def state(t: TicketView) -> str:
        label = TICKET_STATE_LABELS.get(t.state, t.state)
        return f"{label} · {t.desk}" if t.desk else label

    return (
        Column("n", "N°", lambda t: str(t.number), width=4),
        Column("state", "État", state, width=18),
        Column("reasons", "Motifs", lambda t: reasons_label(desk, t.reasons), rest=True, minimum=12),
        Column("need", "Besoin", lambda t: desk.label("needs", t.need) if t.need else "", width=14),
        Column("rdv", "RDV", lambda t: "oui" if t.appointment else "", width=3),
        Column("wait", "Attente", lambda t: f"{t.waiting_minutes} min", width=8),
    )


class QueueScreen(CounterScreen[None]):
    """Today's waiting list: numbers, reasons, needs, waiting minutes — no names."""

    AUTO_FOCUS = "#tickets"
    SUB_TITLE = "File d'attente"  # with « Guichet unique · <town> — », within the header's 62 columns at 80
    REFRESH_SECONDS = 10.0
    DEFAULT_CSS = """
    QueueScreen #mine { padding: 0 1; height: auto; }
    QueueScreen #tickets { height: 1fr; }
    """
    BINDINGS = [
        Binding("t", "issue", "Ticket", id="queue.issue", tooltip="Émettre un ticket (accueil)."),
        Binding("a", "call_next", "Appeler", id="queue.call", tooltip="Appeler le ticket suivant."),
        Binding("n", "call_selected", "Ce n°", id="queue.call_selected", tooltip="Appeler le ticket sélectionné."),
        Binding("f", "end", "Terminer", id="queue.end",
                tooltip="Terminer la visite de votre ticket sans inscription (motifs, issue)."),
        Binding("x", "gone", "Parti", id="queue.gone", tooltip="Votre ticket appelé : la famille n'est pas venue."),
        Binding("escape", "back", "Retour", id="queue.back", tooltip="Revenir à la recherche (F4 sur la famille)."),
        quit_unshown("queue"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.view = None

    def compose_body(self) -> ComposeResult:
        yield Static(id="mine")
        yield ResultsTable(ticket_columns(desk_of(self.app)), row_key=lambda t: t.id, id="tickets")
        yield StatusLine(id="status")

    def on_mount(self) -> None:
        self.query_one("#tickets", ResultsTable).lay_out(max(self.size.width, 80))
        self.load()
        self.set_interval(self.REFRESH_SECONDS, self.load)

    def on_resize(self) -> None:
        self.query_one("#tickets", ResultsTable).lay_out(max(self.size.width, 80))
        if self.view is not None:
            self._show(self.view)

    @service_worker(group="queue", failed="File d'attente non lue : {reason}", unreachable=None, exclusive=True)
    def load(self) -> None:
        view = self.app.counter.queue()
        self.app.call_from_thread(self._show, view)

    def _show(self, view) -> None:
        self.view = view
        desk = desk_of(self.app)
        waiting = [t for t in view.tickets if t.state == "waiting"]
        longest = max((t.waiting_minutes for t in waiting), default=0)
        lines = [f"{desk.site} · {view.day:%d/%m/%Y} · {len(waiting)} en attente"
                 + (f" · attente la plus longue : {longest} min" if waiting else "")]
        if view.mine is not None:
            lines += [f"Votre ticket : N° {view.mine.number} ({reasons_label(desk, view.mine.reasons)})",
                      "Échap puis F4 sur la famille, ou « f » : terminer sans inscription."]
        else:
            lines.append("« a » : appeler le ticket suivant · « t » : émettre un ticket.")
        self.query_one("#mine", Static).update(lines_of(lines))
        table = self.query_one("#tickets", ResultsTable)
        table.show(view.tickets, min(max(table.cursor_row, 0), max(len(view.tickets) - 1, 0)))

    def _selected(self) -> TicketView | None:
        if self.view is None:
            return None
        index = self.query_one("#tickets", DataTable).cursor_row
        return self.view.tickets[index] if 0 <= index < len(self.view.tickets) else None

    def action_issue(self) -> None:
        def chosen(result) -> None:
            if result is not None:
                self.say("Émission du ticket…")
                self.issue(*result)

        self.app.push_screen(IssueTicket(desk_of(self.app)), chosen)

    @service_worker(group="queue-issue", failed="Ticket non émis : {reason}")
    def issue(self, reasons, need, appointment) -> None:
        issued = self.app.counter.issue_ticket(reasons, need, appointment)
        self.app.call_from_thread(self._issued, issued)

    def _issued(self, issued) -> None:
        self.say(f"Ticket {issued.ticket.number} émis. {issued.message}", error=not issued.printed)
        self.load()

    def action_call_next(self) -> None:
        self.call(None)

    def action_call_selected(self) -> None:
        ticket = self._selected()
        if ticket is None or ticket.state != "waiting":
            self.say("Sélectionnez un ticket en attente.", error=True)
            return
        self.call(ticket.number)

    @service_worker(group="queue-call", failed="Appel impossible : {reason}")
    def call(self, number: int | None) -> None:
        called = self.app.counter.call_ticket(number)
        self.app.call_from_thread(self._called, called)

    def _called(self, called) -> None:
        self.say(f"Ticket {called.ticket.number} appelé : la visite est ouverte. Échap, cherchez la famille, F4.")
        self.load()

    def _mine(self) -> TicketView | None:
        if self.view is None or self.view.mine is None:
            self.say("Vous ne servez aucun ticket : « a » pour appeler le suivant.", error=True)
            return None
        return self.view.mine

    def action_end(self) -> None:
        if self._mine() is not None:
            end_visit(self, visit_id=self.view.mine.visit_id, then=lambda _visit: self.load())

    def action_gone(self) -> None:
        mine = self._mine()
        if mine is not None:
            self.gone(mine.number)

    @service_worker(group="queue-gone", failed="Ticket non déclaré parti : {reason}")
    def gone(self, number: int) -> None:
        self.app.counter.ticket_gone(number)
        self.app.call_from_thread(self.say, f"Ticket {number} : famille partie.")
        self.app.call_from_thread(self.load)

    def action_back(self) -> None:
        self.dismiss()

