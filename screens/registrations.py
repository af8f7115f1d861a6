"""Confirmed registrations: find one by visit code or name, read it, cancel it (supervisors)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Input, Label, Static

from counter.domain.registrations import may_supervise
from screens.widgets import SafeHeader, SafeInput, SearchInput, StatusLine, TrainingBanner, lines_of, plain

if TYPE_CHECKING:
    from counter.domain.registrations import RegistrationDetail, RegistrationView

DEBOUNCE_SECONDS = 0.15
PLACEHOLDER = "Code de la visite (RCP-…) ou nom et prénom"
WELCOME = ("Tapez le code du récépissé ou le nom de la personne, puis Entrée ou ↓ pour la liste. "
           "Entrée ou F2 : détail · a : annuler · r : récépissé · p : réimprimer.")

# Fixed widths; "Pour" takes 55 % of the rest, "État" what is left.
_FIXED = {"code": 13, "date": 10, "kind": 12, "delivery": 10}
PERSON_SHARE = 0.55


def supervises(app) -> bool:
    """Whether the service gave this terminal's agent a supervisor's part. Screens only
    hide what the service would refuse: it checks the role again, and audits a refusal."""
    session = app.session
    return session is not None and may_supervise(session.role, session.training)


def failure(exc: Exception, unreachable: str) -> str:
    """What to say when a call failed: the service's own French words for a refusal,
    else ``unreachable`` (the service did not answer)."""
    from counter.client.errors import Refused

    return exc.problem.message if isinstance(exc, Refused) else unreachable


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


class RegistrationsScreen(Screen[None]):
    CSS_PATH = "registrations.tcss"
    AUTO_FOCUS = "#query"
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

    def compose(self) -> ComposeResult:
        if self.app.training:
            yield TrainingBanner()
        yield SafeHeader(icon="≡")
        yield SearchInput(self._initial, placeholder=PLACEHOLDER, id="query")
        yield StatusLine(WELCOME, id="status")
        yield DataTable(id="results", cursor_type="row")
        with VerticalScroll(id="detail-box"):
            yield Static(id="detail")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.sub_title = "Inscriptions"
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

    @work(thread=True, exclusive=True, group="registrations-search", exit_on_error=False)
    def search(self, text: str, keep: int | None = None, message: str = "") -> None:
        from counter.client.errors import Refused, ServiceUnavailable

        try:
            views = self.app.counter.search_registrations(text)
        except ServiceUnavailable:
            return  # the status line says the service is gone; searched again once it is back
        except Refused as exc:  # the database gone or damaged behind the service
            cause = exc.problem.message
            self.app.call_from_thread(self.query_one(StatusLine).say,
                                      f"La recherche a échoué : {cause[:1].lower()}{cause[1:]}", error=True)
            return
        self.app.call_from_thread(self._show, views, text, keep, message)

    def _show(self, views: list[RegistrationView], text: str, keep: int | None = None, message: str = "") -> None:
        if text != self.query_text:
            return  # an older answer arriving after newer typing
        self._views, self._shown_for = views, text
        table = self.query_one("#results", DataTable)
        table.clear()
        for view in views:
            table.add_row(*self._cells(view), key=str(view.id))
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
        cursor = next((i for i, v in enumerate(views) if v.id == keep), 0)
        if views:
            table.move_cursor(row=cursor)
        self._describe(cursor)
        self.refresh_bindings()
        if self._detail_when_shown:
            self._detail_when_shown = False
            if views:
                table.focus()
                self.action_detail()

    def _cells(self, view: RegistrationView) -> tuple:
        return (
            plain(view.visit_code or "—", "bold"),
            plain(view.date_label),
            plain(view.kind_label),
            plain(view.person_label),
            plain(view.state_label),
            plain(view.delivery_label),
        )

    def _build_columns(self) -> None:
        table = self.query_one("#results", DataTable)
        # Two cells of padding per column, one for the scrollbar.
        free = max(self.size.width, 80) - sum(_FIXED.values()) - 2 * 6 - 1
        person = max(10, int(free * PERSON_SHARE))
        shared = {"person": person, "state": max(10, free - person)}
        table.clear(columns=True)
        table.add_column("Code", width=_FIXED["code"], key="code")
        table.add_column("Date", width=_FIXED["date"], key="date")
        table.add_column("Demande", width=_FIXED["kind"], key="kind")
        table.add_column("Pour", width=shared["person"], key="person")
        table.add_column("État", width=shared["state"], key="state")
        table.add_column("Envoi", width=_FIXED["delivery"], key="delivery")

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

    @work(thread=True, exclusive=True, group="registrations-detail", exit_on_error=False)
    def load_detail(self, registration_id: int) -> None:
        from counter.client.errors import Refused, ServiceUnavailable

        try:
            detail = self.app.counter.registration(registration_id)
        except (Refused, ServiceUnavailable) as exc:
            self.app.call_from_thread(self.query_one(StatusLine).say, failure(
                exc, "Détail indisponible : service du guichet injoignable."), error=True)
            return
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

    @work(thread=True, exclusive=True, group="registrations-cancel", exit_on_error=False)
    def cancel(self, registration_id: int, reason: str) -> None:
        from counter.client.errors import Refused, ServiceUnavailable

        try:
            result = self.app.counter.cancel_registration(registration_id, reason)
        except (Refused, ServiceUnavailable) as exc:  # a refusal (a role, a rule): the service's words
            self.app.call_from_thread(self.query_one(StatusLine).say, failure(
                exc, "Annulation non confirmée : service du guichet injoignable. "
                     "La liste sera relue à son retour."), error=True)
            if isinstance(exc, ServiceUnavailable):
                # Gone mid-request, it may have cancelled it: the list is read again once it is back.
                self.app.call_from_thread(setattr, self, "_shown_for", None)
            return
        self.app.call_from_thread(self._run_search, registration_id, result.message)

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

    @work(thread=True, exclusive=True, group="registrations-receipt", exit_on_error=False)
    def load_receipt(self, visit_id: int, reprint: bool) -> None:
        """The service keeps the receipts' files (written again if lost) and prints them."""
        from counter.client.errors import Refused, ServiceUnavailable
        from screens.receipt import reprint_by_service

        status = self.query_one(StatusLine)
        if reprint:
            ok, message = reprint_by_service(self.app, visit_id)
            self.app.call_from_thread(status.say, message, error=not ok)
            return
        try:
            stored = self.app.counter.stored_receipt(visit_id)
        except (Refused, ServiceUnavailable) as exc:
            self.app.call_from_thread(status.say, failure(
                exc, "Récépissé indisponible : service du guichet injoignable."), error=True)
            return
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
        table = self.query_one("#results", DataTable)
        index = table.cursor_row
        if not table.row_count or not 0 <= index < len(self._views):
            return None
        return self._views[index]
