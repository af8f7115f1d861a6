"""The receipt (récépissé) handed to the family, on screen; saved and printed by the service."""

from __future__ import annotations

from collections.abc import Callable

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from counter.domain.receipt import render_text
from screens.widgets import SafeHeader, StatusLine, TrainingBanner, lines_of


def print_saved(app, receipt) -> tuple[bool, str]:
    """The service writes the receipt's files again if they are missing and sends the PDF
    to the site's printer: (ok, French message). Runs in a worker thread."""
    from counter.client.errors import Refused, ServiceUnavailable

    try:
        result = app.counter.print_receipt(receipt.code)
    except (ServiceUnavailable, Refused) as exc:
        return False, f"Impression impossible : {exc}"
    return result.ok, result.message


class ReceiptScreen(Screen[None]):
    BINDINGS = [
        Binding("p", "print", "Imprimer", id="receipt.print", tooltip="Imprimer le récépissé (imprimante configurée)."),
        Binding("escape", "done", "Terminer", id="receipt.done", tooltip="Revenir à la recherche pour la famille suivante."),
    ]
    DEFAULT_CSS = """
    ReceiptScreen #receipt { padding: 0 1; }
    ReceiptScreen #receipt-box { height: 1fr; }
    """

    def __init__(self, receipt, saved, *, before_print: Callable[[], None] | None = None) -> None:
        """``saved``: where the service wrote its files (ReceiptFiles), None if it could not;
        ``before_print`` runs in the printing thread first (F9 audits a reprint)."""
        super().__init__()
        self.receipt = receipt
        self.saved = saved
        self.before_print = before_print

    def compose(self) -> ComposeResult:
        if self.app.training:
            yield TrainingBanner()
        yield SafeHeader(icon="≡")
        with VerticalScroll(id="receipt-box"):
            yield Static(lines_of(render_text(self.receipt).split("\n")), id="receipt")
        yield StatusLine(id="status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.sub_title = f"Récépissé {self.receipt.code}"
        where = self.saved_where()
        if where is None:
            self.query_one(StatusLine).say("Récépissé non enregistré sur disque (répertoire de données "
                                           "inaccessible) : imprimez-le ou notez le code.", error=True)
        else:
            self.query_one(StatusLine).say(f"Enregistré dans les récépissés : {where} (et .txt)")
        self.query_one("#receipt-box").focus()

    def saved_where(self) -> str | None:
        """The PDF's place under the receipts directory; None when it could not be written."""
        return self.saved.shown if self.saved is not None else None

    def action_print(self) -> None:
        self.query_one(StatusLine).say("Impression en cours…")
        self.print_it()

    @work(thread=True, exclusive=True, group="print", exit_on_error=False)
    def print_it(self) -> None:
        try:
            if self.before_print is not None:
                self.before_print()
            ok, message = print_saved(self.app, self.receipt)
        except Exception:  # noqa: BLE001 — the database gone while auditing the reprint
            import logging

            logging.getLogger("counter").exception("printing a receipt failed")
            ok, message = False, "Impression impossible : base de données indisponible."
        self.app.call_from_thread(self.query_one(StatusLine).say, message, error=not ok)

    def action_done(self) -> None:
        self.app.action_new_search()


def reprint_by_service(app, visit_id: int) -> tuple[bool, str]:
    """A confirmed visit's receipt printed again by the service, which keeps its files and
    audits the reprint: (ok, French message). Runs in a worker thread."""
    from counter.client.errors import Refused, ServiceUnavailable

    try:
        printed = app.counter.reprint_receipt(visit_id)
    except Refused as exc:
        return False, exc.problem.message
    except ServiceUnavailable:
        return False, "Impression impossible : service du guichet injoignable."
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

    @work(thread=True, exclusive=True, group="print", exit_on_error=False)
    def print_it(self) -> None:
        ok, message = reprint_by_service(self.app, self.visit_id)
        self.app.call_from_thread(self.query_one(StatusLine).say, message, error=not ok)

    def action_done(self) -> None:
        self.dismiss()
