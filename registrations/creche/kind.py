"""Crèche application: the declaration and its rules (pure: the domain only)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from counter.domain.dates import BirthDate
from counter.domain.kinds import RegistrationKind, describe_member
from counter.domain.papers import ADDRESS, CUSTODY, DISABILITY, FAMILY_RECORD, PREGNANCY, RESOURCES, Paper
from counter.domain.schooling import (
    CRECHE_MAX_YEARS,
    CRECHE_MAX_YEARS_DISABILITY,
    CRECHE_MIN_AGE,
    creche_entry_from,
    creche_leaving_age,
    latest_due_date,
)
from counter.domain.visits import STATE_LABELS, FieldError, RegState, Request

MAX_CRECHE_CHOICES = 3
# A start date beyond three years is a typing error (the due date's own limit,
# the 3rd month of pregnancy, is schooling.latest_due_date).
MAX_START_YEARS = 3
MAX_DECLARED_RESOURCES = 10_000_000  # € a year: far above the CNAF ceiling
UNBORN = "Enfant à naître"


@dataclass(frozen=True)
class CrecheRequest(Request):
    creche_ids: tuple[int, ...]  # up to three, in order of preference
    start_date: date
    days_per_week: int
    hours_per_week: float
    person_id: int | None = None  # None: an expected birth
    due_date: date | None = None
    declared_annual_resources: int | None = None  # typed in when no agency data
    disability: bool = False  # AEEH or MDPH decision: a crèche may keep the child until 6


def check_creche(request: CrecheRequest, birth: BirthDate | None, today: date) -> list[FieldError]:
    """Crèches take children from 10 weeks to 3 years (6 with a disability);
    applications are made from the 3rd month of pregnancy."""
    errors = []
    if not request.creche_ids:
        errors.append(FieldError("creche_ids", "Choisissez au moins une crèche."))
    if len(request.creche_ids) > MAX_CRECHE_CHOICES:
        errors.append(FieldError("creche_ids", "Trois crèches au plus."))
    if len(set(request.creche_ids)) != len(request.creche_ids):
        errors.append(FieldError("creche_ids", "La même crèche est choisie deux fois."))
    entry_from = born = None
    if request.person_id is None:
        latest = latest_due_date(today)
        if request.due_date is None:
            errors.append(FieldError("due_date", "Indiquez la date prévue de naissance."))
        elif request.due_date < today:
            errors.append(FieldError("due_date", "La date prévue de naissance est passée : enregistrez l'enfant."))
        elif request.due_date > latest:
            errors.append(FieldError("due_date", "Trop tôt : la demande se fait à partir du 3e mois de grossesse "
                                                 f"(naissance prévue au plus tard le {latest:%d/%m/%Y})."))
        else:
            born = BirthDate.of(request.due_date)
            entry_from = request.due_date + CRECHE_MIN_AGE
    elif birth is not None:
        born, entry_from = birth, creche_entry_from(birth)
    if request.start_date < today:
        errors.append(FieldError("start_date", "La date d'entrée est passée."))
    elif request.start_date > _months_after(today, 12 * MAX_START_YEARS):
        errors.append(FieldError("start_date", f"Date d'entrée dans plus de {MAX_START_YEARS} ans : vérifiez-la."))
    elif entry_from is not None and request.start_date < entry_from:
        errors.append(FieldError("start_date", "Une crèche accueille l'enfant à partir de 10 semaines : "
                                               f"entrée possible dès le {entry_from:%d/%m/%Y}."))
    elif born is not None and born.age_on(request.start_date) >= creche_leaving_age(request.disability):
        if request.disability:
            message = f"À cette date l'enfant aura {CRECHE_MAX_YEARS_DISABILITY} ans : une crèche ne peut plus l'accueillir."
        else:
            message = (f"À cette date l'enfant aura {CRECHE_MAX_YEARS} ans : une crèche accueille jusqu'à "
                       f"{CRECHE_MAX_YEARS} ans ({CRECHE_MAX_YEARS_DISABILITY} ans en situation de handicap).")
        errors.append(FieldError("start_date", message))
    if not 1 <= request.days_per_week <= 5:
        errors.append(FieldError("days_per_week", "Entre 1 et 5 jours par semaine."))
    if not 0 < request.hours_per_week <= 55:  # NaN fails too
        errors.append(FieldError("hours_per_week", "Entre 1 et 55 heures par semaine."))
    resources = request.declared_annual_resources
    if resources is not None and resources < 0:
        errors.append(FieldError("declared_annual_resources", "Des ressources ne sont jamais négatives."))
    elif resources is not None and resources > MAX_DECLARED_RESOURCES:
        errors.append(FieldError("declared_annual_resources",
                                 "Ressources annuelles improbables : vérifiez le montant (en euros par an)."))
    return errors


def _months_after(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def papers_needed(*, separated_parents: bool, address_confirmed_by: str | None, resources_confirmed_by: str | None,
                  new_family: bool, disability: bool = False, disability_confirmed_by: str | None = None,
                  **_) -> tuple[Paper, ...]:
    """``new_family``: the child is not born yet, so a pregnancy declaration stands
    for the livret de famille; ``disability``: a child kept until 6, which the CAF
    confirms when it pays an AEEH (``disability_confirmed_by``)."""
    papers = [Paper(PREGNANCY if new_family else FAMILY_RECORD), Paper(ADDRESS, address_confirmed_by)]
    if separated_parents:
        papers.append(Paper(CUSTODY))
    papers.append(Paper(RESOURCES, resources_confirmed_by))
    if disability:
        papers.append(Paper(DISABILITY, disability_confirmed_by))
    return tuple(papers)


def _iso_date(value: str) -> str:
    try:
        return date.fromisoformat(value).strftime("%d/%m/%Y")
    except (TypeError, ValueError):
        return str(value)


class Creche(RegistrationKind):
    id = "creche"
    label = "Crèche"
    order = 20
    request_type = CrecheRequest
    key, key_label, key_tooltip = "c", "Crèche", "Ajouter une demande de crèche."
    hint_label = "crèche"
    target = "city"
    capacity = "waiting_list"  # every application: a provisional rank on the town's list
    papers_needed = staticmethod(papers_needed)  # the papers from the visit's facts (counter.domain.papers)

    def duplicate_key(self, request: CrecheRequest) -> tuple:
        if request.person_id is None:
            return (self.id, request.person_id, request.due_date)
        return (self.id, request.person_id)

    def check(self, request: CrecheRequest, context, today: date, library_codes: set[str]) -> list[FieldError]:
        member = context.member(request.person_id)
        if request.person_id is not None and member is None:
            return [FieldError("person_id", "Choisissez l'enfant.")]
        errors = []
        creches = {c.id for c in context.creches}
        if any(c not in creches for c in request.creche_ids):
            errors.append(FieldError("creche_ids", "Crèche inconnue de la commune : choisissez-la dans la liste."))
        return errors + check_creche(request, member.birth if member else None, today)

    def short(self, request: CrecheRequest, context) -> tuple[str, str]:
        member = context.member(request.person_id)
        who = member.label if member is not None else UNBORN
        first = next((c.name for c in context.creches if c.id == request.creche_ids[0]), "?") \
            if request.creche_ids else "?"
        more = f" (+{len(request.creche_ids) - 1})" if len(request.creche_ids) > 1 else ""
        return who, f"dès le {request.start_date:%d/%m/%Y}, {first}{more}"

    def describe(self, request: CrecheRequest, context, today: date) -> tuple[str, str]:
        if request.person_id is None:
            who = f"{UNBORN} (naissance prévue le {request.due_date:%d/%m/%Y})" if request.due_date else UNBORN
        else:
            who = describe_member(context.member(request.person_id))
        names = [f"{i}. {next((c.name for c in context.creches if c.id == cid), '?')}"
                 for i, cid in enumerate(request.creche_ids, 1)]
        what = (f"Crèche : {', '.join(names)} — entrée le {request.start_date:%d/%m/%Y}, "
                f"{request.days_per_week} j/sem., {request.hours_per_week:g} h")
        return who, what

    def prices(self, request: CrecheRequest, draft, facts, rules, context, today: date) -> tuple[str, ...]:
        from counter.domain.tariffs import creche_quote, euros

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

    def papers(self, request: CrecheRequest, context, facts, today: date) -> tuple[Paper, ...]:
        aeeh = facts.eaje is not None and facts.eaje[1] > 0
        return papers_needed(
            separated_parents=context.separated_parents,
            address_confirmed_by=facts.address_confirmed_by,
            resources_confirmed_by="CAF" if facts.eaje is not None else None,
            new_family=request.person_id is None,
            disability=request.disability,
            disability_confirmed_by="CAF" if aeeh else None,
        )

    def state_wording(self, state, rank, *, rank_confirmed=False):
        if state is RegState.WAITING_LIST and rank:
            return STATE_LABELS[state], f"rang {rank}" if rank_confirmed else f"rang provisoire {rank}"
        return super().state_wording(state, rank, rank_confirmed=rank_confirmed)

    def view_lines(self, view) -> list[str]:
        rank = f" · {view.rank_label}" if view.rank_label else ""
        return [f"Crèche : {view.place or '—'}{rank}"]

    def detail_lines(self, detail) -> list[str]:
        v, d = detail.view, detail.details
        lines = ["Crèches demandées : " + (" > ".join(detail.choices) or "—")]
        if v.town_rank is not None:
            given = f" ; rang provisoire donné au guichet : {v.rank}" if v.rank not in (None, v.town_rank) else ""
            lines.append(f"Rang sur la liste d'attente de la mairie : {v.town_rank}{given}")
        elif v.rank is not None:
            lines.append(f"Rang provisoire sur la liste d'attente : {v.rank} (la mairie le confirme à réception)")
        facts = []
        if d.get("due_date"):
            facts.append(f"naissance prévue le {_iso_date(d['due_date'])}")
        if d.get("start_date"):
            facts.append(f"entrée le {_iso_date(d['start_date'])}")
        if d.get("days_per_week"):
            facts.append(f"{d['days_per_week']} j/semaine, {d.get('hours_per_week', '?')} h/semaine")
        if facts:
            lines.append("Accueil : " + ", ".join(str(f) for f in facts))
        return lines


plugin = Creche()
