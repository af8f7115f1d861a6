"""What a family will pay: school services by quotient familial, crèche by effort rate.

Pure functions over Decimal. The brackets, rates, floor and ceiling are the
town's and the CNAF's, so they come in as arguments (see counter.domain.rules),
never as constants here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from registrations.school.kind import SchoolRequest

CENT = Decimal("0.01")
_THOUSANDS = "\u202f"  # narrow no-break space, as facts_text.euros writes amounts
WEEKS_PER_MONTH = Decimal(52) / Decimal(12)

# How an agency's name reads to a family; the backends say CNAF, families say CAF.
_PROVIDER_LABELS = {"CNAF": "CAF", "CAF": "CAF", "MSA": "MSA", "agency": "CAF ou MSA"}
DECLARED = "declared"


# -- French number formatting -----------------------------------------------------


def french_number(value: Decimal | int, places: int = 2) -> str:
    """1234.5 → "1 234,50" (narrow no-break space, decimal comma)."""
    text = f"{Decimal(value):,.{places}f}"
    return text.replace(",", _THOUSANDS).replace(".", ",")


def euros(value: Decimal | int, places: int = 2) -> str:
    """Decimal("3.4") → "3,40 €"; places=0 for whole amounts such as annual resources."""
    return f"{french_number(value, places)} €"


def percent(rate: Decimal) -> str:
    """An effort rate as the CNAF writes it: Decimal("0.0516") → "0,0516 %"."""
    places = max(4, -rate.normalize().as_tuple().exponent)
    return f"{french_number(rate, places)} %"


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


# -- school services by quotient familial ------------------------------------------


@dataclass(frozen=True)
class QfBracket:
    """Prices up to a QF, inclusive (QF 400 is in the bracket up_to=400). The last
    bracket has up_to=None: the town's full price."""

    up_to: int | None
    canteen: Decimal  # per meal
    after_school: Decimal  # per day


def bracket_for(qf: int | None, brackets: Sequence[QfBracket]) -> QfBracket:
    """The bracket of a QF; without a QF the family pays the full price (last bracket)."""
    if not brackets:
        raise ValueError("no QF bracket configured")
    if qf is None:
        return brackets[-1]
    if qf < 0:
        raise ValueError("a quotient familial is never negative")
    for bracket in brackets:
        if bracket.up_to is None or qf <= bracket.up_to:
            return bracket
    return brackets[-1]


@dataclass(frozen=True)
class QuoteLine:
    label: str
    unit_price: Decimal
    per_week: int
    weekly: Decimal
    unit: str = "jour"  # what unit_price buys: "repas" | "jour"

    @property
    def text(self) -> str:
        return (f"{self.label} : {euros(self.unit_price)} par {self.unit} × {self.per_week} "
                f"= {euros(self.weekly)} par semaine")


@dataclass(frozen=True)
class Quote:
    lines: tuple[QuoteLine, ...]
    basis: str  # French: which QF the prices come from
    declared: bool  # the QF was typed in, not confirmed by an agency
    bracket: QfBracket
    full_price: bool  # no QF known

    @property
    def weekly_total(self) -> Decimal:
        return sum((line.weekly for line in self.lines), Decimal("0.00"))


def qf_basis(qf_value: int | None, qf_source: str | None) -> tuple[str, bool]:
    """("QF 640 (CAF)", False), ("QF 640 déclaré", True) or the full-price wording.

    ``qf_source`` is "declared" or the provider (CNAF, MSA); a value without a
    source is treated as declared, since nothing confirms it.
    """
    if qf_value is None:
        return "sans quotient familial : tarif plein", False
    if qf_source is None or qf_source == DECLARED:
        return f"QF {qf_value} déclaré", True
    return f"QF {qf_value} ({_PROVIDER_LABELS.get(qf_source, qf_source)})", False


def school_quote(request: SchoolRequest, qf_value: int | None, qf_source: str | None,
                 brackets: Sequence[QfBracket]) -> Quote:
    """Weekly cost of canteen (per meal × canteen days) and périscolaire (per day × days)."""
    bracket = bracket_for(qf_value, brackets)
    basis, declared = qf_basis(qf_value, qf_source)
    lines = []
    for label, unit, price, days in (
        ("Restauration scolaire", "repas", bracket.canteen, len(request.canteen_days)),
        ("Accueil périscolaire", "jour", bracket.after_school, len(request.after_school_days)),
    ):
        if days:
            lines.append(QuoteLine(label, price, days, price * days, unit))
    return Quote(tuple(lines), basis, declared, bracket, full_price=qf_value is None)


# -- crèche: CNAF effort rate (PSU) ------------------------------------------------


@dataclass(frozen=True)
class CrecheTariffRules:
    # Percent per hour of monthly resources, index 0 = 1 child in charge.
    effort_rates: tuple[Decimal, ...]
    monthly_floor: Decimal
    monthly_ceiling: Decimal


@dataclass(frozen=True)
class CrecheQuote:
    hourly: Decimal  # € per hour, to the cent
    monthly_resources: Decimal  # annual / 12, to the cent, clamped to floor/ceiling
    rate: Decimal  # percent per hour
    children_counted: int  # children in charge, +1 when a child has the AEEH
    formula: str  # French, with the numbers
    rate_basis: str  # French: why this rate
    declared: bool  # resources typed in, not from the CAF
    monthly_estimate: Decimal  # hourly × hours a week × 52 / 12
    clamped: Literal["floor", "ceiling"] | None


def creche_quote(annual_resources: int, children_in_charge: int, aeeh_children: int,
                 rules: CrecheTariffRules, declared: bool, hours_per_week: float) -> CrecheQuote:
    if annual_resources < 0:
        raise ValueError("resources are never negative")
    if not rules.effort_rates:
        raise ValueError("no effort rate configured")
    children = max(children_in_charge, 1)
    # CNAF: a child with the AEEH moves the family to the next lower rate, once.
    counted = children + (1 if aeeh_children > 0 else 0)
    rate = rules.effort_rates[min(counted, len(rules.effort_rates)) - 1]

    computed = cents(Decimal(annual_resources) / 12)
    monthly, clamped = computed, None
    if computed < rules.monthly_floor:
        monthly, clamped = rules.monthly_floor, "floor"
    elif computed > rules.monthly_ceiling:
        monthly, clamped = rules.monthly_ceiling, "ceiling"
    hourly = cents(monthly * rate / 100)
    hours = Decimal(str(hours_per_week))
    estimate = cents(hourly * hours * WEEKS_PER_MONTH)

    formula = f"{euros(annual_resources, 0)} / 12 = {euros(computed)}"
    if clamped == "floor":
        formula += f", porté au plancher de {euros(monthly)}"
    elif clamped == "ceiling":
        formula += f", ramené au plafond de {euros(monthly)}"
    formula += f" × {percent(rate)} = {euros(hourly)}/h"

    rate_basis = f"{children} enfant{'s' if children > 1 else ''} à charge"
    if counted != children:
        rate_basis += f", dont un bénéficiaire de l'AEEH : taux de {counted} enfants"
    return CrecheQuote(hourly, monthly, rate, counted, formula, rate_basis, declared, estimate, clamped)
