"""The audit trail for supervisors: the newest entries, what was done, by whom, from where."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding

from screens.base import CounterScreen
from screens.results import Column, ResultsTable
from screens.widgets import StatusLine

# An entry of the trail, as the service lists it (newest first).
COLUMNS = (
    Column("seq", "N°", lambda e: e.seq, width=6),
    Column("at", "Date", lambda e: e.at.astimezone().strftime("%d/%m/%Y %H:%M"), width=16),
    Column("agent", "Agent", lambda e: e.agent, width=12, limit=12),
    Column("action", "Action", lambda e: e.action, width=18),
    Column("target", "Objet", lambda e: f"{e.target_type} {e.target_id}".strip(), width=14),
    Column("details", "Détail", lambda e: e.details, width=30, limit=200),
)


class AuditScreen(CounterScreen[None]):
    AUTO_FOCUS = "#audit"
    SUB_TITLE = "Journal d'audit"
    BINDINGS = [Binding("escape", "back", "Retour", id="audit.back", tooltip="Revenir à l'écran précédent.")]

    def __init__(self, entries, broken=None) -> None:
        super().__init__()
        self.entries = entries
        self.broken = broken

    def compose_body(self) -> ComposeResult:
        yield ResultsTable(COLUMNS, id="audit")
        yield StatusLine(id="status")

    def on_mount(self) -> None:
        table = self.query_one("#audit", ResultsTable)
        table.lay_out(max(self.size.width, 80))
        table.show(self.entries)
        if self.broken is not None:
            self.say(f"Chaîne rompue à l'entrée n° {self.broken.seq} : prévenez l'administrateur.", error=True)
        else:
            self.say(f"{len(self.entries)} dernières entrées · chaîne intacte")

    def action_back(self) -> None:
        self.dismiss()
