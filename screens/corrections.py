"""Keeping the town's record right from the dossier's flagged disagreements."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, OptionList
from textual.widgets.option_list import Option

from screens.widgets import plain


def correction_label(conflict) -> str:
    if conflict.kind == "address":
        return f"Prendre l'adresse de la source ({conflict.source}) : {conflict.agency_value}"
    return f"Ajouter au foyer l'enfant connu de la source : {conflict.agency_value}"


def correctable(conflicts) -> list:
    """Disagreements the agent can take into the household with one confirmation."""
    return [c for c in conflicts if (c.kind == "address" and c.address) or (c.kind == "missing_child" and c.member)]


class ChooseCorrection(ModalScreen[int | None]):
    DEFAULT_CSS = """
    ChooseCorrection { align: center middle; }
    ChooseCorrection > Vertical {
        width: 76; max-width: 100%; height: auto; max-height: 80%;
        border: thick $warning; background: $surface; padding: 0 1;
    }
    ChooseCorrection OptionList { height: auto; max-height: 12; }
    """
    BINDINGS = [Binding("escape", "cancel", "Annuler", id="correction.cancel")]

    def __init__(self, conflicts) -> None:
        super().__init__()
        self.conflicts = conflicts

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Mettre à jour le dossier de la mairie (la modification est tracée)", markup=False)
            yield OptionList(*(Option(plain(correction_label(c)), id=str(i))
                               for i, c in enumerate(self.conflicts)))
        yield Footer(compact=True)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(int(event.option.id))

    def action_cancel(self) -> None:
        self.dismiss(None)
