"""A family new to the town: its address from the street list, then its members.

Thin: the rules are in counter.domain.identity_checks (a member's form checks
as the agent types); the counter service checks the family again and writes it
in one transaction.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Label

from counter.domain.identity_checks import PersonInput, check_new_member
from counter.domain.people import ROLE_LABELS
from counter.domain.visits import FieldError
from screens.address_fields import ADDRESS_FIELDS, FIELD_WIDGETS, AddressScreen, address_widgets
from screens.base import service_worker
from screens.forms import FieldErrorLabel
from screens.member_form import MemberForm
from screens.results import Column, ResultsTable
from screens.widgets import StatusLine, quit_unshown

# A member as typed: (number, role, birth name, given names, birth date, birthplace). Birthplace:
# the commune's code, or the country's (99…) for a birth abroad.
MEMBER_COLUMNS = tuple(
    Column(key, header, lambda row, i=i: row[i], width=width)
    for i, (key, header, width) in enumerate((("n", "N°", 2), ("role", "Rôle", 10), ("name", "Nom", 16),
                                              ("given", "Prénoms", 22), ("born", "Né(e) le", 10),
                                              ("place", "Lieu", 5)))
)


def member_row(number: int, member: PersonInput) -> tuple:
    f = member.to_person_fields()
    day = f"{f['birth_day']:02d}" if f["birth_day"] else "--"
    month = f"{f['birth_month']:02d}" if f["birth_month"] else "--"
    return (number, ROLE_LABELS.get(member.role, member.role), f["birth_name"], f["given_names"],
            f"{day}/{month}/{f['birth_year']}", f["birth_insee_code"] or f["birth_country_code"])


class NewFamilyScreen(AddressScreen[int | None]):
    """Dismissed with the new household's id, or None when the agent gives up."""

    DEFAULT_CSS = """
    NewFamilyScreen { layout: vertical; }
    NewFamilyScreen #family-form { height: 1fr; padding: 0 1; }
    NewFamilyScreen #members { height: auto; max-height: 8; }
    """
    AUTO_FOCUS = "#street-filter"
    SUB_TITLE = "Nouvelle famille"
    BINDINGS = [
        Binding("f2", "add_member", "Ajouter membre", id="family.add",
                tooltip="Saisir un membre du foyer : identité, naissance, rôle."),
        Binding("delete", "remove_member", "Retirer", id="family.remove",
                tooltip="Retirer le membre sélectionné dans la liste."),
        Binding("ctrl+s", "create", "Créer le foyer", id="family.create",
                tooltip="Vérifier puis enregistrer le foyer, son adresse et ses membres."),
        Binding("escape", "cancel", "Annuler", id="family.cancel", tooltip="Fermer sans rien enregistrer."),
        quit_unshown("family"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.members: list[PersonInput] = []
        self._saving = False

    # -- layout --------------------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="family-form", can_focus=False):
            yield Label("Adresse du foyer", classes="section", markup=False)
            yield from address_widgets()
            yield Label("Membres du foyer — F2 : ajouter · Entrée : modifier · Suppr : retirer",
                        classes="section", markup=False)
            yield ResultsTable(MEMBER_COLUMNS, id="members", zebra_stripes=True)
            yield FieldErrorLabel(id="error-members")
        yield StatusLine(id="status")

    def on_mount(self) -> None:
        self.query_one("#members", ResultsTable).lay_out(max(self.size.width, 80))
        self.say("Chargement de la liste des rues…")
        # The store opens after the first paint: wait for it if needed; and for the service if it is away.
        self.watch(self.app, "ready", self._app_ready, init=True)
        self.watch(self.app, "service_down", lambda down: self._app_ready(self.app.ready and not down), init=False)

    def _app_ready(self, ready: bool) -> None:
        if ready and not self.streets:
            self.load_streets()

    def today(self):
        return self.app.today()

    # -- members -------------------------------------------------------------------------

    def action_add_member(self) -> None:
        role = "child" if any(m.role in ("parent", "other_guardian") for m in self.members) else "parent"
        self._open_member(None, PersonInput(role=role))

    @on(DataTable.RowSelected, "#members")
    def _edit_member(self, event: DataTable.RowSelected) -> None:
        self._open_member(event.cursor_row, self.members[event.cursor_row])

    def _open_member(self, index: int | None, member: PersonInput) -> None:
        others = [m for i, m in enumerate(self.members) if i != index]
        today = self.today()

        def done(result: PersonInput | None) -> None:
            if result is None:
                return
            if index is None:
                self.members.append(result)
            else:
                self.members[index] = result
            self._show_members(len(self.members) - 1 if index is None else index)
            fields = result.to_person_fields()
            self.say(f"{'Membre ajouté' if index is None else 'Membre modifié'} : "
                     f"{fields['given_names'].split(',')[0]} {fields['birth_name']}. "
                     "F2 : un autre membre · Ctrl+S : créer le foyer.")

        self.app.push_screen(MemberForm(member, check=lambda p: check_new_member(p, others, today)), done)

    def action_remove_member(self) -> None:
        table = self.query_one("#members", DataTable)
        if not table.has_focus or not self.members:
            return
        removed = self.members.pop(table.cursor_row)
        self._show_members(min(table.cursor_row, len(self.members) - 1))
        self.say(f"Membre retiré : {removed.to_person_fields()['birth_name']}.")

    def _show_members(self, cursor: int = 0) -> None:
        table = self.query_one("#members", ResultsTable)
        table.show([member_row(number, member) for number, member in enumerate(self.members, start=1)], cursor)
        self.query_one("#error-members", FieldErrorLabel).show(None)

    # -- creating ------------------------------------------------------------------------

    def action_create(self) -> None:
        if self._saving:
            return
        if not self.app.ready:
            self.say("Base de données pas encore ouverte : patientez un instant.", error=True)
            return
        address, error = self.address_values()
        if error:
            self._show_errors([(None, error)])
            return
        self._saving = True
        self.say("Enregistrement du foyer…")
        number, suffix, complement, ban_id = address
        self.create_family(self.street_id, number, suffix, complement, list(self.members), ban_id)

    # Refused: nothing was written (one transaction), and the agent is told so.
    @service_worker(group="family-create", then="_failed",
                    failed="Foyer non enregistré : {reason} Rien n'a été écrit ; réessayez (Ctrl+S).",
                    unreachable="Service du guichet injoignable : le foyer n'est peut-être pas "
                                "enregistré. Cherchez-le avant de le saisir à nouveau.")
    def create_family(self, street_id, number, suffix, complement, members, ban_id=None, distinct_from=()) -> None:
        written = self.app.counter.create_family(street_id, number, suffix, complement, members,
                                                 distinct_from=distinct_from, ban_id=ban_id)
        if written.errors:
            self.app.call_from_thread(self._show_errors, list(written.errors))
        elif written.duplicates:
            def again(distinct: tuple[int, ...]) -> None:  # the same family, the candidates declared different
                self.create_family(street_id, number, suffix, complement, members, ban_id,
                                   distinct_from=distinct)

            self.app.call_from_thread(self._show_duplicates, list(written.duplicates), members, again)
        else:
            self.app.call_from_thread(self._created, written.id, len(members))

    def _show_duplicates(self, matches, members, again) -> None:
        """Members the town may know already: the agent says whether they are the same persons;
        ``again(ids)`` sends the family once more, those persons declared different."""
        from screens.likely_duplicates import SAME, LikelyDuplicatesModal

        self._saving = False
        self.say("Membre peut-être déjà connu : foyer non enregistré, choisissez (m ou d).")
        typed = [f"{f['birth_name']} {' '.join(n.strip() for n in f['given_names'].split(','))}"
                 for f in (m.to_person_fields() for m in members)]

        def chosen(choice) -> None:
            if choice is None:
                self.say("Foyer non enregistré : vérifiez les membres, puis Ctrl+S.")
                return
            kind, match = choice
            if kind == SAME:
                self._open_known(match)
                return
            self._saving = True
            self.say("Personne différente : enregistrement du foyer…")
            again(tuple(sorted({m.known.id for m in matches})))

        self.app.push_screen(LikelyDuplicatesModal(matches, typed), chosen)

    def _open_known(self, match) -> None:
        """« C'est la même personne »: the known household instead of a new one."""
        household_id = match.known.household_id
        if household_id is None:
            self.say("Cette personne n'est rattachée à aucun foyer : cherchez-la (Échap, puis son nom).",
                     error=True)
            return
        from screens.household import HouseholdScreen

        self.dismiss(None)
        self.app.push_screen(HouseholdScreen(household_id, focus_person=match.known.id))

    def _failed(self, _exc: Exception) -> None:
        self._saving = False

    def _show_errors(self, errors: list[tuple[int | None, FieldError]]) -> None:
        self._saving = False
        for label in self.query(FieldErrorLabel):
            label.show(None)
        lines = []
        for index, error in errors:
            if index is None and error.field in ADDRESS_FIELDS:
                self.query_one(f"#error-{error.field}", FieldErrorLabel).show(error.message)
            elif index is None:
                lines.append(error.message)
            else:
                lines.append(f"Membre n° {index + 1} : {error.message}")
        if lines:
            # One label, one line each is not possible (controls are masked): joined.
            self.query_one("#error-members", FieldErrorLabel).show(" · ".join(lines))
        self.say("Foyer non enregistré : corrigez les points signalés.", error=True)
        first = next((e.field for i, e in errors if i is None and e.field in ADDRESS_FIELDS), None)
        widget = self.query_one(FIELD_WIDGETS.get(first, "#members"))
        widget.focus(scroll_visible=False)
        label = self.query_one(f"#error-{first or 'members'}", FieldErrorLabel)
        form = self.query_one("#family-form", VerticalScroll)

        def scroll() -> None:
            form.scroll_to_widget(widget, animate=False, immediate=True)
            form.scroll_to_widget(label, animate=False, immediate=True)

        self.call_after_refresh(scroll)

    def _created(self, household_id: int, count: int) -> None:
        message = f"Foyer F-{household_id:05d} créé avec {count} membre{'s' if count > 1 else ''}."
        self.say(message)
        self.app.notify(message, title="Nouvelle famille", markup=False)
        self.dismiss(household_id)

    # -- leaving -------------------------------------------------------------------------

    def action_cancel(self) -> None:
        if not self.members and self.street_id is None:
            self.dismiss(None)
            return
        from screens.visit import ConfirmVisit

        count = len(self.members)
        lines = [f"{count} membre{'s' if count > 1 else ''} et l'adresse saisis ne seront pas enregistrés."]

        def done(leave: bool | None) -> None:
            if leave:
                self.dismiss(None)

        self.app.push_screen(ConfirmVisit(lines, title="Abandonner la création du foyer ?", yes="Abandonner"), done)
