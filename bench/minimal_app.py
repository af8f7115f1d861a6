"""The reference: a minimal Textual app with the counter's search-screen widgets.

Start-up: compose only (Header, Input, DataTable, Footer). Terminal traffic: it
does what the search screen does, the plain Textual way — every change of the
input refills the table with 50 rows of six columns (names, given names, a
birth date, an age, an address, a household), and ↓ moves from the input into
the table. Its input cursor does not blink, like the counter's: a blink is
idle traffic, and would be counted in the reference's keystrokes.
"""

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Input

_NAMES = ("MARTIN", "BERNARD", "THOMAS", "PETIT", "ROBERT", "RICHARD", "DURAND", "DUBOIS", "MOREAU", "LAURENT")
_GIVEN = ("Jean", "Marie", "Alexis", "Jeanne", "Louise", "Gabriel", "Léa", "Hugo", "Chloé", "Lucas Paul")
_STREETS = ("rue des Lilas", "avenue de la Gare", "place de l'Église", "chemin du Moulin", "rue Victor Hugo")


def rows_for(query: str, count: int = 50) -> list[tuple[str, ...]]:
    """Rows that change with the query, as search results do."""
    seed = sum(map(ord, query))
    rows = []
    for i in range(count):
        n = seed + 7 * i
        rows.append((
            f"{_NAMES[n % 10]} {query[:6].upper()}".strip(), _GIVEN[(n // 10) % 10],
            f"{1 + n % 28:02d}/{1 + n % 12:02d}/{1940 + n % 80}", f"{6 + n % 80} a",
            f"{1 + n % 120} {_STREETS[n % 5]}", f"F-{n % 99999:05d}",
        ))
    return rows


class MinimalApp(App[None]):
    BINDINGS = [Binding("down", "focus_table", "Résultats", show=False)]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="Nom, prénom, date de naissance, NIR, ou n° CAF + code postal")
        yield DataTable(cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(Input).cursor_blink = False
        self.query_one(DataTable).add_columns("Nom", "Prénoms", "Naissance", "Âge", "Adresse", "Foyer")

    def on_input_changed(self, event: Input.Changed) -> None:
        table = self.query_one(DataTable)
        table.clear()
        if event.value.strip():
            table.add_rows(rows_for(event.value))

    def action_focus_table(self) -> None:
        table = self.query_one(DataTable)
        if table.row_count:
            table.focus()


if __name__ == "__main__":
    MinimalApp().run()
