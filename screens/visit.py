"""A visit: the registrations a family came for, one summary, one confirmation.

Thin: each change is sent to the counter service (the app keeps it until the
service acknowledges it, and sends it again when the service is back), which
answers with what the visit comes to — prices, papers, problems — asks the
agencies, confirms, and writes the receipt. A form checks what is typed with
the same rules (counter.domain.visit_context), so an error shows at its field
at once, even while the service is away.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from fractions import Fraction

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Input, Label, Static

from counter.domain.kinds import FormEnv, UnknownKind, all_kinds, kind
from counter.domain.visit_context import check_draft
from counter.domain.visit_summary import VisitFacts, confirm_blocker, short_request
from counter.domain.visits import VisitDraft, kind_of
from screens.base import CounterScreen, service_worker
from screens.results import Column, ResultsTable
from screens.widgets import SafeInput, StatusLine, lines_of, quit_unshown

EDIT_SAVE_DELAY = 0.3
AWAITING_SERVICE = "Tarifs et pièces à fournir : en attente du service du guichet…"


# A request as typed, (number, kind, who, what): the name as wide as the longest
# (up to a third of what N° and Demande leave), the detail the rest; full texts are in the pane below.
REQUEST_COLUMNS = (
    Column("n", "N°", lambda r: r[0], width=2),
    Column("kind", "Demande", lambda r: r[1], width=12),
    Column("who", "Pour", lambda r: r[2], fit=True, share=Fraction(1, 3), minimum=14),
    Column("what", "Détail", lambda r: r[3], rest=True, minimum=10),
)


def town_rules(app):
    """The town's rules, as the service gave them with the session."""
    return app.session.rules


