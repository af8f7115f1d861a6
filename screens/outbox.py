"""The supervisors' view of the outbox: what is waiting, what was refused, relaunch a refusal."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static

from counter.domain.family_feed import sync_line
from counter.domain.registrations import OPERATION_LABELS, OUTBOX_LABELS, message_lines, short_datetime
from screens.base import CounterScreen, service_worker
from screens.registrations import supervises
from screens.results import Column, ResultsTable
from screens.widgets import StatusLine, lines_of

if TYPE_CHECKING:
    from counter.domain.outbox import OutboxView

REFUSAL = ("Accès réservé aux superviseurs : le suivi des envois n'est pas ouvert à votre profil.\n"
           "Échap pour revenir.")
_FILTERS = {"all": None, "pending": "pending", "refused": "refused"}
_FILTER_WORDS = {"all": ("", ""), "pending": (" en attente", " en attente"), "refused": (" refusé", " refusés")}
# A message (OutboxView). Every header fits its column at 80 columns; the last error
# gets what is left, and only when that is worth a column (its full text is in the panel below).
MIN_ERROR_WIDTH = 15
COLUMNS = (
    Column("id", "N°", lambda m: m.id, width=4),
    Column("registration", "Inscr.", lambda m: m.registration_id, width=6),
    Column("target", "Vers", lambda m: m.target, width=8),
    Column("operation", "Opération", lambda m: OPERATION_LABELS.get(m.operation, m.operation), width=11),
    Column("state", "État", lambda m: OUTBOX_LABELS.get(m.state, m.state), width=10,
           style=lambda m: "bold" if m.state == "refused" else ""),
    Column("attempts", "Essais", lambda m: m.attempts, width=6),
    Column("next", "Prochain essai", lambda m: short_datetime(m.next_attempt_at) if m.state == "pending" else "—",
           width=14),
    Column("error", "Dernière erreur", lambda m: (m.last_error or "") if m.state != "delivered" else "",
           rest=True, minimum=MIN_ERROR_WIDTH, drop_below=MIN_ERROR_WIDTH),
)


class OutboxScreen(CounterScreen[None]):
    CSS_PATH = "registrations.tcss"
    AUTO_FOCUS = "#messages"
    SUB_TITLE = "Envois aux services"
    BINDINGS = [
        Binding("escape", "back", "Retour", id="outbox.back", tooltip="Revenir à l'écran précédent."),
        Binding("t", "filter('all')", "Tous", id="outbox.all", tooltip="Afficher tous les messages."),
        Binding("p", "filter('pending')", "En attente", id="outbox.pending",
                tooltip="Afficher les messages en attente d'envoi."),
        Binding("r", "filter('refused')", "Refusés", id="outbox.refused",
                tooltip="Afficher les messages refusés par leur destinataire."),
        Binding("e", "retry", "Réessayer", id="outbox.retry",
                tooltip="Relancer l'envoi refusé en surbrillance."),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._messages: list[OutboxView] = []
        self._filter = "all"
        self._allowed = False
        self._loaded = False  # the list as asked is shown (else: asked again when the service is back)
        self._sync = ""  # French: the family system's last synchronisation (supervisors)

    def compose_body(self) -> ComposeResult:
        # Hidden from whom the service would refuse (it checks the role again, and audits).
        self._allowed = supervises(self.app)
        if not self._allowed:
            yield Static(REFUSAL, id="refusal", markup=False)
            return
        yield StatusLine("Lecture des envois…", id="status")
        yield ResultsTable(COLUMNS, row_key=lambda m: m.id, id="messages")
        with VerticalScroll(id="detail-box"):
            yield Static(id="detail")

    def on_mount(self) -> None:
        if not self._allowed:
            return
        self._build_columns()
        self.watch(self.app, "ready", self._on_ready, init=True)
        self.watch(self.app, "service_down", self._service_back, init=False)

    def _on_ready(self, ready: bool) -> None:
        if ready:
            self.load()

    def _service_back(self, down: str) -> None:
        if not down and self.app.ready and not self._loaded:
            self.load()

    # -- listing -------------------------------------------------------------------------

    def action_filter(self, which: str) -> None:
        self._filter = which
        self.load()

    def _reload(self, keep: int | None = None, message: str = "") -> None:
        self.load(keep, message)

    # Refused (a role): the service's words.
    @service_worker(group="outbox-list",
                    unreachable="Lecture des envois impossible : service du guichet injoignable.")
    def load(self, keep: int | None = None, message: str = "") -> None:
        from counter.client.errors import Refused, ServiceUnavailable

        which = self._filter
        self._loaded = False
        messages = self.app.counter.outbox_messages(_FILTERS[which])
        try:  # when the family system's feed last came in (nothing without a family system)
            self._sync = sync_line(self.app.counter.sync_status())
        except (Refused, ServiceUnavailable):
            self._sync = ""
        self.app.call_from_thread(self._show, which, messages, keep, message)

    def _show(self, which: str, messages: list[OutboxView], keep: int | None, message: str) -> None:
        if which != self._filter:
            return  # another filter was asked meanwhile
        self._messages, self._loaded = messages, True
        table = self.query_one("#messages", ResultsTable)
        cursor = next((i for i, m in enumerate(messages) if m.id == keep), 0)
        table.show(messages, cursor)
        count = len(messages)
        one, many = _FILTER_WORDS[which]
        summary = f"{count} message{'s' + many if count > 1 else one}." if count else f"Aucun message{one}."
        self.query_one(StatusLine).say(
            (message + "\n" if message else "") + summary + " t : tous · p : en attente · r : refusés"
            + (f"\n{self._sync}" if self._sync else ""))
        self._describe(cursor)
        self.refresh_bindings()

    def _build_columns(self) -> None:
        self.query_one("#messages", ResultsTable).lay_out(max(self.size.width, 80))

    def on_resize(self) -> None:
        if not self._allowed:
            return
        highlighted = self._highlighted()
        self._build_columns()
        self._show(self._filter, self._messages, highlighted.id if highlighted else None, "")

    @on(DataTable.RowHighlighted, "#messages")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._describe(event.cursor_row)

    def _describe(self, index: int) -> None:
        detail = self.query_one("#detail", Static)
        if 0 <= index < len(self._messages):
            detail.update(lines_of(message_lines(self._messages[index])))
        else:
            detail.update("")

    # -- relaunching --------------------------------------------------------------------------

    def action_retry(self) -> None:
        message = self._highlighted()
        if message is None:
            return
        if message.state != "refused":
            self.query_one(StatusLine).say("Seul un envoi refusé peut être relancé.", error=True)
            return
        self.retry(message.id)

    @service_worker(group="outbox-retry", then="_retry_failed",
                    unreachable="Relance non confirmée : service du guichet injoignable. "
                                "La liste dira où en est l'envoi quand il reviendra.")
    def retry(self, message_id: int) -> None:
        said = self.app.counter.relaunch_message(message_id)
        self.app.call_from_thread(self._reload, message_id, said)

    def _retry_failed(self, exc: Exception) -> None:
        from counter.client.errors import ServiceUnavailable

        if isinstance(exc, ServiceUnavailable):
            self._loaded = False  # listed again once the service is back

    # -- moving around -------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "back":
            return True
        if not self._allowed:
            return False
        if action == "retry":
            return self._highlighted() is not None
        return True

    def action_back(self) -> None:
        self.dismiss()

    def _highlighted(self) -> OutboxView | None:
        if not self._allowed:
            return None
        return self.query_one("#messages", ResultsTable).highlighted()
