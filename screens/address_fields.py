"""The address of a household in the town: the street from the town's list, then the
number from the street's addresses (the BAN import), or typed where the town has
none. Shared by the new-family form and the household's address correction;
the rules are in counter.domain (identity_checks, addresses), the service checks again.
"""

from __future__ import annotations

from typing import TypeVar

from textual import on
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from counter.domain.addresses import exact_number, match_numbers, number_label, suffix_rank
from counter.domain.identity_checks import SUFFIXES, match_streets, street_number
from counter.domain.visits import FieldError
from screens.base import CounterScreen, service_worker
from screens.forms import FieldErrorLabel
from screens.widgets import Dropdown, SafeInput, plain

ADDRESS_FIELDS = ("street", "number", "suffix", "complement")
# An error's field → the widget that corrects it.
FIELD_WIDGETS = {"street": "#street-filter", "number": "#number", "suffix": "#suffix", "complement": "#complement"}
MSG_NOT_LISTED = "Ce numéro n'est pas dans la liste des adresses de la rue : choisissez-le (↑/↓ puis Entrée)."
ResultType = TypeVar("ResultType")


class StreetFilter(SafeInput):
    """Typing filters the street list; ↑/↓ move in it without leaving the field."""

    BINDINGS = [
        Binding("down", "move(1)", "Rue suivante", show=False),
        Binding("up", "move(-1)", "Rue précédente", show=False),
    ]

    def action_move(self, step: int) -> None:
        streets = self.screen.query_one("#streets", OptionList)
        if streets.option_count:
            current = streets.highlighted if streets.highlighted is not None else -step
            streets.highlighted = max(0, min(streets.option_count - 1, current + step))


class NumberFilter(SafeInput):
    """The number: typed free, or — when the street has the town's addresses (BAN) —
    typing filters them and ↑/↓ move in their list without leaving the field."""

    BINDINGS = [
        Binding("down", "move(1)", "Numéro suivant", show=False),
        Binding("up", "move(-1)", "Numéro précédent", show=False),
    ]

    def action_move(self, step: int) -> None:
        numbers = self.screen.query_one("#numbers", OptionList)
        if numbers.display and numbers.option_count:
            current = numbers.highlighted if numbers.highlighted is not None else -step
            numbers.highlighted = max(0, min(numbers.option_count - 1, current + step))


TYPED_NUMBER_LABEL = "N°, indice (bis, ter), complément (bâtiment, appartement)"
LISTED_NUMBER_LABEL = "N° : tapez-le, ↑/↓ dans la liste ci-dessus, Entrée ; complément (bât., appt)"


def address_widgets():
    """The address fields, in order; the screen puts them in its form."""
    yield Label("Rue : tapez une partie du nom, ↑/↓ pour choisir, Entrée pour valider",
                classes="field-label", markup=False)
    yield StreetFilter(id="street-filter", compact=True, placeholder="ex. : lilas, pasteur")
    yield OptionList(id="streets", compact=True)
    yield OptionList(id="numbers", compact=True)  # in the street list's place while choosing the number
    yield Static("Aucune rue choisie.", id="street-chosen", markup=False)
    yield FieldErrorLabel(id="error-street")
    yield Label(TYPED_NUMBER_LABEL, id="number-label", classes="field-label", markup=False)
    with Horizontal(classes="row"):
        yield NumberFilter(id="number", compact=True, placeholder="n°", max_length=4, restrict=r"\d*")
        yield Dropdown([(s, s) for s in SUFFIXES], prompt="—", id="suffix", compact=True)
        yield SafeInput(id="complement", compact=True, max_length=120, placeholder="ex. : bât. B, appt 12")
    for field in ("number", "suffix", "complement"):
        yield FieldErrorLabel(id=f"error-{field}")


