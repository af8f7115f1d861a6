"""What a visit comes to: prices, papers, and the receipt once confirmed (pure rules).

Facts the dossier confirmed during the visit (quotient familial, EAJE inputs,
the CAF's agreement on the address, job seekers and C2S beneficiaries) spare
the family papers and decide prices and library categories.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from counter.domain.kinds import kind_of
from counter.domain.library import library_category
from counter.domain.papers import Paper
from counter.domain.receipt import Receipt, ReceiptLine, bus_provisional_note, state_wording
from counter.domain.rules import TownRules
from counter.domain.visits import Request, VisitDraft


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
    return kind_of(request).short(request, context)


def describe_request(request: Request, context, today: date) -> tuple[str, str]:
    """(who, what) for a request, in French."""
    return kind_of(request).describe(request, context, today)


def prices_of(request: Request, draft: VisitDraft, facts: VisitFacts, rules: TownRules,
              context, today: date) -> tuple[str, ...]:
    return kind_of(request).prices(request, draft, facts, rules, context, today)


def papers_of(request: Request, context, facts: VisitFacts, today: date) -> tuple[Paper, ...]:
    return kind_of(request).papers(request, context, facts, today)


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
        items.append(Item(index, kind_of(request).label, who, what,
                          prices_of(request, draft, facts, rules, context, today), papers, who_short, what_short))
    return Summary(tuple(items), tuple(to_bring), tuple(confirmed.values()), qf_text(draft, facts), facts.pending)


def suggest_library(member, student: bool, facts: VisitFacts, rules: TownRules, today: date) -> tuple[str, str]:
    choice = library_category(member.birth.age_on(today), student=student,
                              job_seeker=member.person_id in facts.job_seekers,
                              c2s=member.person_id in facts.c2s, rules=rules.library)
    return choice.code, choice.reason


def receipt_of(confirmation, summary: Summary, context, town: str, agent: str, today: date,
               training: bool, bus: str = "") -> Receipt:
    """The receipt of a confirmed visit; ``bus``: confirmed on the roaming bus, whose
    requests holding places or ranks are provisional until central takes them."""
    lines = []
    notes = []
    provisional = []
    for number, (outcome, item) in enumerate(zip(confirmation.outcomes, summary.items, strict=True), 1):
        if bus and kind_of(outcome.request).capacity != "none":
            provisional.append(number)
        state_label, detail = state_wording(kind_of(outcome.request).value, outcome.state.value, outcome.rank)
        if outcome.note:
            notes.append(outcome.note)
        lines.append(ReceiptLine(
            kind=kind_of(outcome.request).value, who=item.who, what=item.what, state=outcome.state.value,
            state_label=state_label, detail=detail, prices=item.prices,
            papers=tuple((p.label, p.confirmed_by) for p in item.papers),
        ))
    if provisional:
        notes.insert(0, bus_provisional_note(provisional, len(lines)))
    where = f" — {context.address.one_line()}" if context.address else ""
    return Receipt(code=confirmation.code, issued_on=today, town=town, agent=agent,
                   household=f"Foyer {context.household}{where}", lines=tuple(lines), notes=tuple(notes),
                   training=training)
