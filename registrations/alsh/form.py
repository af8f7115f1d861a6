"""The visit's accueil de loisirs form (Textual; the terminal's side only): the
child, then a box per week of the coming holidays, each saying its days and,
for the chosen child's age group, the places left."""

from __future__ import annotations

from datetime import date

from textual.app import ComposeResult
from textual.widgets import Checkbox, Select, Static

from counter.domain.tariffs import euros
from counter.domain.visits import FieldError
from registrations.alsh.calendar import Week, bookable_weeks, shipped_calendar
from registrations.alsh.kind import extra_of
from registrations.alsh.rules import DEFAULT_BRACKETS, AgeRefused, AlshRequest, age_group, daily_bracket
from screens.forms import FormScreen, MarkedCheckbox
from screens.widgets import Dropdown, choices, lines_of


def open_form(env, request: AlshRequest | None, values: dict | None) -> AlshForm:
    extra = extra_of(env.context)
    period = shipped_calendar().period(extra.period) if extra.period else None
    weeks = bookable_weeks(period, env.today) if period else ()
    qf = env.facts.qf_value if env.facts is not None else None
    daily = euros(daily_bracket(qf, DEFAULT_BRACKETS).daily)
    price = (f"{daily} par jour (QF {qf}, CAF)" if qf is not None
             else f"{daily} par jour (tarif plein : pas de QF de la CAF)")
    heading = (f"{period.title} (zone {period.zone}) — {price}" if period
               else "Pas de vacances scolaires à venir dans le calendrier : aucune semaine à proposer.")
    return AlshForm(env.context, env.today, extra.period or "", weeks, extra.places, heading,
                    request, values, env.check, env.on_edit)


class AlshForm(FormScreen[AlshRequest]):
    TITLE_TEXT = "Accueil de loisirs (vacances scolaires, 3 à 11 ans)"
    FIELD_WIDGETS = {"person_id": "person", "weeks": "weeks-box", "period": "person"}

    def __init__(self, context, today: date, period: str, weeks: tuple[Week, ...], places: dict, heading: str,
                 request: AlshRequest | None = None, values: dict | None = None, check=None, on_edit=None) -> None:
        super().__init__(on_edit)
        self.context = context
        self.today = today
        self.period = period
        self.weeks = weeks
        self.places = places  # Monday (ISO) → group → places left
        self.heading = heading
        self.request = request
        self.values = values
        self.check = check

    def fields(self) -> ComposeResult:
        request = self.request
        members = [(f"{m.label} — {m.birth.age_text(self.today)}", m.person_id) for m in self.context.members
                    if m.birth.age_on(self.today) < 18]
        yield Static(lines_of([self.heading]), classes="info")
        yield self.label("Enfant (3 à 11 ans)")
        yield Dropdown(choices(members), prompt="Choisir l'enfant", id="person", compact=True,
                       value=request.person_id if request else Select.NULL)
        yield self.error("person_id")
        yield self.label("Semaines")
        chosen = set(request.weeks) if request else set()
        for week in self.weeks:
            yield MarkedCheckbox(week.short_label,
                                 week.monday.isoformat() in chosen, id=f"week-{week.monday:%Y%m%d}")
        yield Static(id="weeks-box", classes="info", markup=False)
        yield self.error("weeks")

    def on_mount(self) -> None:
        super().on_mount()
        self.restore(self.values)
        self._places()

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "person":
            self._places()
        super().on_select_changed()

    def _places(self) -> None:
        """The places left each week in the chosen child's group (as the counter knows them)."""
        raw = self.query_one("#person", Select).value
        member = None if raw is Select.NULL else self.context.member(raw)
        if member is None or not self.weeks:
            self.query_one("#weeks-box", Static).update("")
            return
        said = []
        for week in self.weeks:
            try:
                group = age_group(member.birth, week.monday)
            except AgeRefused as refused:
                self.query_one("#weeks-box", Static).update(lines_of([str(refused)]))
                return
            left = self.places.get(week.monday.isoformat(), {}).get(group.value)
            text = "?" if left is None else ("complet : liste d'attente" if left <= 0 else f"{left} places")
            said.append(f"{week.monday:%d/%m} : {text}")
        self.query_one("#weeks-box", Static).update(lines_of([f"Places ({group.label}) :", *said]))

    def collect(self) -> tuple[AlshRequest | None, list[FieldError]]:
        person = self.query_one("#person", Select).value
        if person is Select.NULL:
            return None, [FieldError("person_id", "Choisissez l'enfant.")]
        weeks = tuple(w.monday.isoformat() for w in self.weeks
                      if self.query_one(f"#week-{w.monday:%Y%m%d}", Checkbox).value)
        return AlshRequest(person_id=person, period=self.period, weeks=weeks), []
