"""Library card: the declaration and its rules (pure: the domain only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from counter.domain.dates import BirthDate
from counter.domain.kinds import RegistrationKind
from counter.domain.papers import IDENTITY, PARENTAL_CONSENT, Paper
from counter.domain.visits import FieldError, Request


@dataclass(frozen=True)
class LibraryRequest(Request):
    person_id: int
    category: str
    guarantor_id: int | None = None  # a child's card is linked to an adult
    renew: bool = False


def check_library(request: LibraryRequest, birth: BirthDate, today: date, categories: set[str]) -> list[FieldError]:
    errors = []
    if request.category not in categories:
        errors.append(FieldError("category", "Catégorie de lecteur inconnue."))
    if birth.age_on(today) < 18 and request.guarantor_id is None:
        errors.append(FieldError("guarantor_id", "La carte d'un mineur est rattachée à un adulte responsable."))
    return errors


def papers_needed(*, minor: bool, **_) -> tuple[Paper, ...]:
    """``minor``: the reader is under 18."""
    papers = [Paper(IDENTITY)]
    if minor:
        papers.append(Paper(PARENTAL_CONSENT))
    return tuple(papers)


class Library(RegistrationKind):
    id = "library"
    label = "Bibliothèque"
    order = 30
    request_type = LibraryRequest
    key, key_label = "b", "Biblio."
    hint_label = "bibliothèque"
    key_tooltip = "Ajouter une carte de bibliothèque (création ou renouvellement)."
    target = "koha"
    capacity = "none"
    papers_needed = staticmethod(papers_needed)  # the papers from the visit's facts (counter.domain.papers)
    to_deliver_label = "à transmettre à la médiathèque"
    delivered_cancel_consequence = "Carte déjà dans Koha : rien n'y sera annulé, prévenez la médiathèque."
    delivered_not_told = (" La carte avait déjà été transmise à la médiathèque (« {target} ») : Koha n'a rien à "
                          "annuler, la carte reste valable. Prévenez la médiathèque si elle doit être retirée.")

    def check(self, request: LibraryRequest, context, today: date, library_codes: set[str]) -> list[FieldError]:
        member = context.member(request.person_id)
        if member is None:
            return [FieldError("person_id", "Choisissez le membre du foyer.")]
        errors = []
        guarantor = context.member(request.guarantor_id) if request.guarantor_id is not None else None
        if request.guarantor_id is not None and (guarantor is None or guarantor.birth.age_on(today) < 18):
            errors.append(FieldError("guarantor_id", "L'adulte responsable est un adulte du foyer."))
        return errors + check_library(request, member.birth, today, library_codes)

    def short(self, request: LibraryRequest, context) -> tuple[str, str]:
        member = context.member(request.person_id)
        return (member.label if member is not None else "?",
                f"{'Renouvellement' if request.renew else 'Carte'} {request.category}")

    def describe(self, request: LibraryRequest, context, today: date) -> tuple[str, str]:
        who, _ = super().describe(request, context, today)
        return who, f"Carte de bibliothèque {request.category}" + (" (renouvellement)" if request.renew else "")

    def prices(self, request: LibraryRequest, draft, facts, rules, context, today: date) -> tuple[str, ...]:
        category = rules.library.category(request.category)
        until = rules.library.valid_until(today)
        return (f"Carte {category.label} : {category.price_text}, valable jusqu'au {until:%d/%m/%Y}",)

    def papers(self, request: LibraryRequest, context, facts, today: date) -> tuple[Paper, ...]:
        member = context.member(request.person_id)
        return papers_needed(minor=member is not None and member.birth.age_on(today) < 18)

    def detail_lines(self, detail) -> list[str]:
        d = detail.details
        return [f"Catégorie de lecteur : {d.get('category') or '—'}" + (" (renouvellement)" if d.get("renew") else "")]


plugin = Library()
