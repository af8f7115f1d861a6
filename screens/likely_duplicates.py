"""Before a new family is written: members who may be persons the town already knows.

The service found them (counter.domain.duplicates says why); the agent decides
with one key: « C'est la même personne » opens the known household and nothing
is created, « Personne différente » writes the family (the service audits the
decision). Names are external text: plain text only.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, OptionList
from textual.widgets.option_list import Option

from counter.domain.duplicate_views import DuplicateMatch
from counter.domain.duplicates import words
from counter.domain.people import household_label
from screens.widgets import lines_of

SAME, DIFFERENT = "same", "different"
LINE = 72  # characters of a candidate's line inside the box (74 columns within its border)


def _cut(text: str) -> str:
    return text if len(text) <= LINE else text[: LINE - 1] + "…"


def candidate_lines(match: DuplicateMatch, typed: str) -> list[str]:
    """One candidate in four lines: which member, who the town knows, born when and where they live, why."""
    known = match.known
    born = "née" if known.sex == "F" else "né"
    if known.household_id is None:
        home = "Sans foyer"
    else:
        home = f"Foyer {household_label(known.household_id)}"
        if known.address is not None:
            home += f" · {known.address.short()}"
    return [
        _cut(f"Membre n° {match.member_index + 1} saisi : {typed}"),
        _cut(f"  ressemble à : {known.display_name} {known.first_names}"),
        _cut(f"  {born} le {known.birth.display()} · {home}"),
        _cut(f"  Pourquoi : {words(match.reasons)}"),
    ]


class LikelyDuplicatesModal(ModalScreen[tuple[str, DuplicateMatch | None] | None]):
    """Dismissed with (SAME, the match chosen), (DIFFERENT, None), or None (back to the form)."""

    DEFAULT_CSS = """
    LikelyDuplicatesModal { align: center middle; }
    LikelyDuplicatesModal > Vertical {
        width: 78; max-width: 100%; height: auto; max-height: 100%;
        border: thick $warning; background: $surface; padding: 0 1;
    }
    LikelyDuplicatesModal Label { width: 100%; }
    LikelyDuplicatesModal #duplicates-title { text-style: bold; }
    LikelyDuplicatesModal #candidates { height: auto; max-height: 13; border: none; }
    LikelyDuplicatesModal #duplicates-keys { text-style: bold; margin-top: 1; }
    """
    AUTO_FOCUS = "#candidates"
    BINDINGS = [
        Binding("m", "same", "C'est la même personne", id="duplicates.same",
                tooltip="Ouvrir le foyer de la personne sélectionnée ; aucun foyer n'est créé."),
        Binding("d", "different", "Personne différente", id="duplicates.different",
                tooltip="Créer le foyer : ce ne sont pas les mêmes personnes (décision tracée)."),
        Binding("escape", "back", "Revenir", id="duplicates.back",
                tooltip="Revenir au formulaire sans rien enregistrer."),
    ]

    def __init__(self, matches: list[DuplicateMatch], typed: list[str]) -> None:
        """``typed``: each member of the new family as typed (« NOM Prénoms »), by index."""
        super().__init__()
        self.matches = list(matches)
        self.typed = typed

    def compose(self) -> ComposeResult:
        count = len(self.matches)
        with Vertical():
            yield Label("Personne déjà connue ?" if count == 1 else f"{count} personnes déjà connues ?",
                        id="duplicates-title", markup=False)
            yield Label("La ville connaît peut-être déjà ce membre : vérifiez avec la famille avant de créer "
                        "le foyer.", markup=False)
            options = []
            for index, match in enumerate(self.matches):
                typed = self.typed[match.member_index] if match.member_index < len(self.typed) else ""
                options.append(Option(lines_of(candidate_lines(match, typed)), id=str(index)))
            yield OptionList(*options, id="candidates", compact=True)
            yield Label("m : « C'est la même personne » (ouvre son foyer, rien n'est créé)\n"
                        "d : « Personne différente » (le foyer est créé) · Échap : revenir",
                        id="duplicates-keys", markup=False)
        yield Footer(compact=True)

    def chosen(self) -> DuplicateMatch:
        highlighted = self.query_one("#candidates", OptionList).highlighted
        return self.matches[highlighted or 0]

    @on(OptionList.OptionSelected, "#candidates")
    def _selected(self) -> None:
        pass  # Enter chooses nothing: the two answers have their own keys

    def action_same(self) -> None:
        self.dismiss((SAME, self.chosen()))

    def action_different(self) -> None:
        self.dismiss((DIFFERENT, None))

    def action_back(self) -> None:
        self.dismiss(None)
