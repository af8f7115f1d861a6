"""What a visit's forms offer (the household's members, the schools, the crèches)
and the rules a draft is checked against with it.

Plain data, no database: the service builds the context and checks each draft
it is sent; a form runs the same check as the agent types, so a field's error
shows at once, even while the service is away.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from counter.domain.dates import BirthDate
from counter.domain.people import AddressView
from counter.domain.schooling import school_level
from counter.domain.kinds import kind_of
from counter.domain.visits import FieldError, VisitDraft, duplicates


@dataclass(frozen=True)
class Member:
    person_id: int
    role: str
    birth_name: str
    usage_name: str | None
    given_names: tuple[str, ...]
    sex: str
    birth: BirthDate

    @property
    def label(self) -> str:
        name = self.usage_name or self.birth_name
        first = self.given_names[0] if self.given_names else ""
        return f"{first} {name}".strip()


@dataclass(frozen=True)
class Option:
    id: int
    name: str
    code: str = ""  # a school's UAI, a crèche's code in the family system
    kind: str = ""  # maternelle | elementaire | primaire


@dataclass(frozen=True)
class VisitContext:
    """What the forms need to offer: members, the sector's schools, the crèches."""

    visit_id: int
    household_id: int | None
    household: str
    address: AddressView | None
    members: tuple[Member, ...]
    separated_parents: bool  # a parent of the household has an address of their own
    school_year: int  # the coming school year: the default of a school registration
    sector_schools: dict[str, int] = field(default_factory=dict)  # "maternelle"/"elementaire" → school id
    schools: tuple[Option, ...] = ()
    creches: tuple[Option, ...] = ()
    existing_school_years: dict[int, set[int]] = field(default_factory=dict)  # person → years registered
    school_years: tuple[int, ...] = ()  # open to registration today, oldest first
    # Places left: (school id, school year, level, capacity − booked); a level
    # without a row takes everyone. (Rows, not a dict: JSON keys are strings.)
    places: tuple[tuple[int, int, str, int], ...] = ()
    # What each kind's service part adds for its form and rules (plain JSON values), by kind id.
    extra: dict[str, Any] = field(default_factory=dict)

    def member(self, person_id: int | None) -> Member | None:
        return next((m for m in self.members if m.person_id == person_id), None)

    def level_of(self, member: Member, school_year: int | None = None) -> str | None:
        return school_level(member.birth, self.school_year if school_year is None else school_year)

    @property
    def lone_parent(self) -> bool:
        """One parent or guardian in the household, none living elsewhere."""
        return sum(m.role in ("parent", "other_guardian") for m in self.members) == 1 and not self.separated_parents

    def separated_default(self) -> bool | None:
        """What the household's data says about separated parents, for the agent
        to confirm: yes when a parent lives elsewhere, no when both live here,
        None for a lone parent (separated, widowed or alone: only the family knows)."""
        if self.separated_parents:
            return True
        return None if self.lone_parent else False

    def places_left(self, school_id: int, school_year: int, level: str) -> int | None:
        return next((left for school, year, at, left in self.places
                     if (school, year, at) == (school_id, school_year, level)), None)

    def sector_school_for(self, level: str) -> int | None:
        kind = "maternelle" if level in ("TPS", "PS", "MS", "GS") else "elementaire"
        return self.sector_schools.get(kind)

    def children(self, today: date) -> list[Member]:
        return [m for m in self.members if m.birth.age_on(today) < 18]


def check_draft(context: VisitContext, draft: VisitDraft, library_codes: set[str],
                today: date) -> list[tuple[int, FieldError]]:
    """Every problem of the draft, with the index of the request it belongs to."""
    found: list[tuple[int, FieldError]] = []
    for index, request in enumerate(draft.requests):
        found += [(index, e) for e in kind_of(request).check(request, context, today, library_codes)]
    for error in duplicates(draft.requests):
        found.append((len(draft.requests) - 1, error))
    return found
