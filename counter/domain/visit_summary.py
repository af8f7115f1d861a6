"""What a visit comes to: prices, papers, and the receipt once confirmed (pure rules).

Facts the dossier confirmed during the visit (quotient familial, EAJE inputs,
the CAF's agreement on the address, job seekers and C2S beneficiaries) spare
the family papers and decide prices and library categories.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from counter.domain.library import library_category
from counter.domain.papers import Paper, papers_for
from counter.domain.receipt import Receipt, ReceiptLine, state_wording
from counter.domain.rules import TownRules
from counter.domain.tariffs import creche_quote, euros, school_quote
from counter.domain.visits import (
    KIND_LABELS,
    CrecheRequest,
    Request,
    SchoolRequest,
    VisitDraft,
    kind_of,
)


@dataclass
class VisitFacts:
    """What the agencies confirmed during this visit (from the dossier).

    ``pending`` while the agencies are still being asked: prices that depend on
    their answers are not worked out yet, and the visit cannot be confirmed.
    """

    pending: bool = False
    qf_value: int | None = None
    qf_provider: str | None = None  # CNAF | MSA
    eaje: tuple[int, int, int] | None = None  # children in charge, with AEEH, annual resources
    address_confirmed_by: str | None = None  # "CAF" when its address is the town's
    job_seekers: set[int] = field(default_factory=set)  # person ids
    c2s: set[int] = field(default_factory=set)
    # Why no QF came, once the agencies are done: "la CAF n'a pas répondu"…
    qf_missing: str = ""


@dataclass(frozen=True)
class Item:
    index: int
    kind: str  # French: École, Crèche, Bibliothèque
    who: str
    what: str
    prices: tuple[str, ...]
    papers: tuple[Paper, ...]
    who_short: str = ""  # the name alone, for a table column
    what_short: str = ""  # the essentials, for a table column


PENDING = "Les organismes n'ont pas encore répondu : les tarifs seront calculés dès leur réponse."


@dataclass(frozen=True)
class Summary:
    items: tuple[Item, ...]
    papers_to_bring: tuple[str, ...]
    papers_confirmed: tuple[Paper, ...]
    qf_basis: str
    pending: bool = False  # prices wait for the agencies: not confirmable yet


def qf_of(draft: VisitDraft, facts: VisitFacts) -> tuple[int | None, str | None]:
    """The agency's QF when the dossier gave one, else the one typed (declared)."""
    if facts.qf_value is not None:
        return facts.qf_value, facts.qf_provider or "CNAF"
    if draft.qf_value is not None:
        return draft.qf_value, "declared" if draft.qf_source != "agency" else draft.qf_source
    return None, None


def qf_text(draft: VisitDraft, facts: VisitFacts) -> str:
    """Which QF the prices use, in French, saying when it is still awaited or missing."""
    from counter.domain.tariffs import qf_basis

    qf, source = qf_of(draft, facts)
    if facts.pending and facts.qf_value is None:
        if qf is None:
            return "en attente du quotient familial de la CAF…"
        return f"{qf_basis(qf, source)[0]} (la CAF n'a pas encore répondu)"
    if qf is None:
        why = f" ({facts.qf_missing})" if facts.qf_missing else ""
        return f"aucun quotient familial connu{why} : tarif plein"
    return qf_basis(qf, source)[0]


def confirm_blocker(facts: VisitFacts) -> str | None:
    """Why the visit cannot be confirmed yet, or None."""
    return PENDING if facts.pending else None


def short_request(request: Request, context) -> tuple[str, str]:
    """(who, what) in a few words, for a table: the full text is describe_request's."""
    member = context.member(getattr(request, "person_id", None))
    who = member.label if member is not None else ("Enfant à naître" if isinstance(request, CrecheRequest) else "?")
    if isinstance(request, SchoolRequest):
        school = next((s.name for s in context.schools if s.id == request.school_id), "?")
        what = f"{request.level} {request.school_year}-{request.school_year + 1}, {school}"
    elif isinstance(request, CrecheRequest):
        first = next((c.name for c in context.creches if c.id == request.creche_ids[0]), "?") if request.creche_ids else "?"
        more = f" (+{len(request.creche_ids) - 1})" if len(request.creche_ids) > 1 else ""
        what = f"dès le {request.start_date:%d/%m/%Y}, {first}{more}"
    else:
        what = f"{'Renouvellement' if request.renew else 'Carte'} {request.category}"
    return who, what


def describe_request(request: Request, context, today: date) -> tuple[str, str]:
    """(who, what) for a request, in French."""
    member = context.member(getattr(request, "person_id", None))
    if isinstance(request, CrecheRequest) and request.person_id is None:
        who = f"Enfant à naître (naissance prévue le {request.due_date:%d/%m/%Y})" if request.due_date else "Enfant à naître"
    elif member is not None:
        born = "née" if member.sex == "F" else "né"
        who = f"{member.label} ({born} le {member.birth.display()})"
    else:
        who = "?"
    if isinstance(request, SchoolRequest):
        school = next((s.name for s in context.schools if s.id == request.school_id), "?")
        what = f"{school} — {request.level}, {request.school_year}-{request.school_year + 1}"
        if request.derogation:
            what += f" (dérogation : {request.derogation_reason})"
    elif isinstance(request, CrecheRequest):
        names = [f"{i}. {next((c.name for c in context.creches if c.id == cid), '?')}"
                 for i, cid in enumerate(request.creche_ids, 1)]
        what = (f"Crèche : {', '.join(names)} — entrée le {request.start_date:%d/%m/%Y}, "
                f"{request.days_per_week} j/sem., {request.hours_per_week:g} h")
    else:
        what = f"Carte de bibliothèque {request.category}" + (" (renouvellement)" if request.renew else "")
    return who, what


