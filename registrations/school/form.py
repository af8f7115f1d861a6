"""The visit's school registration form (Textual; the terminal's side only)."""

from __future__ import annotations

from datetime import date

from textual.app import ComposeResult
from textual.widgets import Select, Static

from counter.domain.schooling import current_school_year, school_year_label
from counter.domain.visits import WEEKDAYS, FieldError
from registrations.school.kind import SCHOOL_DAYS, SchoolRequest
from screens.forms import FormScreen
from screens.visit_forms import NO, YES, keep_options
from screens.widgets import Dropdown, SafeInput, choices, lines_of


def open_form(env, request: SchoolRequest | None, values: dict | None) -> SchoolForm:
    return SchoolForm(env.context, request, values, env.check, env.on_edit, today=env.today)


class SchoolForm(FormScreen[SchoolRequest]):
    TITLE_TEXT = "Inscription scolaire"
    AUTO_FOCUS = "#person"  # the year is proposed; the child is what the agent chooses first
    FIELD_WIDGETS = {
        "school_year": "year", "person_id": "person", "level": "person", "school_id": "school",
        "derogation_reason": "reason", "separated_parents": "separated",
        "canteen_days": "canteen-lun", "after_school_days": "after-lun",
    }

    def __init__(self, context, request: SchoolRequest | None = None, values: dict | None = None,
                 check=None, on_edit=None, today: date | None = None) -> None:
        super().__init__(on_edit)
        self.context = context
        self.request = request
        self.values = values
        self.check = check  # (SchoolRequest) -> list[FieldError], the visit service's rules
        self.today = today

    def _year_options(self) -> list[tuple[str, int]]:
        years = self.context.school_years or (self.context.school_year,)
        current = current_school_year(self.today) if self.today else None
        return [(f"{school_year_label(y)}" + (" (année en cours)" if y == current else " (rentrée prochaine)"), y)
                for y in years]

    def _children(self, year: int) -> list[tuple[str, int]]:
        return [(f"{m.label} — {level}", m.person_id) for m in self.context.members
                if (level := self.context.level_of(m, year)) is not None]

    def fields(self) -> ComposeResult:
        request = self.request
        year = request.school_year if request else self.context.school_year
        years = self._year_options()
        yield self.label("Année scolaire")
        yield Dropdown(years, id="year", compact=True, allow_blank=False,
                       value=year if any(y == year for _, y in years) else years[-1][1])
        yield self.error("school_year")
        yield self.label("Enfant")
        yield Dropdown(choices(self._children(year)), prompt="Choisir l'enfant", id="person", compact=True)
        yield self.error("person_id")
        yield Static(id="level-info", classes="info", markup=False)
        yield self.error("level")
        yield self.label("École (celle du secteur est proposée)")
        yield Dropdown([], prompt="Choisir l'école", id="school", compact=True)
        yield self.error("school_id")
        yield self.label("Motif de dérogation (si une autre école que celle du secteur)")
        yield SafeInput(request.derogation_reason if request else "", id="reason", compact=True,
                    placeholder="ex. : rapprochement de fratrie, garde par un grand-parent")
        yield self.error("derogation_reason")
        yield self.label("Parents séparés ?")
        default = self.context.separated_default() if request is None or request.separated_parents is None \
            else request.separated_parents
        yield Dropdown([("Oui : jugement fixant la résidence de l'enfant à fournir", YES), ("Non", NO)],
                       prompt="À demander à la famille", id="separated", compact=True,
                       value=Select.NULL if default is None else (YES if default else NO))
        yield self.error("separated_parents")
        yield self.label("Cantine")
        yield self.days("canteen", SCHOOL_DAYS, request.canteen_days if request else ())
        yield self.error("canteen_days")
        yield self.label("Périscolaire (accueil du matin et du soir, mercredi)")
        yield self.days("after", WEEKDAYS, request.after_school_days if request else ())
        yield self.error("after_school_days")

    def on_mount(self) -> None:
        super().on_mount()
        values = dict(self.values or {})
        request = self.request
        # In order: the year decides the children offered, the child the schools.
        if "year" in values:
            self.restore({"year": values.pop("year")})
        person = values.pop("person", None) if "person" in values else (request.person_id if request else None)
        school = values.pop("school", None) if "school" in values else (request.school_id if request else None)
        self._refresh(person=Select.NULL if person is None else person,
                      school=Select.NULL if school is None else school)
        self.restore(values)

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id in ("year", "person"):
            self._refresh()
        elif event.select.id == "school":
            self._describe()
        super().on_select_changed()

    def _year(self) -> int:
        return self.query_one("#year", Select).value

    def _child(self):
        raw = self.query_one("#person", Select).value
        return None if raw is Select.NULL else self.context.member(raw)

    def _refresh(self, person=Select.NULL, school=Select.NULL) -> None:
        """The children of the chosen year, the schools of the chosen child's level."""
        keep_options(self.query_one("#person", Select), self._children(self._year()), person)
        child = self._child()
        select = self.query_one("#school", Select)
        if child is None:
            select.set_options([])
            self._describe()
            return
        level = self.context.level_of(child, self._year())
        sector = self.context.sector_school_for(level)
        kind = "maternelle" if level in ("TPS", "PS", "MS", "GS") else "elementaire"
        options = [(f"{s.name}{' (secteur)' if s.id == sector else ''}", s.id)
                   for s in self.context.schools if s.kind in (kind, "primaire")]
        keep_options(select, options, school)
        if select.value is Select.NULL and sector is not None:
            select.value = sector
        self._describe()

    def _describe(self) -> None:
        info = self.query_one("#level-info", Static)
        child = self._child()
        if child is None:
            info.update("")
            return
        year = self._year()
        level = self.context.level_of(child, year)
        sector = self.context.sector_school_for(level)
        where = next((s.name for s in self.context.schools if s.id == sector), "aucune (adresse hors secteur)")
        born = "née" if child.sex == "F" else "né"
        lines = [f"Niveau en {school_year_label(year)} ({born} le {child.birth.display()}) : {level}",
                 f"École du secteur : {where}"]
        school = self.query_one("#school", Select).value
        if school is not Select.NULL:
            left = self.context.places_left(school, year, level)
            if left is not None:
                lines.append(f"Places restantes en {level} : {left}" if left else
                             f"Plus de place en {level} : l'inscription ira en liste d'attente")
        info.update(lines_of(lines))

    def collect(self) -> tuple[SchoolRequest | None, list[FieldError]]:
        errors = []
        child = self._child()
        if child is None:
            errors.append(FieldError("person_id", "Choisissez l'enfant."))
        school = self.query_one("#school", Select).value
        if child is not None and school is Select.NULL:
            errors.append(FieldError("school_id", "Choisissez l'école."))
        separated = self.query_one("#separated", Select).value
        if errors:
            return None, errors
        year = self._year()
        level = self.context.level_of(child, year)
        return SchoolRequest(
            person_id=child.person_id, school_year=year, level=level, school_id=school,
            sector_school_id=self.context.sector_school_for(level), derogation_reason=self.value("#reason"),
            canteen_days=self.chosen_days("canteen", SCHOOL_DAYS),
            after_school_days=self.chosen_days("after", WEEKDAYS),
            separated_parents=None if separated is Select.NULL else separated == YES,
        ), []
