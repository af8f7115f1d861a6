"""The town's rules in one value: QF brackets, crèche tariff, library categories, printer.

Configured in the [tariffs], [creche_tariff], [library] and [printing] tables
(counter.settings); without them, the defaults below (the fictional town's).
Plain dataclasses: importing this module loads no pydantic.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from counter.domain.library import LibraryCategory, LibraryRules
from counter.domain.tariffs import CrecheTariffRules, QfBracket


@dataclass(frozen=True)
class TownRules:
    qf_brackets: tuple[QfBracket, ...]
    creche: CrecheTariffRules
    library: LibraryRules
    printer: str | None = None  # lp -d NAME; None: nothing is printed


def _d(text: str) -> Decimal:
    return Decimal(text)


# Bellerive-sur-Loire's school-service prices (fictional, in the range of
# French towns of its size): € per meal, € per after-school day.
DEFAULT_QF_BRACKETS = (
    QfBracket(400, _d("1.05"), _d("0.80")),
    QfBracket(700, _d("2.10"), _d("1.40")),
    QfBracket(1000, _d("3.20"), _d("2.00")),
    QfBracket(1400, _d("4.10"), _d("2.60")),
    QfBracket(None, _d("4.90"), _d("3.10")),
)

DEFAULT_CRECHE = CrecheTariffRules(
    # CNAF circular 2019-005, collective crèches from 2022: 1, 2, 3 children,
    # 4–7, 8–10 (% of monthly resources per hour).
    effort_rates=tuple(_d(r) for r in (
        "0.0619", "0.0516", "0.0413", "0.0310", "0.0310", "0.0310", "0.0310", "0.0206", "0.0206", "0.0206",
    )),
    # CNAF "plancher" for 2025: published every year, check it each January.
    monthly_floor=_d("801.00"),
    # CNAF "plafond" from 1 September 2025.
    monthly_ceiling=_d("8500.00"),
)

DEFAULT_LIBRARY = LibraryRules(
    categories=(
        LibraryCategory("ADULTE", "Adulte", _d("15.00")),
        LibraryCategory("ENFANT", "Enfant (moins de 18 ans)", _d("0")),
        LibraryCategory("ETUDIANT", "Étudiant", _d("0")),
        LibraryCategory("DEMANDEUR", "Demandeur d'emploi", _d("0")),
        LibraryCategory("SOLIDAIRE", "Solidaire (C2S)", _d("0")),
    ),
    adult="ADULTE",
    minor="ENFANT",
    student="ETUDIANT",
    job_seeker="DEMANDEUR",
    c2s="SOLIDAIRE",
)


def default_rules() -> TownRules:
    return TownRules(DEFAULT_QF_BRACKETS, DEFAULT_CRECHE, DEFAULT_LIBRARY, printer=None)