class AddressScreen(CounterScreen[ResultType]):
    """A screen with the address fields (``address_widgets``); subclasses say things with ``say``."""

    # The address fields' look, shared by every screen that has them (type selectors
    # match the subclasses).
    DEFAULT_CSS = """
    AddressScreen .section { text-style: bold; margin-top: 1; }
    AddressScreen .field-label { color: $text-muted; }
    AddressScreen #streets { height: 5; border: none; }
    AddressScreen #numbers { height: 5; border: none; display: none; }
    AddressScreen #street-chosen { height: 1; }
    AddressScreen .row { height: 1; }
    AddressScreen #number { width: 8; }
    AddressScreen #suffix { width: 14; margin: 0 1; }
    AddressScreen #complement { width: 1fr; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.streets: list[tuple[int, str]] = []
        self.street_id: int | None = None
        self.numbers: list = []  # the chosen street's addresses (TownNumber); none: typed numbers
        self.ban_id: str | None = None  # the address picked from them

    def address_values(self) -> tuple[tuple | None, FieldError | None]:
        """(number, suffix, complement, ban_id) as the fields say, or the error that keeps them from it."""
        complement = self.query_one("#complement", Input).value
        typed = self.query_one("#number", Input).value.strip()
        if self.numbers and (self.ban_id or typed):  # the street's addresses are the town's list: one of them
            picked = next((n for n in self.numbers if n.ban_id == self.ban_id), None)
            if picked is None:
                return None, FieldError("number", MSG_NOT_LISTED)
            return (picked.number, picked.suffix, complement, picked.ban_id), None
        number, error = street_number(typed)
        if error:
            return None, error
        suffix = self.query_one("#suffix", Select).value
        return (number, None if suffix is Select.NULL else suffix, complement, None), None

    # -- the street ----------------------------------------------------------------------

    # Loaded again when the service is back.
    @service_worker(group="family-streets", failed="Liste des rues indisponible : {reason}")
    def load_streets(self) -> None:
        streets = self.app.counter.streets()
        self.app.call_from_thread(self._streets_loaded, streets)

    def _streets_loaded(self, streets) -> None:
        self.streets = [tuple(street) for street in streets]
        self._filter(self.query_one("#street-filter", Input).value)
        self.say(f"{len(streets)} rues. Tapez une partie du nom de la rue, puis Entrée.")

    def _filter(self, typed: str) -> None:
        found = match_streets(self.streets, typed)
        options = self.query_one("#streets", OptionList)
        options.set_options([Option(plain(name), id=str(street_id)) for street_id, name in found])
        options.highlighted = 0 if found else None

    @on(Input.Changed, "#street-filter")
    def _typed_street(self, event: Input.Changed) -> None:
        self._filter(event.value)
        # Editing the name after a choice undoes it: what is shown is what is saved.
        if self.street_id is not None and event.value != self._street_name(self.street_id):
            self._choose(None)

    @on(Input.Submitted, "#street-filter")
    def _submitted_street(self) -> None:
        option = self.query_one("#streets", OptionList).highlighted_option
        if option is None and not self.streets:  # not "no such street" while the list is still coming
            self.say("La liste des rues se charge encore : elle s'affichera sous le nom tapé, "
                     "puis Entrée.")
            return
        if option is None:
            self.say("Aucune rue de la ville ne correspond : vérifiez l'orthographe.", error=True)
            return
        self._choose(int(option.id))

    @on(OptionList.OptionSelected, "#streets")
    def _selected_street(self, event: OptionList.OptionSelected) -> None:
        self._choose(int(event.option.id))

    def _street_name(self, street_id: int | None) -> str:
        return next((name for i, name in self.streets if i == street_id), "")

    def _choose(self, street_id: int | None) -> None:
        self.street_id = street_id
        self._show_numbers([])
        chosen = self.query_one("#street-chosen", Static)
        if street_id is None:
            chosen.update("Aucune rue choisie.")
            return
        self.load_numbers(street_id)
        name = self._street_name(street_id)
        chosen.update(plain(f"Rue choisie : {name}"))
        self.query_one("#error-street", FieldErrorLabel).show(None)
        street_filter = self.query_one("#street-filter", Input)
        if street_filter.value != name:
            street_filter.value = name
        self.query_one("#number", Input).focus()
        self.say("Rue choisie. Numéro, indice, complément, puis F2 pour ajouter les membres.")

    # -- the number: from the street's addresses (BAN), else typed --------------------------

    # Unanswered: the number is typed; the service checks it again.
    @service_worker(group="family-numbers", failed="", unreachable=None)
    def load_numbers(self, street_id: int) -> None:
        numbers = self.app.counter.street_numbers(street_id)
        self.app.call_from_thread(self._numbers_loaded, street_id, list(numbers))

    def _numbers_loaded(self, street_id: int, numbers: list) -> None:
        if street_id != self.street_id:  # an answer for a street since left is dropped
            return
        number = self.query_one("#number", Input)
        if numbers and number.value and not match_numbers(numbers, number.value):
            with self.prevent(Input.Changed):  # typed for another street: not one of this one's
                number.value = ""
        self._show_numbers(numbers)

    def _show_numbers(self, numbers: list) -> None:
        """List mode when the street has the town's addresses, typed mode otherwise."""
        self.numbers = numbers
        listed = bool(numbers)
        number = self.query_one("#number", Input)
        number.restrict, number.max_length = (r"[0-9A-Za-z ]*", 12) if listed else (r"\d*", 4)
        self.query_one("#number-label", Label).update(LISTED_NUMBER_LABEL if listed else TYPED_NUMBER_LABEL)
        extra = sorted({n.suffix for n in numbers if n.suffix and n.suffix not in SUFFIXES}, key=suffix_rank)
        suffix = self.query_one("#suffix", Select)
        kept = suffix.value
        suffix.set_options([(s, s) for s in (*SUFFIXES, *extra)])
        if kept is not Select.NULL and kept in (*SUFFIXES, *extra):
            suffix.value = kept
        self._show_number_list()
        self._filter_numbers()
        if listed and len(numbers) == 1 and numbers[0].number is None:
            self.say("Lieu-dit sans numéro : complément éventuel, puis F2 pour ajouter les membres.")
        elif listed:
            self.say(f"{len(numbers)} adresses dans cette rue : tapez le numéro, ↑/↓ puis Entrée pour le choisir.")

    def _show_number_list(self) -> None:
        """While the number is being chosen, its list takes the street list's place:
        at 80x24 the members stay in view."""
        numbers = self.query_one("#numbers", OptionList)
        choosing = bool(self.numbers) and self.focused in (self.query_one("#number", Input), numbers)
        numbers.display = choosing
        self.query_one("#streets", OptionList).display = not choosing

    def on_descendant_focus(self, _event) -> None:
        self._show_number_list()

    def on_descendant_blur(self, _event) -> None:
        self.call_after_refresh(self._show_number_list)  # once the focus has landed

    def _typed_pick(self):
        """The street's address that the number and suffix fields name, if any."""
        typed = self.query_one("#number", Input).value.strip()
        if typed and not typed.isdecimal():  # "12b", "12 bis": the list's label
            wanted = "".join(typed.lower().split())
            return next((n for n in self.numbers if "".join(n.label.split()) == wanted), None)
        suffix = self.query_one("#suffix", Select).value
        return exact_number(self.numbers, int(typed) if typed else None,
                            None if suffix is Select.NULL else suffix)

    def _filter_numbers(self) -> None:
        options = self.query_one("#numbers", OptionList)
        if not self.numbers:
            options.clear_options()
            self.ban_id = None
            return
        found = match_numbers(self.numbers, self.query_one("#number", Input).value)
        options.set_options([Option(plain(n.label), id=n.ban_id) for n in found])
        picked = self._typed_pick()
        self.ban_id = picked.ban_id if picked else None
        at = next((i for i, n in enumerate(found) if picked and n.ban_id == picked.ban_id), 0)
        options.highlighted = at if found else None
        if self.street_id is not None:
            street = self._street_name(self.street_id)
            text = f"Adresse choisie : {number_label(picked.number, picked.suffix)} {street}" if picked and \
                picked.number is not None else f"Rue choisie : {street}"
            self.query_one("#street-chosen", Static).update(plain(text))

    @on(Input.Submitted, "#number")
    def _submitted_number(self) -> None:
        if not self.numbers:
            return
        option = self.query_one("#numbers", OptionList).highlighted_option
        if option is None:
            self.say("Aucune adresse de cette rue ne commence ainsi : vérifiez le numéro.", error=True)
            return
        self._pick(option.id)

    @on(OptionList.OptionSelected, "#numbers")
    def _selected_number(self, event: OptionList.OptionSelected) -> None:
        self._pick(event.option.id)

    def _pick(self, ban_id: str) -> None:
        picked = next(n for n in self.numbers if n.ban_id == ban_id)
        with self.prevent(Input.Changed, Select.Changed):
            self.query_one("#number", Input).value = "" if picked.number is None else str(picked.number)
            self.query_one("#suffix", Select).value = picked.suffix or Select.NULL
        self._filter_numbers()
        for field in ("number", "suffix"):
            self.query_one(f"#error-{field}", FieldErrorLabel).show(None)
        self.query_one("#complement", Input).focus()
        self.say(f"Adresse choisie : {picked.label}. Complément éventuel, puis F2 pour ajouter les membres.")

    @on(Input.Changed, "#number, #complement")
    @on(Select.Changed, "#suffix")
    def _corrected(self, event) -> None:
        # An address error goes as soon as its field is edited; Ctrl+S checks again.
        self.query_one(f"#error-{event.control.id}", FieldErrorLabel).show(None)
        if event.control.id == "number":
            self.query_one("#error-suffix", FieldErrorLabel).show(None)
        if event.control.id in ("number", "suffix"):
            self._filter_numbers()  # what is shown is what is picked