def prices_of(request: Request, draft: VisitDraft, facts: VisitFacts, rules: TownRules,
              context, today: date) -> tuple[str, ...]:
    if isinstance(request, SchoolRequest):
        qf, source = qf_of(draft, facts)
        if not (request.canteen_days or request.after_school_days):
            return ()
        if qf is None and facts.pending:
            return ("Cantine et périscolaire : tarif calculé dès que la CAF donne le quotient familial",)
        quote = school_quote(request, qf, source, rules.qf_brackets)
        if quote.full_price:
            basis = "Tarif plein : aucun quotient familial connu" + (f" ({facts.qf_missing})" if facts.qf_missing else "")
        else:
            basis = f"Tarif selon {qf_text(draft, facts)}"
        return tuple(line.text for line in quote.lines) + (basis,)
    if isinstance(request, CrecheRequest):
        if facts.eaje is None and facts.pending and request.declared_annual_resources is None:
            return ("Tarif horaire : calculé dès que la CAF donne les ressources de la famille",)
        if facts.eaje is not None:
            children, aeeh, resources = facts.eaje
            declared = False
        elif request.declared_annual_resources is not None:
            children = max(1, len(context.children(today)) + (1 if request.person_id is None else 0))
            aeeh, resources, declared = 0, request.declared_annual_resources, True
        else:
            return ("Tarif horaire : à calculer (ressources inconnues)",)
        quote = creche_quote(resources, children, aeeh, rules.creche, declared, request.hours_per_week)
        mark = " (ressources déclarées)" if declared else " (données de la CAF)"
        return (f"Tarif horaire estimé : {euros(quote.hourly)}{mark}", quote.formula, quote.rate_basis,
                f"Soit environ {euros(quote.monthly_estimate)} par mois")
    category = rules.library.category(request.category)
    until = rules.library.valid_until(today)
    return (f"Carte {category.label} : {category.price_text}, valable jusqu'au {until:%d/%m/%Y}",)


def separated_parents(request: Request, context) -> bool:
    """As the agent stated it in a school registration, else the household's data."""
    stated = getattr(request, "separated_parents", None)
    return context.separated_parents if stated is None else stated


def papers_of(request: Request, context, facts: VisitFacts, today: date) -> tuple[Paper, ...]:
    member = context.member(getattr(request, "person_id", None))
    creche = isinstance(request, CrecheRequest)
    aeeh = facts.eaje is not None and facts.eaje[1] > 0
    return papers_for(
        kind_of(request),
        separated_parents=separated_parents(request, context),
        address_confirmed_by=facts.address_confirmed_by,
        resources_confirmed_by="CAF" if facts.eaje is not None and isinstance(request, CrecheRequest) else None,
        minor=member is not None and member.birth.age_on(today) < 18,
        new_family=creche and request.person_id is None,
        disability=creche and request.disability,
        disability_confirmed_by="CAF" if aeeh else None,
    )


def summarise(draft: VisitDraft, context, facts: VisitFacts, rules: TownRules, today: date) -> Summary:
    items = []
    to_bring: dict[str, None] = {}
    confirmed: dict[str, Paper] = {}
    for index, request in enumerate(draft.requests):
        who, what = describe_request(request, context, today)
        papers = papers_of(request, context, facts, today)
        for paper in papers:
            if paper.to_provide:
                to_bring.setdefault(paper.label, None)
            else:
                confirmed.setdefault(paper.label, paper)
        who_short, what_short = short_request(request, context)
        items.append(Item(index, KIND_LABELS[kind_of(request)], who, what,
                          prices_of(request, draft, facts, rules, context, today), papers, who_short, what_short))
    return Summary(tuple(items), tuple(to_bring), tuple(confirmed.values()), qf_text(draft, facts), facts.pending)


def suggest_library(member, student: bool, facts: VisitFacts, rules: TownRules, today: date) -> tuple[str, str]:
    choice = library_category(member.birth.age_on(today), student=student,
                              job_seeker=member.person_id in facts.job_seekers,
                              c2s=member.person_id in facts.c2s, rules=rules.library)
    return choice.code, choice.reason


def receipt_of(confirmation, summary: Summary, context, town: str, agent: str, today: date,
               training: bool) -> Receipt:
    lines = []
    notes = []
    for outcome, item in zip(confirmation.outcomes, summary.items, strict=True):
        state_label, detail = state_wording(kind_of(outcome.request).value, outcome.state.value, outcome.rank)
        if outcome.note:
            notes.append(outcome.note)
        lines.append(ReceiptLine(
            kind=kind_of(outcome.request).value, who=item.who, what=item.what, state=outcome.state.value,
            state_label=state_label, detail=detail, prices=item.prices,
            papers=tuple((p.label, p.confirmed_by) for p in item.papers),
        ))
    where = f" — {context.address.one_line()}" if context.address else ""
    return Receipt(code=confirmation.code, issued_on=today, town=town, agent=agent,
                   household=f"Foyer {context.household}{where}", lines=tuple(lines), notes=tuple(notes),
                   training=training)