class VisitScreen(CounterScreen[None]):
    CSS_PATH = "visit.tcss"
    AUTO_FOCUS = "#requests"
    SUB_TITLE = "Visite"
    BINDINGS = [
        # One key per kind of registration, in the kinds' order (counter.domain.kinds).
        *[Binding(k.key, f"add('{k.id}')", k.key_label, id=f"visit.{k.id}", tooltip=k.key_tooltip,
                  show=k.key_shown) for k in all_kinds()],
        Binding("enter", "edit", "Modifier", id="visit.edit", show=False),
        # Left out of the footer at 80 columns: Delete on the selected request,
        # and « q », which the facts line names when a QF can be declared.
        Binding("delete", "remove", "Retirer", id="visit.remove", show=False, tooltip="Retirer la demande sélectionnée."),
        Binding("q", "declare_qf", "QF", id="visit.qf", show=False,
                tooltip="Saisir un quotient familial déclaré, faute de celui de la CAF."),
        Binding("ctrl+s", "confirm", "Valider", id="visit.confirm",
                tooltip="Relire le récapitulatif et confirmer la visite."),
        Binding("ctrl+d", "abandon", "Abandon", id="visit.abandon", tooltip="Abandonner cette visite."),
        Binding("t", "end_visit", "Terminer", id="visit.end", show=False,
                tooltip="Terminer la visite sans inscription (information) : motifs et issue."),
        Binding("escape", "back", "Retour", id="visit.back", tooltip="Revenir (la visite reste en brouillon)."),
        quit_unshown("visit"),
    ]

    def __init__(self, visit_id: int) -> None:
        super().__init__()
        self.visit_id = visit_id
        self.context = None
        self.draft: VisitDraft | None = None
        self.facts: VisitFacts | None = None  # the agencies' answers, as the service last told
        self.summary = None  # the service's summary of the draft at revision _summarised
        self.errors: tuple = ()  # the service's check of that draft: (request index, FieldError)
        self._edit_timer = None
        # Each change is numbered; the service acknowledges each save with its
        # number, and keeps the newest when a late one arrives.
        self._revision = 0  # the newest change typed
        self._written = 0  # the newest the service acknowledged
        self._summarised = -1
        self._asking = False  # the agencies' answers are being asked
        self._confirm_when_answered = False  # Ctrl+S pressed before the answers or the summary came

    # The footer has eight keys to show at 80 columns: the palette (Ctrl+P) still works, unlisted.
    def compose_body(self) -> ComposeResult:
        yield Static(id="who")
        yield Static(id="facts")
        yield ResultsTable(REQUEST_COLUMNS, id="requests")
        with VerticalScroll(id="summary-box"):
            yield Static(id="summary")
        yield StatusLine(id="status")

    def on_mount(self) -> None:
        self.watch(self.app, "service_down", self._service_changed, init=False)
        self.load()

    def on_resize(self) -> None:
        if self.draft is not None:
            self._show()

    def _lay_columns(self, rows) -> None:
        table = self.query_one("#requests", ResultsTable)
        table.lay_out(max(table.size.width or self.size.width, 40), rows)

    # -- loading, and the service's answers ----------------------------------------------

    # The service gone: the status line says so; loaded when it is back (_service_changed).
    @service_worker(group="visit-load", failed="Visite non chargée : {reason}", unreachable=None)
    def load(self) -> None:
        opened = self.app.counter.open_visit(self.visit_id)
        self.app.call_from_thread(self._loaded, opened)

    def _loaded(self, opened) -> None:
        self.draft, self.context = opened.draft, opened.context
        self.facts = VisitFacts(pending=True)
        self._revision = self._written = opened.draft.revision
        context = self.context
        where = f" · {context.address.one_line()}" if context.address else ""
        self.query_one("#who", Static).update(lines_of([f"Visite — foyer {context.household}{where}"]))
        self.sub_title = f"Visite — foyer {context.household}"
        self._show()
        if opened.state != "draft":
            self.say("Cette visite n'est plus un brouillon.", error=True)
            return
        self._show_facts()
        self._send()  # the service's summary of the draft as it was left
        self._ask_agencies()
        editing = self.draft.editing
        if editing:
            self._open_form(editing.get("kind"), editing.get("index"), editing.get("values"))

    def _service_changed(self, down: str) -> None:
        if down:
            if self.draft is not None and self._summarised != self._revision:
                self._describe()  # what the pane showed may no longer be the draft's
            return
        if self.draft is None:
            self.load()
        else:
            # Back, perhaps restarted: its word on this draft again (and on the agencies' answers).
            self._send()

    def _save(self) -> None:
        """A change: numbered, and sent to the service."""
        self._revision += 1
        self.draft.revision = self._revision
        self._send()

    def _send(self) -> None:
        self.app.save_draft(self.visit_id, copy.deepcopy(self.draft), self)

    def draft_saved(self, saved) -> None:
        """The service has the draft numbered ``saved.revision`` (or a newer one)."""
        self._written = max(self._written, saved.revision)
        self.facts = saved.facts
        if saved.facts.pending:
            self._ask_agencies()  # never asked here, or the service restarted since
        if saved.revision == self._revision:
            self.summary, self.errors, self._summarised = saved.summary, saved.errors, saved.revision
            self._describe()
            if self._confirm_when_answered and not saved.facts.pending and self.app.screen is self:
                self.action_confirm()
        self._show_facts()

    def draft_not_saved(self, refused) -> None:
        if refused is not None:  # (the service gone: every status line says so)
            self.say(f"Brouillon non enregistré : {refused}", error=True)

    # -- what the agencies confirm ------------------------------------------------------

    def _ask_agencies(self) -> None:
        if not self._asking and self.draft is not None:
            self._asking = True
            self.gather_facts()

    @service_worker(group="visit-facts", failed="Organismes non interrogés : {reason}", unreachable=None,
                    then="_facts_failed")
    def gather_facts(self) -> None:
        """The service asks the agencies for what spares the family papers (seconds)."""
        facts = self.app.counter.visit_facts(self.visit_id)
        self.app.call_from_thread(self._facts_arrived, facts)

    def _facts_arrived(self, facts) -> None:
        self._asking = False
        self.facts = facts
        self._show_facts()
        self._send()  # priced with them

    def _facts_failed(self, _exc) -> None:
        self._asking = False  # asked again when the service is back (its next answer says pending)

    def _show_facts(self) -> None:
        facts = self.facts
        basis = self.summary.qf_basis if self.summary is not None else "en attente du service du guichet…"
        parts = [f"Tarifs : {basis}"]
        if facts.pending:
            parts.append("interrogation des organismes…")
        elif facts.qf_value is None:
            parts.append("« q » : modifier le QF déclaré" if self.draft.qf_value is not None
                         else "« q » : saisir un QF déclaré")
        if facts.address_confirmed_by:
            parts.append(f"adresse confirmée par la {facts.address_confirmed_by}")
        if facts.eaje:
            parts.append("ressources crèche connues de la CAF")
        self.query_one("#facts", Static).update(lines_of([" · ".join(parts)]))

    # -- the table and the summary --------------------------------------------------------

    def _rows(self) -> list[tuple[str, str, str]]:
        """(kind, who, what) of each request as typed: shown at once, the service away or not."""
        return [(kind_of(r).label, *short_request(r, self.context)) for r in self.draft.requests]

    def _show(self) -> None:
        table = self.query_one("#requests", ResultsTable)
        row = table.cursor_row
        rows = [(str(number), *request) for number, request in enumerate(self._rows(), 1)]
        self._lay_columns(rows)
        table.show(rows, row)
        self._describe()
        if not rows:
            offered = ", ".join(f"« {k.key} » {k.hint_label or k.label.lower()}" for k in all_kinds())
            self.say(f"Ajoutez les demandes de la famille : {offered}. Tout est enregistré au fur et à mesure.")
        else:
            self.say(f"{len(rows)} demande(s) — Ctrl+S pour relire et confirmer.")

    def _describe(self) -> None:
        """The selected request's prices and the papers, from the service's summary of this draft."""
        pane = self.query_one("#summary", Static)
        summary = self.summary
        if self._summarised != self._revision:
            if self.app.service_down:
                pane.update(lines_of([AWAITING_SERVICE]) if self.draft.requests else "")
            return  # the service's answer is on its way: it repaints the pane
        lines = []
        index = self.query_one("#requests", DataTable).cursor_row
        if 0 <= index < len(summary.items):
            item = summary.items[index]
            lines.append(f"{item.index + 1}. {item.kind} — {item.who}")
            lines.append(f"   {item.what}")
            lines += [f"   {p}" for p in item.prices]
        if summary.papers_to_bring:
            lines.append("Pièces à fournir : " + " ; ".join(summary.papers_to_bring))
        for paper in summary.papers_confirmed:
            lines.append(f"Sans pièce : {paper.text}")
        pane.update(lines_of(lines))

    @on(DataTable.RowHighlighted, "#requests")
    def _highlighted(self) -> None:
        if self.draft is not None:
            self._describe()

    # -- adding and editing -----------------------------------------------------------

    def action_add(self, kind: str) -> None:
        if self.context is not None:
            self._open_form(kind, None, None)

    def action_edit(self) -> None:
        index = self.query_one("#requests", DataTable).cursor_row
        if self.draft is None or not 0 <= index < len(self.draft.requests):
            return
        self._open_form(kind_of(self.draft.requests[index]).id, index, None)

    def _open_form(self, kind_id: str | None, index: int | None, values: dict | None) -> None:
        try:
            plugin = kind(kind_id)
        except UnknownKind:
            return
        today = self.app.today()
        rules = town_rules(self.app)
        request = self.draft.requests[index] if index is not None else None

        def on_edit(raw: dict) -> None:
            self.draft.editing = {"kind": kind_id, "index": index, "values": raw}
            if self._edit_timer is not None:
                self._edit_timer.stop()
            self._edit_timer = self.set_timer(EDIT_SAVE_DELAY, self._save)

        def check(candidate):
            # The rules the service applies to every draft, run here as the agent types.
            others = [r for i, r in enumerate(self.draft.requests) if i != index]
            probe = replace(self.draft, requests=[*others, candidate])
            found = check_draft(self.context, probe, rules.library.codes, today)
            return [e for i, e in found if i == len(others)]

        env = FormEnv(context=self.context, today=today, rules=rules, facts=self.facts, check=check, on_edit=on_edit)
        form = plugin.form().open_form(env, request, values)

        def done(result) -> None:
            if self._edit_timer is not None:
                self._edit_timer.stop()
            self.draft.editing = None
            if result is not None:
                if index is None:
                    self.draft.requests.append(result)
                else:
                    self.draft.requests[index] = result
            self._save()
            self._show()

        self.app.push_screen(form, done)

    def action_remove(self) -> None:
        index = self.query_one("#requests", DataTable).cursor_row
        if self.draft is not None and 0 <= index < len(self.draft.requests):
            del self.draft.requests[index]
            self._save()
            self._show()

    def action_declare_qf(self) -> None:
        def done(value: int | None) -> None:
            if value is not None:
                self.draft.qf_value, self.draft.qf_source = value, "declared"
                self._save()
                self._show_facts()
                self._show()

        if self.draft is None:
            return
        if self.facts is not None and self.facts.qf_value is not None:
            self.say("Le quotient familial de la CAF s'applique : un QF déclaré ne sert qu'à défaut.", error=True)
            return
        self.app.push_screen(DeclareQf(self.draft.qf_value), done)

    # -- confirming ------------------------------------------------------------------------

    def action_confirm(self) -> None:
        if self.draft is None or not self.draft.requests:
            self.say("Aucune demande à confirmer.", error=True)
            return
        if blocker := confirm_blocker(self.facts):
            # Never a summary priced before the agencies answer: it opens when they do.
            self._confirm_when_answered = True
            self.say(f"{blocker} Le récapitulatif s'ouvrira alors.", error=True)
            return
        if self._summarised != self._revision:
            # The service has not answered this draft yet (or is away): the summary opens with its answer.
            self._confirm_when_answered = True
            self.say("Le récapitulatif s'ouvrira dès la réponse du service du guichet.")
            return
        self._confirm_when_answered = False
        if self.errors:
            index, error = self.errors[0]
            self.say(f"Demande {index + 1} : {error.message}", error=True)
            return
        lines = []
        for item in self.summary.items:
            lines += [f"{item.index + 1}. {item.kind} — {item.who}", f"   {item.what}", *[f"   {p}" for p in item.prices]]
        if self.summary.papers_to_bring:
            lines.append("Pièces à fournir : " + " ; ".join(self.summary.papers_to_bring))
        draft = copy.deepcopy(self.draft)  # what the agent reads back is what is confirmed
        self.app.push_screen(ConfirmVisit(lines), lambda ok: ok and self.confirm(draft))

    @service_worker(group="visit-confirm", then="_refused",
                    unreachable="Confirmation sans réponse du service du guichet : Ctrl+S à son retour (une visite "
                                "n'est jamais confirmée deux fois ; le brouillon est conservé).")
    def confirm(self, draft: VisitDraft) -> None:
        confirmed = self.app.counter.confirm_visit(self.visit_id, draft)
        self.app.call_from_thread(self._confirmed, confirmed)

    def _refused(self, exc) -> None:
        from counter.client.errors import ServiceUnavailable

        if not isinstance(exc, ServiceUnavailable):
            self._send()  # the service's word on the draft again (its answers may have been lost to a restart)

    def _confirmed(self, confirmed) -> None:
        from screens.receipt import ReceiptScreen

        # The visit's end (reasons, outcome) is asked over the receipt (screens/front_desk.py).
        self.app.switch_screen(ReceiptScreen(confirmed.receipt, confirmed.files, visit_id=self.visit_id))

    def action_end_visit(self) -> None:
        if self.draft is None:
            return
        if self.draft.requests:
            self.say("Des demandes sont saisies : Ctrl+S pour les confirmer (les motifs sont demandés ensuite), "
                     "ou retirez-les pour terminer sans inscription.", error=True)
            return
        from screens.front_desk import end_visit

        end_visit(self, visit_id=self.visit_id, then=lambda _visit: self.dismiss())

    def action_abandon(self) -> None:
        def done(ok: bool | None) -> None:
            if ok:
                self.abandon()

        self.app.push_screen(ConfirmVisit(["Abandonner cette visite ? Les demandes saisies seront perdues."],
                                          title="Abandonner la visite", yes="Abandonner"), done)

    @service_worker(group="visit-abandon", failed="Visite non abandonnée : {reason}")
    def abandon(self) -> None:
        self.app.counter.abandon_visit(self.visit_id)
        self.app.call_from_thread(self.dismiss)

    def action_back(self) -> None:
        self.dismiss()


