"""The visit's crèche application form (Textual; the terminal's side only)."""

from __future__ import annotations

from datetime import date

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Checkbox, Select

from counter.domain.dates import parse_french_date
from counter.domain.schooling import CRECHE_MAX_YEARS_DISABILITY, creche_leaving_age
from counter.domain.visits import FieldError
from registrations.creche.kind import CrecheRequest
from screens.forms import FormScreen, MarkedCheckbox
from screens.visit_forms import as_float, as_int, keep_options, shown_date
from screens.widgets import Dropdown, SafeInput, choices

UNBORN = -1  # the "expected birth" choice


def open_form(env, request: CrecheRequest | None, values: dict | None) -> CrecheForm:
    return CrecheForm(env.context, env.today, request, values, env.check, env.on_edit,
                      resources_known=env.facts.eaje is not None)


class CrecheForm(FormScreen[CrecheRequest]):
    TITLE_TEXT = "Demande de place en crèche"
    FIELD_WIDGETS = {
        "person_id": "person", "due_date": "due", "start_date": "start", "days_per_week": "days",
        "hours_per_week": "hours", "creche_ids": "choice1", "declared_annual_resources": "resources",
        "disability": "disability",
    }

    def __init__(self, context, today: date, request: CrecheRequest | None = None, values: dict | None = None,
                 check=None, on_edit=None, resources_known: bool = False) -> None:
        super().__init__(on_edit)
        self.context = context
        self.today = today
        self.request = request
        self.values = values
        self.check = check
        self.resources_known = resources_known

    def _children(self, disability: bool) -> list[tuple[str, int]]:
        # Under 3 (or 6 with a disability) today: the rules check the start date.
        limit = creche_leaving_age(disability)
        children = [(f"{m.label} — {'née' if m.sex == 'F' else 'né'} le {m.birth.display()}", m.person_id)
                    for m in self.context.members
                    if m.birth.earliest() <= self.today and m.birth.age_on(self.today) < limit]
        return [*children, ("Enfant à naître", UNBORN)]

    def fields(self) -> ComposeResult:
        request = self.request
        disability = bool(request and request.disability)
        current = Select.NULL if request is None else (request.person_id if request.person_id else UNBORN)
        yield self.label("Enfant")
        yield Dropdown(choices(self._children(disability)), prompt="Choisir l'enfant", id="person", compact=True,
                       value=current)
        yield self.error("person_id")
        yield MarkedCheckbox(f"En situation de handicap (AEEH, MDPH) : accueil jusqu'à {CRECHE_MAX_YEARS_DISABILITY} ans",
                             disability, id="disability")
        yield self.label("Naissance prévue le (enfant à naître)")
        yield SafeInput(shown_date(request.due_date) if request else "", id="due", compact=True, placeholder="jj/mm/aaaa")
        yield self.error("due_date")
        yield self.label("Entrée souhaitée le")
        yield SafeInput(shown_date(request.start_date) if request else "", id="start", compact=True, placeholder="jj/mm/aaaa")
        yield self.error("start_date")
        yield self.label("Jours par semaine, heures par semaine")
        with Horizontal(classes="pair"):
            yield SafeInput(str(request.days_per_week) if request else "", id="days", compact=True,
                        placeholder="jours (1 à 5)", type="integer", classes="first")
            yield SafeInput(f"{request.hours_per_week:g}" if request else "", id="hours", compact=True,
                        placeholder="heures", type="number")
        yield self.error("days_per_week")
        yield self.error("hours_per_week")
        options = [(c.name, c.id) for c in self.context.creches]
        chosen = list(request.creche_ids) if request else []
        yield self.label("Crèches par ordre de préférence (2e et 3e choix facultatifs)")
        for rank in range(3):
            yield Dropdown(choices(options), prompt=f"{rank + 1}{'er' if rank == 0 else 'e'} choix", id=f"choice{rank + 1}",
                           compact=True, value=chosen[rank] if rank < len(chosen) else Select.NULL)
        yield self.error("creche_ids")
        if not self.resources_known:
            yield self.label("Ressources annuelles déclarées (€), faute de données de la CAF")
            yield SafeInput(str(request.declared_annual_resources or "") if request else "", id="resources", compact=True,
                        type="integer", placeholder="ex. : 32000")
            yield self.error("declared_annual_resources")

    def on_mount(self) -> None:
        super().on_mount()
        values = dict(self.values or {})
        # The checkbox decides which children are offered: restore it first.
        if "disability" in values:
            self.restore({"disability": values.pop("disability")})
            self._offer_children(values.get("person", Select.NULL) or Select.NULL)
        self.restore(values)

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        if event.checkbox.id == "disability":
            self._offer_children()
        super().on_checkbox_changed()

    def _offer_children(self, wanted=Select.NULL) -> None:
        keep_options(self.query_one("#person", Select), self._children(self.query_one("#disability", Checkbox).value),
              wanted)

    def collect(self) -> tuple[CrecheRequest | None, list[FieldError]]:
        errors = []
        person = self.query_one("#person", Select).value
        if person is Select.NULL:
            errors.append(FieldError("person_id", "Choisissez l'enfant ou « Enfant à naître »."))
        due = parse_french_date(self.value("#due")) if self.value("#due") else None
        if self.value("#due") and due is None:
            errors.append(FieldError("due_date", "Date invalide (jj/mm/aaaa)."))
        start = parse_french_date(self.value("#start"))
        if start is None:
            errors.append(FieldError("start_date", "Date invalide (jj/mm/aaaa)."))
        days = as_int(self.value("#days"))
        if days is None:
            errors.append(FieldError("days_per_week", "Un nombre de jours, de 1 à 5."))
        hours = as_float(self.value("#hours"))
        if hours is None:
            errors.append(FieldError("hours_per_week", "Un nombre d'heures."))
        resources = None
        if not self.resources_known and self.value("#resources"):
            resources = as_int(self.value("#resources"))
            if resources is None:
                errors.append(FieldError("declared_annual_resources", "Un montant en euros, sans centimes."))
        choices = [self.query_one(f"#choice{i}", Select).value for i in (1, 2, 3)]
        creches = tuple(c for c in choices if c is not Select.NULL)
        if errors:
            return None, errors
        return CrecheRequest(
            creche_ids=creches, start_date=start, days_per_week=days, hours_per_week=hours,
            person_id=None if person == UNBORN else person, due_date=due if person == UNBORN else None,
            declared_annual_resources=resources, disability=self.query_one("#disability", Checkbox).value,
        ), []
