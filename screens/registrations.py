"""Confirmed registrations: find one by visit code or name, read it, cancel it (supervisors)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Input, Label, Static

from counter.domain.registrations import may_supervise
from screens.base import CounterScreen, service_worker
from screens.results import Column, ResultsTable
from screens.widgets import SafeInput, SearchInput, StatusLine, lines_of

if TYPE_CHECKING:
    from counter.domain.registrations import RegistrationDetail, RegistrationView

DEBOUNCE_SECONDS = 0.15
PLACEHOLDER = "Code de la visite (RCP-…) ou nom et prénom"
WELCOME = ("Tapez le code du récépissé ou le nom de la personne, puis Entrée ou ↓ pour la liste. "
           "Entrée ou F2 : détail · a : annuler · r : récépissé · p : réimprimer.")

# A registration (RegistrationView): "Pour" takes 55 % of what the fixed columns leave, "État" the rest.
COLUMNS = (
    Column("code", "Code", lambda v: v.visit_code or "—", width=13, style="bold"),
    Column("date", "Date", lambda v: v.date_label, width=10),
    Column("kind", "Demande", lambda v: v.kind_label, width=12),
    Column("person", "Pour", lambda v: v.person_label, share=0.55, minimum=10),
    Column("state", "État", lambda v: v.state_label, rest=True, minimum=10),
    Column("delivery", "Envoi", lambda v: v.delivery_label, width=10),
)


def supervises(app) -> bool:
    """Whether the service gave this terminal's agent a supervisor's part. Screens only
    hide what the service would refuse: it checks the role again, and audits a refusal."""
    session = app.session
    return session is not None and may_supervise(session.role, session.training)


class CancelReason(ModalScreen[str | None]):
    """Asks why a registration is cancelled; None when the agent goes back."""

    DEFAULT_CSS = """
    CancelReason { align: center middle; }
    CancelReason > VerticalScroll {
        width: 70; max-width: 100%; height: auto; border: thick $primary; background: $surface; padding: 0 1;
    }
    CancelReason #cancel-title { text-style: bold; }
    CancelReason #cancel-error.-error { color: $error; text-style: bold; }
    """
    AUTO_FOCUS = "#reason"
    BINDINGS = [
        Binding("escape", "back", "Revenir", id="cancel_reason.back",
                tooltip="Revenir sans annuler l'inscription."),
    ]

    def __init__(self, lines: list[str]) -> None:
        super().__init__()
        self.lines = lines

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="cancel-box"):
            yield Label("Annuler l'inscription", id="cancel-title", markup=False)
            yield Static(lines_of(self.lines), id="cancel-what")
            yield SafeInput(placeholder="Motif de l'annulation (obligatoire)", max_length=300, id="reason")
            yield Label("Entrée : annuler l'inscription · Échap : revenir", id="cancel-error", markup=False)
        yield Footer(compact=True)

    @on(Input.Submitted, "#reason")
    def _submitted(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            label = self.query_one("#cancel-error", Label)
            label.update("⚠ Indiquez le motif de l'annulation.")
            label.add_class("-error")
            return
        self.dismiss(event.value.strip())

    def action_back(self) -> None:
        self.dismiss(None)


class RegistrationsScreen(CounterScreen[None]):
    CSS_PATH = "registrations.tcss"
    AUTO_FOCUS = "#query"
    SUB_TITLE = "Inscriptions"
    BINDINGS = [
        Binding("escape", "back", "Retour", id="registrations.back",
                tooltip="Revenir à l'écran précédent."),
        Binding("down", "focus_results", "Résultats", id="registrations.results", show=False),
        Binding("f2", "detail", "Détail", id="registrations.detail",
                tooltip="Afficher le détail de l'inscription en surbrillance (aussi : Entrée)."),
        Binding("a", "cancel_registration", "Annuler", id="registrations.cancel",
                tooltip="Annuler l'inscription en surbrillance, avec un motif (superviseurs)."),
        Binding("r", "receipt", "Récépissé", id="registrations.receipt",
                tooltip="Afficher le récépissé de la visite (refait s'il manque sur disque)."),
        Binding("p", "reprint", "Réimprimer", id="registrations.reprint",
                tooltip="Réimprimer le récépissé de la visite (imprimante configurée)."),
    ]

    def __init__(self, query: str = "") -> None:
        super().__init__()
        self._initial = query
        self._timer = None
        self._views: list[RegistrationView] = []
        self._shown_for: str | None = None
        self._detail_when_shown = False

    def compose_body(self) -> ComposeResult:
        yield SearchInput(self._initial, placeholder=PLACEHOLDER, id="query")
        yield StatusLine(WELCOME, id="status")
        yield ResultsTable(COLUMNS, row_key=lambda v: v.id, id="results")
        with VerticalScroll(id="detail-box"):
            yield Static(id="detail")

    def on_mount(self) -> None:
        self._build_columns()
        self.watch(self.app, "ready", self._on_ready, init=True)
        self.watch(self.app, "service_down", self._service_back, init=False)

    def _on_ready(self, ready: bool) -> None:
        if ready and self._shown_for is None and self.query_text.strip():
            self._run_search()

    def _service_back(self, down: str) -> None:
        # What was typed while the service was gone is searched once it is back.
        if not down and self.app.ready and self._shown_for != self.query_text and self.query_text.strip():
            self._run_search()

    # -- searching ---------------------------------------------------------------------

    @property
    def query_text(self) -> str:
        return self.query_one("#query", Input).value

    @on(Input.Changed, "#query")
    def _query_changed(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DEBOUNCE_SECONDS, self._run_search)

    def _run_search(self, keep: int | None = None, message: str = "") -> None:
        self._timer = None
        text = self.query_text
        if not text.strip():
            self._show([], text)
            return
        if self.app.ready:
            self.search(text, keep, message)
        else:
            self.query_one(StatusLine).say("Ouverture de la base de données…")

    # The service gone: every status line says so; searched again once it is back.
    @service_worker(group="registrations-search", failed="La recherche a échoué : {reason_lower}", unreachable=None)
    def search(self, text: str, keep: int | None = None, message: str = "") -> None:
        views = self.app.counter.search_registrations(text)
        self.app.call_from_thread(self._show, views, text, keep, message)

    def _show(self, views: list[RegistrationView], text: str, keep: int | None = None, message: str = "") -> None:
        if text != self.query_text:
            return  # an older answer arriving after newer typing
        self._views, self._shown_for = views, text
        table = self.query_one("#results", ResultsTable)
        cursor = next((i for i, v in enumerate(views) if v.id == keep), 0)
        table.show(views, cursor)
        status = self.query_one(StatusLine)
        if message:
            status.say(message)
        elif not text.strip():
            status.say(WELCOME)
        elif not views:
            status.say("Aucune inscription pour ce code ou ce nom.")
        else:
            count = len(views)
            status.say(f"{count} inscription{'s' if count > 1 else ''} trouvée{'s' if count > 1 else ''}"
                       + (" (les plus récentes)." if count >= 50 else "."))
        self._describe(cursor)
        self.refresh_bindings()
        if self._detail_when_shown:
            self._detail_when_shown = False
            if views:
                table.focus()
                self.action_detail()

    def _build_columns(self) -> None:
        self.query_one("#results", ResultsTable).lay_out(max(self.size.width, 80))

    def on_resize(self) -> None:
        self._build_columns()
        if self._shown_for is not None:
            highlighted = self._highlighted()
            self._show(self._views, self._shown_for, highlighted.id if highlighted else None)

    # -- the detail panel ----------------------------------------------------------------

    @on(DataTable.RowHighlighted, "#results")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._describe(event.cursor_row)

    def _describe(self, index: int) -> None:
        detail = self.query_one("#detail", Static)
        if 0 <= index < len(self._views):
            detail.update(lines_of(self._views[index].lines()))
        else:
            detail.update("")

    @on(DataTable.RowSelected, "#results")
    def _row_selected(self) -> None:
        self.action_detail()

    @on(Input.Submitted, "#query")
    def _submitted(self) -> None:
        if self._shown_for != self.query_text:
            self._detail_when_shown = True  # Enter before the debounced search: search, then show
            if self._timer is not None:
                self._timer.stop()
            self._run_search()
            return
        if self._views:
            self.query_one("#results", DataTable).focus()
            self.action_detail()

    def action_detail(self) -> None:
        view = self._highlighted()
        if view is not None:
            self.load_detail(view.id)

    @service_worker(group="registrations-detail",
                    unreachable="Détail indisponible : service du guichet injoignable.")
    def load_detail(self, registration_id: int) -> None:
        detail = self.app.counter.registration(registration_id)
        self.app.call_from_thread(self._show_detail, detail)

    def _show_detail(self, detail: RegistrationDetail) -> None:
        view = self._highlighted()
        if view is None or view.id != detail.view.id:
            return  # the cursor moved on meanwhile
        self.query_one("#detail", Static).update(lines_of(detail.lines()))

    # -- cancelling ----------------------------------------------------------------------

    def action_cancel_registration(self) -> None:
        view = self._highlighted()
        if view is None:
            return
        status = self.query_one(StatusLine)
        if view.cancelled:
            status.say("Cette inscription est déjà annulée.", error=True)
            return
        if not supervises(self.app):
            # No reason to type: the service refuses (and records the attempt).
            self.cancel(view.id, "")
            return

        def chosen(reason: str | None) -> None:
            if reason:
                status.say("Annulation en cours…")
                self.cancel(view.id, reason)

        self.app.push_screen(CancelReason([*view.lines(), view.cancel_consequence()]), chosen)

    # A refusal (a role, a rule): the service's words.
    @service_worker(group="registrations-cancel", then="_cancel_failed",
                    unreachable="Annulation non confirmée : service du guichet injoignable. "
                                "La liste sera relue à son retour.")
    def cancel(self, registration_id: int, reason: str) -> None:
        result = self.app.counter.cancel_registration(registration_id, reason)
        self.app.call_from_thread(self._run_search, registration_id, result.message)

    def _cancel_failed(self, exc: Exception) -> None:
        from counter.client.errors import ServiceUnavailable

        if isinstance(exc, ServiceUnavailable):
            # Gone mid-request, it may have cancelled it: the list is read again once it is back.
            self._shown_for = None

    # -- the receipt ------------------------------------------------------------------------

    def action_receipt(self) -> None:
        view = self._highlighted()
        if view is not None and view.visit_id is not None:
            self.load_receipt(view.visit_id, False)

    def action_reprint(self) -> None:
        view = self._highlighted()
        if view is not None and view.visit_id is not None:
            self.query_one(StatusLine).say("Impression en cours…")
            self.load_receipt(view.visit_id, True)

    @service_worker(group="registrations-receipt",
                    unreachable="Récépissé indisponible : service du guichet injoignable.")
    def load_receipt(self, visit_id: int, reprint: bool) -> None:
        """The service keeps the receipts' files (written again if lost) and prints them."""
        from screens.receipt import reprint_by_service

        if reprint:
            ok, message = reprint_by_service(self.app, visit_id)
            self.app.call_from_thread(self.say, message, error=not ok)
            return
        stored = self.app.counter.stored_receipt(visit_id)
        self.app.call_from_thread(self._show_receipt, visit_id, stored)

    def _show_receipt(self, visit_id: int, stored) -> None:
        from screens.receipt import StoredReceiptScreen

        self.app.push_screen(StoredReceiptScreen(stored, visit_id))

    # -- moving around ----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("receipt", "reprint"):
            return self._highlighted() is not None and not self.query_one("#query", Input).has_focus
        if action == "cancel_registration":
            # While typing, "a" is a letter: the key is offered from the list only.
            return self._highlighted() is not None and not self.query_one("#query", Input).has_focus
        if action == "detail":
            return self._highlighted() is not None
        return True

    def action_focus_results(self) -> None:
        table = self.query_one("#results", DataTable)
        if table.row_count:
            table.focus()

    def action_back(self) -> None:
        self.dismiss()

    def _highlighted(self) -> RegistrationView | None:
        return self.query_one("#results", ResultsTable).highlighted()