class ConfirmVisit(ModalScreen[bool]):
    """The summary read back before confirming; Enter confirms, Escape returns."""

    DEFAULT_CSS = """
    ConfirmVisit { align: center middle; }
    ConfirmVisit > VerticalScroll {
        width: 76; max-width: 100%; height: auto; max-height: 90%;
        border: thick $warning; background: $surface; padding: 0 1;
    }
    ConfirmVisit #question { text-style: bold; margin-top: 1; }
    """
    BINDINGS = [
        Binding("enter", "yes", "Confirmer", id="confirm.yes", priority=True),
        Binding("escape", "no", "Revenir", id="confirm.no"),
    ]

    def __init__(self, lines: list[str], title: str = "Récapitulatif de la visite", yes: str = "Confirmer") -> None:
        super().__init__()
        self.lines, self.title_text, self.yes = lines, title, yes

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Label(self.title_text, markup=False)
            yield Static(lines_of(self.lines))
            yield Label(f"Entrée : {self.yes.lower()} · Échap : revenir", id="question", markup=False)
        yield Footer(compact=True)

    def action_yes(self) -> None:
        self.dismiss(True)

    def action_no(self) -> None:
        self.dismiss(False)


class QfInput(SafeInput):
    """The declared QF's field: its own Enter, shown in the footer, submits it.

    Not a priority binding on the modal: Textual runs those as soon as it reads the
    key, before the field has taken the digits of a burst typed ahead of it (« 640⏎ »
    over a fast link), and the field's value as the dialog opened would be kept."""

    BINDINGS = [Binding("enter", "submit", "Valider", id="qf.keep", tooltip="Appliquer ce quotient familial.")]


