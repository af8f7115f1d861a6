"""The receipt (récépissé) handed to the family, on screen; saved and printed by the service."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from counter.domain.receipt import render_text
from screens.base import CounterScreen, failure_message, service_worker
from screens.widgets import StatusLine, lines_of


def print_saved(app, receipt) -> tuple[bool, str]:
    """The service writes the receipt's files again if they are missing and sends the PDF
    to the site's printer: (ok, French message). Runs in a worker thread."""
    try:
        result = app.counter.print_receipt(receipt.code)
    except Exception as exc:  # noqa: BLE001 — said in French (failure_message)
        return False, failure_message(exc, "Impression impossible : {reason}")
    return result.ok, result.message


class ReceiptScreen(CounterScreen[None]):
    BINDINGS = [
        Binding("p", "print", "Imprimer", id="receipt.print", tooltip="Imprimer le récépissé (imprimante configurée)."),
        Binding("m", "end_visit", "Motifs", id="receipt.end", show=False,
                tooltip="Les motifs et l'issue de la visite (demandés à la confirmation)."),
        Binding("escape", "done", "Terminer", id="receipt.done", tooltip="Revenir à la recherche pour la famille suivante."),
    ]
    DEFAULT_CSS = """
    ReceiptScreen #receipt { padding: 0 1; }
    ReceiptScreen #receipt-box { height: 1fr; }
    """

    def __init__(self, receipt, saved, visit_id: int | None = None) -> None:
        """``saved``: where the service wrote its files (ReceiptFiles), None if it could not;
        ``visit_id``: the visit just confirmed, whose end (reasons, outcome) is asked at once."""
        super().__init__()
        self.receipt = receipt
        self.saved = saved
        self.visit_id = visit_id
        self.ended = False  # the visit's reasons recorded (or the agent chose « plus tard »)

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="receipt-box"):
            yield Static(lines_of(render_text(self.receipt).split("\n")), id="receipt")
        yield StatusLine(id="status")

    def on_mount(self) -> None:
        self.sub_title = f"Récépissé {self.receipt.code}"
        where = self.saved_where()
        if where is None:
            self.query_one(StatusLine).say("Récépissé non enregistré sur disque (répertoire de données "
                                           "inaccessible) : imprimez-le ou notez le code.", error=True)
        else:
            self.query_one(StatusLine).say(f"Enregistré dans les récépissés : {where} (et .txt)")
        self.query_one("#receipt-box").focus()

    def check_action(self, action: str, parameters) -> bool | None:
        if action == "end_visit":
            return self.visit_id is not None  # a receipt shown again (F9) has no visit to end here
        return True

    def action_end_visit(self, leave: bool = False) -> None:
        """The visit's end (reasons, outcome) in a modal; ``leave``: then the next family."""
        if self.visit_id is not None:
            from screens.front_desk import end_visit

            def recorded(_visit_id: int) -> None:
                self.ended = True
                if leave:
                    self.app.action_new_search()

            end_visit(self, visit_id=self.visit_id, then=recorded, later=self._later if leave else None)

    def _later(self) -> None:
        """« Plus tard » chosen while leaving: the agent is not asked twice."""
        self.ended = True
        self.app.action_new_search()

    def saved_where(self) -> str | None:
        """The PDF's place under the receipts directory; None when it could not be written."""
        return self.saved.shown if self.saved is not None else None

    def action_print(self) -> None:
        self.query_one(StatusLine).say("Impression en cours…")
        self.print_it()

    @service_worker(group="print", failed="Impression impossible : {reason}")
    def print_it(self) -> None:
        ok, message = print_saved(self.app, self.receipt)
        self.app.call_from_thread(self.say, message, error=not ok)

    def action_done(self) -> None:
        if self.visit_id is not None and not self.ended:
            # Offered once as the agent finishes; a second Escape leaves whatever happened to it.
            self.ended = True
            self.action_end_visit(leave=True)
            return
        self.app.action_new_search()


def reprint_by_service(app, visit_id: int) -> tuple[bool, str]:
    """A confirmed visit's receipt printed again by the service, which keeps its files and
    audits the reprint: (ok, French message). Runs in a worker thread."""
    try:
        printed = app.counter.reprint_receipt(visit_id)
    except Exception as exc:  # noqa: BLE001 — said in French (failure_message)
        return False, failure_message(exc, unreachable="Impression impossible : service du guichet injoignable.")
    return printed.ok, printed.message


class StoredReceiptScreen(ReceiptScreen):
    """A receipt shown again from the registrations (F9), its files written again by the
    service if they were lost; the service prints it (it holds the files). Escape goes back there."""

    BINDINGS = [
        Binding("p", "print", "Réimprimer", id="receipt.print", tooltip="Imprimer le récépissé à nouveau."),
        Binding("escape", "done", "Retour", id="receipt.done", tooltip="Revenir aux inscriptions."),
    ]

    def __init__(self, stored, visit_id: int) -> None:
        """``stored``: the service's counter.wire.api.StoredReceipt."""
        super().__init__(stored.receipt, None)
        self.saved_as = stored.saved_as
        self.visit_id = visit_id

    def saved_where(self) -> str | None:
        return self.saved_as  # the service's files: it says where, under its receipts directory

    @service_worker(group="print")
    def print_it(self) -> None:
        ok, message = reprint_by_service(self.app, self.visit_id)
        self.app.call_from_thread(self.say, message, error=not ok)

    def action_done(self) -> None:
        self.dismiss()
