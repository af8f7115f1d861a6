"""The audit trail for supervisors: the newest entries, what was done, by whom, from where."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer

from screens.widgets import SafeHeader, StatusLine, TrainingBanner, plain


class AuditScreen(Screen[None]):
    AUTO_FOCUS = "#audit"
    BINDINGS = [Binding("escape", "back", "Retour", id="audit.back", tooltip="Revenir à l'écran précédent.")]

    def __init__(self, entries, broken=None) -> None:
        super().__init__()
        self.entries = entries
        self.broken = broken

    def compose(self) -> ComposeResult:
        if self.app.training:
            yield TrainingBanner()
        yield SafeHeader(icon="≡")
        yield DataTable(id="audit", cursor_type="row")
        yield StatusLine(id="status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.sub_title = "Journal d'audit"
        table = self.query_one("#audit", DataTable)
        for label, width in (("N°", 6), ("Date", 16), ("Agent", 12), ("Action", 18), ("Objet", 14), ("Détail", 30)):
            table.add_column(label, width=width)
        for entry in self.entries:
            table.add_row(plain(entry.seq), plain(entry.at.astimezone().strftime("%d/%m/%Y %H:%M")),
                          plain(entry.agent, limit=12), plain(entry.action),
                          plain(f"{entry.target_type} {entry.target_id}".strip()), plain(entry.details, limit=200))
        status = self.query_one(StatusLine)
        if self.broken is not None:
            status.say(f"Chaîne rompue à l'entrée n° {self.broken.seq} : prévenez l'administrateur.", error=True)
        else:
            status.say(f"{len(self.entries)} dernières entrées · chaîne intacte")

    def action_back(self) -> None:
        self.dismiss()
