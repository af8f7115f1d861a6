"""The training scenario's description, for the trainer and the trainees (F1)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from screens.widgets import lines_of, plain


class ScenarioHelp(ModalScreen[None]):
    CSS_PATH = "scenario.tcss"
    BINDINGS = [
        Binding("escape", "close", "Fermer", id="scenario.close",
                tooltip="Revenir à l'écran où vous étiez."),
        Binding("f1", "close", "Fermer", id="scenario.close_f1", show=False),
    ]

    def __init__(self, scenario) -> None:
        super().__init__()
        self.scenario = scenario

    def compose(self) -> ComposeResult:
        scenario = self.scenario
        with Vertical(id="scenario-box"):
            yield Static(plain(f"Scénario : {scenario.title}", style="bold"), id="scenario-title")
            yield Static(plain(f"Le {scenario.day:%d/%m/%Y} · counter train {scenario.name}"), id="scenario-day")
            if scenario.searches:
                yield Static(lines_of([f"À essayer dans la recherche : {' · '.join(scenario.searches)}"]),
                             id="scenario-searches")
            with VerticalScroll(id="scenario-text"):
                yield Static(lines_of(scenario.description.split("\n")), id="scenario-description")
        yield Footer(compact=True)

    def action_close(self) -> None:
        self.dismiss(None)
