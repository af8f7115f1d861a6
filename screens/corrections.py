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


PICK_ADDRESS = "Choisir l'adresse du foyer dans la liste de la ville (rue, puis numéro)…"


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

    def __init__(self, conflicts, extra: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.conflicts = conflicts
        self.extra = extra  # more choices after the conflicts: their index follows the conflicts'

    def compose(self) -> ComposeResult:
        labels = [correction_label(c) for c in self.conflicts] + list(self.extra)
        with Vertical():
            yield Label("Mettre à jour le dossier de la mairie (la modification est tracée)", markup=False)
            yield OptionList(*(Option(plain(label), id=str(i)) for i, label in enumerate(labels)))
        yield Footer(compact=True)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(int(event.option.id))

    def action_cancel(self) -> None:
        self.dismiss(None)
