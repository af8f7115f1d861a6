"""Frozen views of people, addresses and households, as the screens show them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from counter.domain.dates import BirthDate
from counter.domain.schooling import (
    coming_school_year,
    creche_entry_from,
    is_creche_age,
    school_level,
)

ROLE_LABELS = {"parent": "Parent", "child": "Enfant", "other_guardian": "Autre responsable"}
ROLE_ORDER = {"parent": 0, "other_guardian": 1, "child": 2}


@dataclass(frozen=True, slots=True)
class AddressView:
    number: int | None = None
    suffix: str | None = None
    street: str | None = None  # a street of the town
    line: str | None = None  # a street line elsewhere
    complement: str | None = None
    postal_code: str = ""
    city: str = ""

    def street_line(self) -> str:
        if self.street:
            number = " ".join(str(p) for p in (self.number, self.suffix) if p)
            return f"{number} {self.street}".strip()
        return self.line or ""

    def one_line(self) -> str:
        """``12 bis rue des Lilas, 45999 Bellerive-sur-Loire``."""
        parts = [self.street_line(), self.complement, f"{self.postal_code} {self.city}".strip()]
        return ", ".join(p for p in parts if p)

    def short(self) -> str:
        """The street line alone, for a narrow column."""
        return self.street_line() or f"{self.postal_code} {self.city}".strip()


@dataclass(frozen=True, slots=True)
class PersonSummary:
    id: int
    birth_name: str
    usage_name: str | None
    given_names: tuple[str, ...]
    sex: str
    birth: BirthDate
    household_id: int | None = None
    household_size: int = 0
    role: str | None = None
    address: AddressView | None = None

    @property
    def display_name(self) -> str:
        """``MARTIN née DUPONT`` when a usage name differs, else the birth name."""
        if self.usage_name and self.usage_name != self.birth_name:
            born = "née" if self.sex == "F" else "né"
            return f"{self.usage_name} {born} {self.birth_name}"
        return self.birth_name

    @property
    def first_names(self) -> str:
        return " ".join(self.given_names)


@dataclass(frozen=True, slots=True)
class MemberView:
    person: PersonSummary
    role: str
    own_address: AddressView | None = None  # when not living at the household's address
    phone: str | None = None
    email: str | None = None
    nir: str | None = None  # masked (counter.domain.nir.mask_nir): sex, birth year and month

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    def school_level(self, today: date) -> str | None:
        return school_level(self.person.birth, coming_school_year(today))

    def creche_note(self, today: date) -> str | None:
        """For a child of crèche age: since when a crèche can take them."""
        if self.role != "child" or not is_creche_age(self.person.birth, today):
            return None
        entry = creche_entry_from(self.person.birth)
        if entry > today:
            return f"âge crèche (accueil possible dès le {entry:%d/%m/%Y})"
        return "âge crèche"

    def level_label(self, today: date) -> str:
        """A child's cell in the household's "Rentrée" column: the level of the
        coming school year and crèche age together where both apply
        ("PS · crèche": a 2-year-old is still of crèche age now and enters
        petite section in September), "—" for neither; "" for an adult."""
        if self.role != "child":
            return ""
        parts = [level] if (level := self.school_level(today)) else []
        if self.creche_note(today):
            parts.append("crèche")
        return " · ".join(parts) or "—"


@dataclass(frozen=True, slots=True)
class HouseholdView:
    id: int
    address: AddressView | None
    caf_number: str | None
    members: tuple[MemberView, ...] = field(default=())

    @property
    def label(self) -> str:
        return household_label(self.id)

    def addresses(self) -> list[tuple[str, AddressView]]:
        """Every address of the household, with who lives there."""
        found: list[tuple[str, AddressView]] = []
        if self.address:
            found.append(("Foyer", self.address))
        for member in self.members:
            if member.own_address:
                person = member.person
                first = person.given_names[0] if person.given_names else ""
                found.append((f"{first} {person.display_name}".strip(), member.own_address))
        return found


def household_label(household_id: int) -> str:
    """The reference agents read out: ``F-01234``."""
    return f"F-{household_id:05d}"
