"""A household: members with roles and ages, school levels, crèche age, addresses."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static

from counter.domain.people import HouseholdView, MemberView
from counter.domain.schooling import coming_school_year
from screens.base import CounterScreen, service_worker
from screens.results import Column, ResultsTable
from screens.widgets import StatusLine, lines_of


def member_columns(today) -> tuple[Column, ...]:
    """A member of the household (MemberView): the name columns share what the others leave."""
    return (
        Column("role", "Rôle", lambda m: m.role_label, width=10),
        Column("name", "Nom", lambda m: m.person.display_name, share=0.55, style="bold"),
        Column("given", "Prénoms", lambda m: m.person.first_names, share=0.45),
        Column("birth", "Naissance", lambda m: m.person.birth.display(), width=10),
        Column("age", "Âge", lambda m: m.person.birth.age_label(today()), width=4),
        Column("level", "Rentrée", lambda m: m.level_label(today()), width=12),  # "TPS · crèche"
    )


class HouseholdScreen(CounterScreen[None]):
    CSS_PATH = "household.tcss"
    AUTO_FOCUS = "#members"
    SUB_TITLE = "Foyer"
    BINDINGS = [
        Binding("escape", "back", "Retour", id="household.back",
                tooltip="Revenir à la recherche (la saisie est conservée)."),
        Binding("f3", "open_dossier", "Dossier", id="household.dossier",
                tooltip="Ouvrir le dossier du membre sélectionné (aussi : Entrée)."),
        Binding("f4", "start_visit", "Visite", id="household.visit",
                tooltip="Commencer une visite : inscriptions école, crèche, bibliothèque."),
        Binding("t", "end_visit", "Fin", id="household.end",
                tooltip="Terminer une visite sans inscription (information) : motifs et issue."),
        Binding("n", "reveal_nir", "Voir le NIR", id="household.reveal_nir",
                tooltip="Afficher 30 secondes le NIR complet du membre sélectionné (consultation tracée)."),
    ]
    REVEAL_SECONDS = 30

    def __init__(self, household_id: int, focus_person: int | None = None) -> None:
        super().__init__()
        self.household_id = household_id
        self.focus_person = focus_person
        self.view: HouseholdView | None = None
        self.revealed: tuple[int, str] | None = None  # (person id, full NIR) for REVEAL_SECONDS
        self._hide_timer = None

    def compose_body(self) -> ComposeResult:
        yield Static(id="summary")
        yield ResultsTable(member_columns(self.app.today), row_key=lambda m: m.person.id, headers=self._header,
                           id="members")
        with VerticalScroll(id="details-box"):
            yield Static(id="details")
        yield StatusLine(id="status")

    def on_mount(self) -> None:
        self._build_columns()
        self.load()

    def _header(self, column: Column) -> str:
        if column.key == "level":  # « Rentrée 2026 »
            return f"{column.header} {coming_school_year(self.app.today())}"
        return column.header

    def _build_columns(self) -> None:
        self.query_one("#members", ResultsTable).lay_out(max(self.size.width, 80))

    def on_resize(self) -> None:
        self._build_columns()
        if self.view is not None:
            self._show(self.view)

    @service_worker(group="household", failed="Impossible de lire le foyer : {reason} Échap pour revenir.")
    def load(self) -> None:
        view = self.app.counter.household(self.household_id)
        self.app.call_from_thread(self._show, view)

    def _show(self, view: HouseholdView | None) -> None:
        if view is None:
            self.query_one(StatusLine).say("Ce foyer n'existe plus.", error=True)
            return
        self.view = view
        self.sub_title = f"Foyer {view.label}"
        summary = [f"Foyer {view.label} · {len(view.members)} membre{'s' if len(view.members) > 1 else ''}"]
        for who, address in view.addresses():
            if who == "Foyer":
                summary.append(f"Adresse : {address.one_line()}")
            else:
                summary.append(f"Autre adresse ({who}) : {address.one_line()}")
        if view.caf_number:
            summary.append(f"N° allocataire CAF : {view.caf_number}")
        self.query_one("#summary", Static).update(lines_of(summary))
        table = self.query_one("#members", ResultsTable)
        cursor = next((i for i, m in enumerate(view.members) if m.person.id == self.focus_person), 0)
        table.show(view.members, cursor)
        self._describe(cursor)

    @on(DataTable.RowHighlighted, "#members")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._describe(event.cursor_row)

    def _describe(self, index: int) -> None:
        if self.view is None or not 0 <= index < len(self.view.members):
            return
        member = self.view.members[index]
        today = self.app.today()
        person = member.person
        lines = [f"{person.first_names} {person.display_name} — {member.role_label.lower()}, "
                 f"né{'e' if person.sex == 'F' else ''} le {person.birth.display()}"]
        if member.own_address:
            lines.append(f"Vit à une autre adresse : {member.own_address.one_line()}")
        if note := member.creche_note(today):
            lines.append(f"Crèche : {note}")
        contacts = [c for c in (member.phone, member.email) if c]
        lines.append("Contact : " + (" · ".join(contacts) if contacts else "aucun"))
        if member.nir:
            if self.revealed and self.revealed[0] == person.id:
                lines.append(f"NIR : {self.revealed[1]} (masqué après {self.REVEAL_SECONDS} s)")
            else:
                lines.append(f"NIR : {member.nir} (n : voir)")
        self.query_one("#details", Static).update(lines_of(lines))

    def _current(self) -> MemberView | None:
        if self.view is None:
            return None
        index = self.query_one("#members", DataTable).cursor_row
        return self.view.members[index] if 0 <= index < len(self.view.members) else None

    def action_reveal_nir(self) -> None:
        member = self._current()
        if member is not None and member.nir:
            self.reveal(member.person.id)

    @service_worker(group="nir", failed="NIR non affiché : {reason}")
    def reveal(self, person_id: int) -> None:
        nir = self.app.counter.reveal_nir(person_id)
        if nir:
            self.app.call_from_thread(self._show_nir, person_id, nir)

    def _show_nir(self, person_id: int, nir: str) -> None:
        self.revealed = (person_id, nir)
        if self._hide_timer is not None:
            self._hide_timer.stop()
        self._hide_timer = self.set_timer(self.REVEAL_SECONDS, self.hide_nir)
        self._describe(self.query_one("#members", DataTable).cursor_row)

    def hide_nir(self) -> None:
        self.revealed = None
        self._describe(self.query_one("#members", DataTable).cursor_row)

    def on_screen_suspend(self) -> None:
        # Covered (the lock, a dossier): the full NIR does not wait beneath.
        if self.revealed:
            self.hide_nir()

    @on(DataTable.RowSelected, "#members")
    def _member_chosen(self) -> None:
        self.action_open_dossier()

    def action_open_dossier(self) -> None:
        if self.view is None:
            return
        index = self.query_one("#members", DataTable).cursor_row
        if 0 <= index < len(self.view.members):
            from screens.dossier import DossierScreen

            self.app.push_screen(DossierScreen(self.view.members[index].person.id))

    def action_start_visit(self) -> None:
        if self.view is not None:
            self.start_visit(self.view.id)

    @service_worker(group="visit-start", failed="Visite non commencée : {reason}")
    def start_visit(self, household_id: int) -> None:
        from screens.visit import VisitScreen

        visit_id = self.app.counter.start_visit(household_id=household_id)
        self.app.call_from_thread(self.app.push_screen, VisitScreen(visit_id))

    def action_end_visit(self) -> None:
        if self.view is not None:
            from screens.front_desk import end_visit

            end_visit(self, household_id=self.view.id)

    def action_back(self) -> None:
        self.dismiss()
