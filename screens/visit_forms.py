"""The three registration forms of a visit: school, crèche, library."""

from __future__ import annotations

from datetime import date

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Checkbox, Select, Static

from counter.domain.dates import parse_french_date
from counter.domain.schooling import (
    CRECHE_MAX_YEARS_DISABILITY,
    creche_leaving_age,
    current_school_year,
    school_year_label,
)
from counter.domain.visits import (
    SCHOOL_DAYS,
    WEEKDAYS,
    CrecheRequest,
    FieldError,
    LibraryRequest,
    SchoolRequest,
)
from screens.forms import FormScreen, MarkedCheckbox
from screens.widgets import Dropdown, SafeInput, choices, lines_of, plain

UNBORN = -1  # the "expected birth" choice of the crèche form
YES, NO = "oui", "non"


def _d(value: date | None) -> str:
    return f"{value:%d/%m/%Y}" if value else ""


def _keep(select: Select, options: list[tuple[str, object]], wanted) -> None:
    """New options, keeping the choice (or ``wanted``) when it is still offered.

    Unchanged options are left alone: setting them again would clear the value
    and announce a change, which would refresh the form again, endlessly.
    """
    current = select.value if wanted is Select.NULL else wanted
    if getattr(select, "offered", None) != options:
        select.offered = options
        select.set_options(choices(options))  # labels are town data: plain text, never markup
    if select.value != current and any(value == current for _, value in options):
        select.value = current


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
        _keep(self.query_one("#person", Select), self._children(self._year()), person)
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
        _keep(select, options, school)
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
        yield SafeInput(_d(request.due_date) if request else "", id="due", compact=True, placeholder="jj/mm/aaaa")
        yield self.error("due_date")
        yield self.label("Entrée souhaitée le")
        yield SafeInput(_d(request.start_date) if request else "", id="start", compact=True, placeholder="jj/mm/aaaa")
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
        _keep(self.query_one("#person", Select), self._children(self.query_one("#disability", Checkbox).value),
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
        days = _int(self.value("#days"))
        if days is None:
            errors.append(FieldError("days_per_week", "Un nombre de jours, de 1 à 5."))
        hours = _float(self.value("#hours"))
        if hours is None:
            errors.append(FieldError("hours_per_week", "Un nombre d'heures."))
        resources = None
        if not self.resources_known and self.value("#resources"):
            resources = _int(self.value("#resources"))
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


def _int(text: str) -> int | None:
    try:
        return int(text.replace(" ", "").replace("\u202f", ""))
    except ValueError:
        return None


def _float(text: str) -> float | None:
    try:
        return float(text.replace(",", ".").replace(" ", ""))
    except ValueError:
        return None
