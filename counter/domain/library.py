"""Which library card category (and price) a reader gets, from the town's categories."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from counter.domain.tariffs import euros

ADULT_AGE = 18


@dataclass(frozen=True)
class LibraryCategory:
    code: str  # the library system's category code (Koha categorycode)
    label: str
    price: Decimal  # per year

    @property
    def price_text(self) -> str:
        return "gratuit" if self.price == 0 else euros(self.price)


@dataclass(frozen=True)
class LibraryRules:
    """The categories, and which code applies to each case (codes must exist)."""

    categories: tuple[LibraryCategory, ...]
    adult: str
    minor: str
    student: str
    job_seeker: str
    c2s: str
    senior: str | None = None  # with senior_age; None: seniors pay as adults
    senior_age: int | None = None
    card_months: int = 12  # how long a new or renewed card is valid

    def valid_until(self, today: date) -> date:
        """The expiry of a card made or renewed today: ``card_months`` later,
        on the last day of a shorter month (31 Jan + 1 month → 28/29 Feb)."""
        months = today.year * 12 + today.month - 1 + self.card_months
        year, month = divmod(months, 12)
        month += 1
        return date(year, month, min(today.day, calendar.monthrange(year, month)[1]))

    def category(self, code: str) -> LibraryCategory:
        for category in self.categories:
            if category.code == code:
                return category
        raise KeyError(code)

    @property
    def codes(self) -> set[str]:
        return {c.code for c in self.categories}


@dataclass(frozen=True)
class LibraryChoice:
    category: LibraryCategory
    reason: str  # French, shown next to the category

    @property
    def code(self) -> str:
        return self.category.code

    @property
    def label(self) -> str:
        return self.category.label

    @property
    def price(self) -> Decimal:
        return self.category.price


def library_category(age: int, *, student: bool, job_seeker: bool, c2s: bool,
                     rules: LibraryRules) -> LibraryChoice:
    """Minor first (a child's card whatever else is true), then job seeker, C2S
    beneficiary, student, senior when the town has such a category, else adult.
    The free cases come before the paying ones so a reader gets the best one."""
    if age < ADULT_AGE:
        return LibraryChoice(rules.category(rules.minor), f"mineur (moins de {ADULT_AGE} ans)")
    if job_seeker:
        return LibraryChoice(rules.category(rules.job_seeker), "demandeur d'emploi (France Travail)")
    if c2s:
        return LibraryChoice(rules.category(rules.c2s), "bénéficiaire de la complémentaire santé solidaire (C2S)")
    if student:
        return LibraryChoice(rules.category(rules.student), "étudiant(e)")
    if rules.senior is not None and rules.senior_age is not None and age >= rules.senior_age:
        return LibraryChoice(rules.category(rules.senior), f"{rules.senior_age} ans ou plus")
    return LibraryChoice(rules.category(rules.adult), "adulte")
