"""The first screen: find a citizen by typing the way agents really type."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.timer import Timer
from textual.widgets import DataTable, Input

from counter.domain.people import PersonSummary, household_label
from screens.base import CounterScreen, service_worker
from screens.results import Column, ResultsTable
from screens.widgets import SearchInput, StatusLine, SteadyFooter, TrainingBanner

if TYPE_CHECKING:  # the service (and SQLAlchemy behind it) loads after the first paint
    from counter.domain.search_results import SearchOutcome

DEBOUNCE_SECONDS = 0.15
OPENING = "Ouverture de la base de données…"
PLACEHOLDER = "Nom, prénom, date de naissance, NIR, ou n° CAF + code postal"
WELCOME = (
    "Tapez quelques lettres du nom et du prénom, dans n'importe quel ordre "
    "(« lef alex »). Entrée ouvre le foyer de la personne en surbrillance."
)



def result_columns(today) -> tuple[Column, ...]:
    """A person found: the name, given-name and address columns share what the others leave."""
    return (
        Column("name", "Nom", lambda p: p.display_name, share=0.38, style="bold"),
        Column("given", "Prénoms", lambda p: p.first_names, share=0.27),
        Column("birth", "Naissance", lambda p: p.birth.display(), width=10),
        Column("age", "Âge", lambda p: p.birth.age_label(today()), width=4),
        Column("address", "Adresse", lambda p: p.address.short() if p.address else "—", share=0.35),
        Column("household", "Foyer", lambda p: household_label(p.household_id) if p.household_id else "—", width=7),
    )


def _count_message(outcome: SearchOutcome) -> str:
    total = outcome.total
    if total <= len(outcome.results) and not outcome.capped:
        return f"{total} personne{'s' if total > 1 else ''} trouvée{'s' if total > 1 else ''}."
    about = f"plus de {total}" if outcome.capped else str(total)
    pages = []
    if outcome.has_previous:
        pages.append("F7 : précédentes")
    if outcome.has_next:
        pages.append("F8 : suivantes")
    return (
        f"Personnes {outcome.first} à {outcome.last} sur {about} ({' · '.join(pages)}) — "
        "précisez avec un prénom ou une date de naissance."
    )


class SearchScreen(CounterScreen[None]):
    # search.tcss is loaded by CounterApp (see there).
    # No focus before the app knows whether a PIN is to be chosen or typed: the
    # search takes no key before (the app keeps them for it: screens/typeahead.py).
    AUTO_FOCUS = ""
    SUB_TITLE = "Recherche"
    FOOTER = SteadyFooter
    BINDINGS = [
        # At 80 columns the footer keeps the keys that open something; Esc
        # (clear) and F7/F8 (pages, named in the status line) are left out of it.
        Binding("escape", "clear_or_back", "Effacer", id="search.clear", show=False,
                tooltip="Effacer la saisie (depuis la liste : revenir à la saisie)."),
        Binding("down", "focus_results", "Résultats", id="search.results", show=False),
        Binding("f2", "open_household", "Foyer", id="search.open",
                tooltip="Ouvrir le foyer de la personne en surbrillance (aussi : Entrée)."),
        Binding("f3", "open_dossier", "Dossier", id="search.dossier",
                tooltip="Ouvrir le dossier de la personne en surbrillance (toutes les sources)."),
        Binding("f4", "start_visit", "Visite", id="search.visit",
                tooltip="Commencer une visite pour le foyer de la personne en surbrillance."),
        Binding("f6", "new_family", "Famille", id="search.new_family",
                tooltip="Une famille nouvelle dans la commune : créer le foyer et ses membres, puis la visite."),
        Binding("f9", "registrations", "Inscr.", id="search.registrations",
                tooltip="Retrouver une inscription (code du récépissé ou nom) ; l'annuler (superviseur)."),
        Binding("f10", "outbox", "Envois", id="search.outbox",
                tooltip="Les envois vers les systèmes de la mairie et de la médiathèque (superviseur)."),
        # Ctrl+T (tableau de bord): F12 is the waiting list's, F11 is left to the sites
        # (and taken by some terminal emulators); the palette's « Statistiques » opens it too.
        Binding("ctrl+t", "statistics", "Stats", id="search.statistics", show=False,
                tooltip="Les statistiques du guichet (superviseur : de tous ; agent : les vôtres)."),
        Binding("f7", "page(-1)", "Précédents", id="search.previous", show=False),
        Binding("f8", "page(1)", "Suivants", id="search.next", show=False),
        # The front desk's waiting list (when the site issues tickets, [queue] enabled).
        Binding("f12", "open_queue", "Accueil", id="search.queue", show=False,
                tooltip="La file d'attente : émettre un ticket, appeler le suivant."),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._timer: Timer | None = None
        self._outcome: SearchOutcome | None = None
        self._shown_for: str | None = None
        self._open_when_shown = False

    def compose_body(self) -> ComposeResult:
        yield SearchInput(placeholder=PLACEHOLDER, id="query")
        # Painted with its first words: changing them in on_mount repainted the screen.
        yield StatusLine(WELCOME if self.app.ready else OPENING, id="status")
        yield ResultsTable(result_columns(self.app.today), row_key=lambda p: p.id, id="results")

    def on_mount(self) -> None:
        self._build_columns()
        # init=True: the store may have opened (or failed) before this screen mounted.
        self.watch(self.app, "ready", self._on_ready, init=True)
        self.watch(self.app, "problem", self._on_problem, init=True)
        self.watch(self.app, "pin_checked", self._on_pin_checked, init=True)

    def _on_pin_checked(self, checked: bool) -> None:
        if checked and self.focused is None:
            # At once, not focus(): the keys kept meanwhile are given to it right after.
            self.set_focus(self.query_one("#query", Input))

    # -- services ------------------------------------------------------------

    def _on_ready(self, ready: bool) -> None:
        if ready and self.app.training and not self.query("#training-banner"):
            # The terminal guessed a site's service; it is a training room's.
            self.mount(TrainingBanner(), before=0)
        if ready and self._shown_for is None:
            if self.query_text:
                self._run_search()
            else:
                self.query_one(StatusLine).say(WELCOME)

    def _on_problem(self, problem: str) -> None:
        if problem:
            self.query_one(StatusLine).say(problem, error=True)

    # -- typing --------------------------------------------------------------

    @property
    def query_text(self) -> str:
        return self.query_one("#query", Input).value

    @on(Input.Changed, "#query")
    def _query_changed(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DEBOUNCE_SECONDS, self._run_search)

    def _run_search(self, page: int = 0) -> None:
        self._timer = None
        text = self.query_text
        if not text.strip():
            self._show(None, text)
            return
        if self.app.ready:
            self.search(text, page)

    # The service gone: every status line says so; typing goes on, searched once it is back.
    @service_worker(group="search", failed="La recherche a échoué : {reason_lower}", unreachable=None)
    def search(self, text: str, page: int = 0) -> None:
        outcome = self.app.counter.search(text, page)
        self.app.call_from_thread(self._show, outcome, text)

    # -- results -------------------------------------------------------------

    def _show(self, outcome: SearchOutcome | None, text: str) -> None:
        if text != self.query_text:
            return  # an older answer arriving after newer typing
        self._outcome = outcome
        self._shown_for = text
        if outcome is None or not outcome.results:
            self._open_when_shown = False
        with self.app.batch_update():
            self._render_outcome(outcome)
            self.refresh_bindings()  # F2, F7, F8 follow what is shown

    def _render_outcome(self, outcome: SearchOutcome | None) -> None:
        table = self.query_one("#results", ResultsTable)
        table.show([])
        status = self.query_one(StatusLine)
        if outcome is None or outcome.is_blank:
            status.say(WELCOME)
            return
        if outcome.error:
            status.say(outcome.error, error=True)
            return
        if not outcome.results:
            status.say("\n".join(outcome.hints))
            return
        table.show([result.person for result in outcome.results])
        status.say(_count_message(outcome))
        if self._open_when_shown:
            self._open_when_shown = False
            self.action_open_household()

    def _build_columns(self) -> None:
        self.query_one("#results", ResultsTable).lay_out(max(self.size.width, 80))

    def on_resize(self) -> None:
        self._build_columns()
        if self._outcome is not None and self._shown_for is not None:
            self._show(self._outcome, self._shown_for)

    # -- actions ---------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("open_household", "open_dossier", "start_visit"):
            return self._highlighted() is not None
        if action == "new_family":
            # Offered (F6) when nobody is found; the palette offers it always.
            return self._highlighted() is None
        if action == "page":
            outcome = self._outcome
            if outcome is None:
                return False
            return outcome.has_next if parameters[0] == 1 else outcome.has_previous
        return True

    def action_page(self, step: int) -> None:
        if self._outcome is not None and self._shown_for == self.query_text:
            self._run_search(self._outcome.page + step)

    def clear_query(self) -> None:
        query = self.query_one("#query", Input)
        query.value = ""
        query.focus()

    def action_clear_or_back(self) -> None:
        query = self.query_one("#query", Input)
        if query.has_focus:
            self.clear_query()
        else:
            query.focus()

    def action_focus_results(self) -> None:
        table = self.query_one("#results", DataTable)
        if table.row_count:
            table.focus()

    @on(Input.Submitted, "#query")
    def _submitted(self) -> None:
        if self._shown_for != self.query_text:
            # Enter pressed before the debounced search ran: search now, open after.
            self._open_when_shown = True
            if self._timer is not None:
                self._timer.stop()
            self._run_search()
            return
        self.action_open_household()

    @on(DataTable.RowSelected, "#results")
    def _row_selected(self) -> None:
        self.action_open_household()

    def action_open_household(self) -> None:
        person = self._highlighted()
        if person is None:
            return
        if person.household_id is None:
            self.notify("Cette personne n'est rattachée à aucun foyer.", title="Foyer", severity="warning",
                        markup=False)
            return
        from screens.household import HouseholdScreen

        self.app.push_screen(HouseholdScreen(person.household_id, focus_person=person.id))

    def action_registrations(self) -> None:
        from screens.registrations import RegistrationsScreen

        self.app.push_screen(RegistrationsScreen())

    def action_open_queue(self) -> None:
        from screens.front_desk import QueueScreen, desk_of

        if self.app.session is None:
            return
        if not desk_of(self.app).queue:
            self.say("Pas de file d'attente sur ce site : l'administrateur l'active dans [queue].", error=True)
            return
        self.app.push_screen(QueueScreen())

    def action_statistics(self) -> None:
        from screens.statistics import StatisticsScreen

        self.app.push_screen(StatisticsScreen())

    def action_outbox(self) -> None:
        from screens.outbox import OutboxScreen

        self.app.push_screen(OutboxScreen())

    def action_new_family(self) -> None:
        from screens.new_family import NewFamilyScreen

        def created(household_id: int | None) -> None:
            if household_id is not None:
                self.start_visit(household_id, None)

        self.app.push_screen(NewFamilyScreen(), created)

    def action_start_visit(self) -> None:
        person = self._highlighted()
        if person is not None:
            self.start_visit(person.household_id, person.id)

    @service_worker(group="visit-start", failed="Visite non commencée : {reason}")
    def start_visit(self, household_id: int | None, person_id: int | None) -> None:
        from screens.visit import VisitScreen

        if household_id:
            visit_id = self.app.counter.start_visit(household_id=household_id)
        else:
            visit_id = self.app.counter.start_visit(person_id=person_id)
        self.app.call_from_thread(self.app.push_screen, VisitScreen(visit_id))

    def action_open_dossier(self) -> None:
        person = self._highlighted()
        if person is not None:
            from screens.dossier import DossierScreen

            self.app.push_screen(DossierScreen(person.id))

    def _highlighted(self) -> PersonSummary | None:
        if self._outcome is None:
            return None
        return self.query_one("#results", ResultsTable).highlighted()
