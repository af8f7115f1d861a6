"""The supervisors' view of the outbox: what is waiting, what was refused, relaunch a refusal."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from counter.domain.family_feed import sync_line
from counter.domain.registrations import OPERATION_LABELS, OUTBOX_LABELS, message_lines, short_datetime
from screens.registrations import failure, supervises
from screens.widgets import SafeHeader, StatusLine, TrainingBanner, lines_of, plain

if TYPE_CHECKING:
    from counter.domain.outbox import OutboxView

REFUSAL = ("Accès réservé aux superviseurs : le suivi des envois n'est pas ouvert à votre profil.\n"
           "Échap pour revenir.")
_FILTERS = {"all": None, "pending": "pending", "refused": "refused"}
_FILTER_WORDS = {"all": ("", ""), "pending": (" en attente", " en attente"), "refused": (" refusé", " refusés")}
# Every header fits its column at 80 columns; the last error gets what is left,
# and only when that is worth a column (its full text is in the panel below).
_COLUMNS = (("id", "N°", 4), ("registration", "Inscr.", 6), ("target", "Vers", 8),
            ("operation", "Opération", 11), ("state", "État", 10), ("attempts", "Essais", 6),
            ("next", "Prochain essai", 14))
_ERROR = ("error", "Dernière erreur")
MIN_ERROR_WIDTH = 15


class OutboxScreen(Screen[None]):
    CSS_PATH = "registrations.tcss"
    AUTO_FOCUS = "#messages"
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
        self._with_error = False
        self._loaded = False  # the list as asked is shown (else: asked again when the service is back)
        self._sync = ""  # French: the family system's last synchronisation (supervisors)

    def compose(self) -> ComposeResult:
        # Hidden from whom the service would refuse (it checks the role again, and audits).
        self._allowed = supervises(self.app)
        if self.app.training:
            yield TrainingBanner()
        yield SafeHeader(icon="≡")
        if not self._allowed:
            yield Static(REFUSAL, id="refusal", markup=False)
            yield Footer(compact=True)
            return
        yield StatusLine("Lecture des envois…", id="status")
        yield DataTable(id="messages", cursor_type="row")
        with VerticalScroll(id="detail-box"):
            yield Static(id="detail")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.sub_title = "Envois aux services"
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

    @work(thread=True, exclusive=True, group="outbox-list", exit_on_error=False)
    def load(self, keep: int | None = None, message: str = "") -> None:
        from counter.client.errors import Refused, ServiceUnavailable

        which = self._filter
        self._loaded = False
        try:
            messages = self.app.counter.outbox_messages(_FILTERS[which])
        except (Refused, ServiceUnavailable) as exc:  # refused (a role), or the service gone
            self.app.call_from_thread(self.query_one(StatusLine).say, failure(
                exc, "Lecture des envois impossible : service du guichet injoignable."), error=True)
            return
        try:  # when the family system's feed last came in (nothing without a family system)
            self._sync = sync_line(self.app.counter.sync_status())
        except (Refused, ServiceUnavailable):
            self._sync = ""
        self.app.call_from_thread(self._show, which, messages, keep, message)

    def _show(self, which: str, messages: list[OutboxView], keep: int | None, message: str) -> None:
        if which != self._filter:
            return  # another filter was asked meanwhile
        self._messages, self._loaded = messages, True
        table = self.query_one("#messages", DataTable)
        table.clear()
        for m in messages:
            table.add_row(
                plain(m.id),
                plain(m.registration_id),
                plain(m.target),
                plain(OPERATION_LABELS.get(m.operation, m.operation)),
                plain(OUTBOX_LABELS.get(m.state, m.state), "bold" if m.state == "refused" else ""),
                plain(m.attempts),
                plain(short_datetime(m.next_attempt_at) if m.state == "pending" else "—"),
                *([plain((m.last_error or "") if m.state != "delivered" else "")] if self._with_error else []),
                key=str(m.id),
            )
        count = len(messages)
        one, many = _FILTER_WORDS[which]
        summary = f"{count} message{'s' + many if count > 1 else one}." if count else f"Aucun message{one}."
        self.query_one(StatusLine).say(
            (message + "\n" if message else "") + summary + " t : tous · p : en attente · r : refusés"
            + (f"\n{self._sync}" if self._sync else ""))
        cursor = next((i for i, m in enumerate(messages) if m.id == keep), 0)
        if messages:
            table.move_cursor(row=cursor)
        self._describe(cursor)
        self.refresh_bindings()

    def _build_columns(self) -> None:
        table = self.query_one("#messages", DataTable)
        fixed = sum(width for _, _, width in _COLUMNS)
        # Two cells of padding per column, one for the scrollbar.
        rest = max(self.size.width, 80) - fixed - 2 * (len(_COLUMNS) + 1) - 1
        self._with_error = rest >= MIN_ERROR_WIDTH
        table.clear(columns=True)
        for key, label, width in _COLUMNS:
            table.add_column(label, width=width, key=key)
        if self._with_error:
            table.add_column(_ERROR[1], width=rest, key=_ERROR[0])

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

    @work(thread=True, exclusive=True, group="outbox-retry", exit_on_error=False)
    def retry(self, message_id: int) -> None:
        from counter.client.errors import Refused, ServiceUnavailable

        try:
            said = self.app.counter.relaunch_message(message_id)
        except (Refused, ServiceUnavailable) as exc:
            self.app.call_from_thread(self.query_one(StatusLine).say, failure(
                exc, "Relance non confirmée : service du guichet injoignable. "
                     "La liste dira où en est l'envoi quand il reviendra."), error=True)
            if isinstance(exc, ServiceUnavailable):
                self._loaded = False  # listed again once the service is back
            return
        self.app.call_from_thread(self._reload, message_id, said)

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
        table = self.query_one("#messages", DataTable)
        index = table.cursor_row
        if not table.row_count or not 0 <= index < len(self._messages):
            return None
        return self._messages[index]