class DeclareQf(ModalScreen[int | None]):
    """The family's own word for its QF, when no agency gives one; Enter keeps it."""

    DEFAULT_CSS = """
    DeclareQf { align: center middle; }
    DeclareQf > VerticalScroll {
        width: 60; max-width: 100%; height: auto; border: thick $primary; background: $surface; padding: 0 1;
    }
    DeclareQf Label { width: 100%; }
    DeclareQf #qf-title { text-style: bold; }
    DeclareQf #error { color: $error; text-style: bold; }
    """
    AUTO_FOCUS = "#qf"
    BINDINGS = [
        Binding("escape", "cancel", "Annuler", id="qf.cancel"),
    ]

    def __init__(self, current: int | None) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with VerticalScroll(can_focus=False):
            yield Label("Quotient familial déclaré", id="qf-title", markup=False)
            yield Label("Celui que la famille indique, sans justificatif de la CAF ; les tarifs le diront "
                        "« déclaré ».", markup=False)
            yield QfInput(str(self.current or ""), type="integer", id="qf", placeholder="ex. : 640", compact=True)
            yield Label("", id="error", markup=False)
        yield Footer(compact=True)

    @on(Input.Submitted, "#qf")
    def _submitted(self) -> None:
        self.action_keep()

    def action_keep(self) -> None:
        raw = self.query_one("#qf", Input).value.strip()
        try:
            value = int(raw)
        except ValueError:
            value = -1
        if not 0 <= value <= 100_000:
            self.query_one("#error", Label).update("⚠ Un quotient familial est un nombre entier, de 0 à 100 000.")
            return
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)
