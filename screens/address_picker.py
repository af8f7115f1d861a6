"""The household's address picked from the town's list (street, then number), from the
dossier when an agency gives another one: prefilled with the agency's street and
number, the agent checks and saves (Ctrl+S). The service writes it, audited."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Input, Label, OptionList, Select, Static

from counter.domain.identity_checks import SUFFIXES
from counter.domain.visits import FieldError
from screens.address_fields import ADDRESS_FIELDS, FIELD_WIDGETS, AddressScreen, address_widgets
from screens.forms import FieldErrorLabel
from screens.base import service_worker
from screens.widgets import StatusLine, plain, quit_unshown


class AddressPicker(AddressScreen[bool]):
    """Dismissed with True once the household's address is written, None when the agent gives up."""

    DEFAULT_CSS = """
    AddressPicker { layout: vertical; }
    AddressPicker #address-form { height: 1fr; padding: 0 1; }
    """
    AUTO_FOCUS = "#street-filter"
    SUB_TITLE = "Adresse du foyer"
    BINDINGS = [
        Binding("ctrl+s", "save", "Enregistrer", id="address.save",
                tooltip="Enregistrer cette adresse comme celle du foyer (modification tracée)."),
        Binding("escape", "cancel", "Annuler", id="address.cancel", tooltip="Revenir au dossier sans rien changer."),
        quit_unshown("address"),
    ]

    def __init__(self, household_id: int, household_label: str, agency_text: str, source: str,
                 street: str = "", number: int | None = None, suffix: str | None = None,
                 complement: str | None = None) -> None:
        super().__init__()
        self.household_id = household_id
        self.household_label = household_label
        self.agency_text = agency_text
        self.source = source
        self.prefill = (street, number, suffix, complement)
        self._choose_alone = bool(street)  # the agency's street, if it is the only one the filter finds
        self._saving = False

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="address-form", can_focus=False):
            yield Label(plain(f"Adresse du foyer {self.household_label}, dans la liste de la ville"),
                        classes="section")
            yield Static(plain(f"Selon la source ({self.source}) : {self.agency_text}"), id="agency-address")
            yield from address_widgets()
        yield StatusLine(id="status")

    def on_mount(self) -> None:
        street, number, suffix, complement = self.prefill
        self.query_one("#street-filter", Input).value = street
        self.query_one("#number", Input).value = "" if number is None else str(number)
        if suffix in SUFFIXES:
            self.query_one("#suffix", Select).value = suffix
        self.query_one("#complement", Input).value = complement or ""
        self.say("Chargement de la liste des rues…")
        self.watch(self.app, "ready", self._app_ready, init=True)

    def _app_ready(self, ready: bool) -> None:
        if ready and not self.streets:
            self.load_streets()

    def _streets_loaded(self, streets) -> None:
        super()._streets_loaded(streets)
        options = self.query_one("#streets", OptionList)
        if self._choose_alone and options.option_count == 1:
            self._choose(int(options.get_option_at_index(0).id))
        elif self._choose_alone:
            self.say("Rue de la source introuvable telle quelle : tapez une partie de son nom, puis Entrée.")
        self._choose_alone = False

    # -- saving --------------------------------------------------------------------------

    def action_save(self) -> None:
        if self._saving:
            return
        if self.street_id is None:
            self._show_errors([FieldError("street", "Choisissez la rue dans la liste (tapez une partie de son nom).")])
            return
        address, error = self.address_values()
        if error:
            self._show_errors([error])
            return
        number, suffix, complement, ban_id = address
        self._saving = True
        self.say("Enregistrement de l'adresse…")
        self.save(self.street_id, number, suffix, complement, ban_id)

    @service_worker(group="address-save", failed="Adresse non modifiée : {reason}", then="_failed")
    def save(self, street_id, number, suffix, complement, ban_id) -> None:
        written = self.app.counter.set_address(self.household_id, street_id=street_id, number=number,
                                               suffix=suffix, complement=complement, ban_id=ban_id)
        if written.errors:
            self.app.call_from_thread(self._show_errors, [error for _, error in written.errors])
        else:
            self.app.call_from_thread(self.dismiss, True)

    def _failed(self, _exc: Exception) -> None:
        self._saving = False

    def _show_errors(self, errors: list[FieldError]) -> None:
        self._saving = False
        for error in errors:
            field = error.field if error.field in ADDRESS_FIELDS else "street"
            self.query_one(f"#error-{field}", FieldErrorLabel).show(error.message)
        self.say("Adresse non enregistrée : corrigez le point signalé.", error=True)
        first = errors[0].field if errors and errors[0].field in ADDRESS_FIELDS else "street"
        self.query_one(FIELD_WIDGETS[first]).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)
