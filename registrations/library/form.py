"""The visit's library card form (Textual; the terminal's side only)."""

from __future__ import annotations

from datetime import date

from textual.app import ComposeResult
from textual.widgets import Checkbox, Select, Static

from counter.domain.visit_summary import suggest_library
from counter.domain.visits import FieldError
from registrations.library.kind import LibraryRequest
from screens.forms import FormScreen, MarkedCheckbox
from screens.widgets import Dropdown, choices, plain


def open_form(env, request: LibraryRequest | None, values: dict | None) -> LibraryForm:
    rules, facts, today = env.rules, env.facts, env.today
    categories = [(c.code, c.label, c.price_text) for c in rules.library.categories]
    return LibraryForm(env.context, today, categories,
                       lambda member, student: suggest_library(member, student, facts, rules, today),
                       request, values, env.check, env.on_edit)


class LibraryForm(FormScreen[LibraryRequest]):
    TITLE_TEXT = "Carte de bibliothèque (création ou renouvellement)"
    FIELD_WIDGETS = {"person_id": "person", "category": "category", "guarantor_id": "guarantor"}

    def __init__(self, context, today: date, categories, suggest, request: LibraryRequest | None = None,
                 values: dict | None = None, check=None, on_edit=None) -> None:
        super().__init__(on_edit)
        self.context = context
        self.today = today
        self.categories = categories  # [(code, label, price text)]
        self.suggest = suggest  # (member, student: bool) -> (category code, reason in French)
        self.request = request
        self.values = values
        self.check = check
        self._suggested_for = None  # (reader, student): the category follows a change of either

    def fields(self) -> ComposeResult:
        request = self.request
        members = [(f"{m.label} — {m.birth.age_text(self.today)}", m.person_id) for m in self.context.members]
        adults = [(m.label, m.person_id) for m in self.context.members if m.birth.age_on(self.today) >= 18]
        yield self.label("Lecteur (membre du foyer)")
        yield Dropdown(choices(members), prompt="Choisir le membre du foyer", id="person", compact=True,
                       value=request.person_id if request else Select.NULL)
        yield self.error("person_id")
        yield MarkedCheckbox("Étudiant(e) (carte d'étudiant présentée)", False, id="student")
        yield Static(id="suggestion", classes="info", markup=False)
        yield self.label("Catégorie de lecteur")
        yield Dropdown(choices((f"{label} — {price}", code) for code, label, price in self.categories),
                       prompt="Choisir la catégorie", id="category", compact=True,
                       value=request.category if request else Select.NULL)
        yield self.error("category")
        yield self.label("Adulte responsable (pour un mineur)")
        yield Dropdown(choices(adults), prompt="—", id="guarantor", compact=True,
                       value=request.guarantor_id if request and request.guarantor_id else Select.NULL)
        yield self.error("guarantor_id")
        yield MarkedCheckbox("Renouvellement d'une carte existante", request.renew if request else False, id="renew")

    def on_mount(self) -> None:
        super().on_mount()
        self.restore(self.values)
        self._suggest(keep=bool(self.values) or self.request is not None)

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "person":
            self._suggest()
        super().on_select_changed()

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        if event.checkbox.id == "student":
            self._suggest()
        super().on_checkbox_changed()

    def _suggest(self, keep: bool = False) -> None:
        """The category the rules propose for the chosen reader (kept when reopening)."""
        raw = self.query_one("#person", Select).value
        member = None if raw is Select.NULL else self.context.member(raw)
        student = self.query_one("#student", Checkbox).value
        if (raw, student) == self._suggested_for:
            return  # a change event of a value set here
        self._suggested_for = (raw, student)
        if member is None:
            self.query_one("#suggestion", Static).update("")
            return
        code, reason = self.suggest(member, student)
        self.query_one("#suggestion", Static).update(plain(f"Catégorie proposée : {code} ({reason})"))
        category = self.query_one("#category", Select)
        if not keep or category.value is Select.NULL:
            category.value = code

    def collect(self) -> tuple[LibraryRequest | None, list[FieldError]]:
        person = self.query_one("#person", Select).value
        category = self.query_one("#category", Select).value
        errors = []
        if person is Select.NULL:
            errors.append(FieldError("person_id", "Choisissez le membre du foyer."))
        if category is Select.NULL:
            errors.append(FieldError("category", "Choisissez la catégorie de lecteur."))
        if errors:
            return None, errors
        guarantor = self.query_one("#guarantor", Select).value
        return LibraryRequest(person_id=person, category=category,
                              guarantor_id=None if guarantor is Select.NULL else guarantor,
                              renew=self.query_one("#renew", Checkbox).value), []
