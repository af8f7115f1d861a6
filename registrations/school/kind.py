"""School registration: the declaration and its rules (pure: the domain only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from counter.domain.dates import BirthDate
from counter.domain.kinds import RegistrationKind, describe_member
from counter.domain.papers import ADDRESS, CUSTODY, FAMILY_RECORD, VACCINATIONS, Paper
from counter.domain.schooling import LEVELS, school_level, school_year_label
from counter.domain.text import has_controls
from counter.domain.visits import WEEKDAYS, FieldError, Request

SCHOOL_DAYS = ("lun", "mar", "jeu", "ven")  # canteen: the days with school
MAX_DEROGATION_REASON = 500  # the town's family system takes 1 to 500 characters
_DAYS = {"lun": "lundi", "mar": "mardi", "mer": "mercredi", "jeu": "jeudi", "ven": "vendredi"}


@dataclass(frozen=True)
class SchoolRequest(Request):
    person_id: int
    school_year: int  # start year: 2027 = 2027-2028
    level: str
    school_id: int  # the school asked for (the sector school unless a derogation)
    sector_school_id: int | None = None
    derogation_reason: str = ""
    canteen_days: tuple[str, ...] = ()
    after_school_days: tuple[str, ...] = ()
    # As the agent stated it (the custody judgment follows); None: not stated,
    # the household's data decides (drafts made before the question existed).
    separated_parents: bool | None = None

    @property
    def derogation(self) -> bool:
        return self.sector_school_id is not None and self.school_id != self.sector_school_id


def check_school(request: SchoolRequest, birth: BirthDate, existing_years: set[int], *,
                 open_years: tuple[int, ...], custody_asked: bool = False) -> list[FieldError]:
    """``open_years``: the school years taking registrations today; ``custody_asked``:
    the household's data cannot tell whether the parents are separated (a lone
    parent), so the agent must say it."""
    errors = []
    if request.school_year not in open_years:
        years = " et ".join(school_year_label(y) for y in open_years)
        errors.append(FieldError("school_year", f"Les inscriptions sont ouvertes pour {years} seulement."))
    expected = school_level(birth, request.school_year)
    if expected is None:
        errors.append(FieldError("level", "Âge hors école maternelle et élémentaire pour cette année scolaire."))
    elif request.level != expected:
        errors.append(FieldError("level", f"Le niveau de cet enfant pour {school_year_label(request.school_year)} "
                                          f"est {expected}."))
    if request.level not in LEVELS:
        errors.append(FieldError("level", "Niveau inconnu."))
    if request.school_year in existing_years:
        errors.append(FieldError("school_year", "Cet enfant est déjà inscrit à l'école pour cette année."))
    reason = request.derogation_reason
    if has_controls(reason):
        errors.append(FieldError("derogation_reason",
                                 "Motif de dérogation : caractère invisible ou de contrôle non autorisé."))
    elif len(reason.strip()) > MAX_DEROGATION_REASON:
        errors.append(FieldError("derogation_reason",
                                 f"Motif de dérogation : {MAX_DEROGATION_REASON} caractères au plus."))
    elif request.derogation and not reason.strip():
        errors.append(FieldError("derogation_reason", "Une dérogation demande un motif."))
    if request.separated_parents is None and custody_asked:
        errors.append(FieldError("separated_parents", "Parents séparés ou non ? Demandez-le à la famille "
                                                      "(jugement de garde si oui)."))
    for name, what in (("canteen_days", "cantine"), ("after_school_days", "périscolaire")):
        days = getattr(request, name)
        allowed = SCHOOL_DAYS if name == "canteen_days" else WEEKDAYS
        if any(d not in allowed for d in days) or len(set(days)) != len(days):
            errors.append(FieldError(name, f"Jours de {what} invalides."))
    return errors


def papers_needed(*, separated_parents: bool, address_confirmed_by: str | None, **_) -> tuple[Paper, ...]:
    papers = [Paper(FAMILY_RECORD), Paper(ADDRESS, address_confirmed_by)]
    if separated_parents:
        papers.append(Paper(CUSTODY))
    papers.append(Paper(VACCINATIONS))
    return tuple(papers)


def separated_parents(request: SchoolRequest, context) -> bool:
    """As the agent stated it, else the household's data."""
    return context.separated_parents if request.separated_parents is None else request.separated_parents


def _days(days) -> str:
    return ", ".join(_DAYS.get(d, str(d)) for d in days)


class School(RegistrationKind):
    id = "school"
    label = "École"
    order = 10
    request_type = SchoolRequest
    key, key_label, key_tooltip = "e", "École", "Ajouter une inscription scolaire."
    hint_label = "école"
    place_freed = " La place est rendue à l'école."
    target = "city"
    capacity = "places"  # per school, year and level (school_capacity); a full level: waiting list
    papers_needed = staticmethod(papers_needed)  # the papers from the visit's facts (counter.domain.papers)

    def duplicate_key(self, request: SchoolRequest) -> tuple:
        return (self.id, request.person_id, request.school_year)

    def check(self, request: SchoolRequest, context, today: date, library_codes: set[str]) -> list[FieldError]:
        member = context.member(request.person_id)
        if member is None:
            return [FieldError("person_id", "Choisissez l'enfant.")]
        errors = []
        if request.school_id not in {s.id for s in context.schools}:
            errors.append(FieldError("school_id", "École inconnue de la commune : choisissez-la dans la liste."))
        years = context.existing_school_years.get(member.person_id, set())
        return errors + check_school(request, member.birth, years, open_years=context.school_years,
                                     custody_asked=context.separated_default() is None)

    def _school(self, request: SchoolRequest, context) -> str:
        return next((s.name for s in context.schools if s.id == request.school_id), "?")

    def short(self, request: SchoolRequest, context) -> tuple[str, str]:
        member = context.member(request.person_id)
        return (member.label if member is not None else "?",
                f"{request.level} {request.school_year}-{request.school_year + 1}, {self._school(request, context)}")

    def describe(self, request: SchoolRequest, context, today: date) -> tuple[str, str]:
        what = f"{self._school(request, context)} — {request.level}, {request.school_year}-{request.school_year + 1}"
        if request.derogation:
            what += f" (dérogation : {request.derogation_reason})"
        return describe_member(context.member(request.person_id)), what

    def prices(self, request: SchoolRequest, draft, facts, rules, context, today: date) -> tuple[str, ...]:
        from counter.domain.tariffs import school_quote
        from counter.domain.visit_summary import qf_of, qf_text

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

    def papers(self, request: SchoolRequest, context, facts, today: date) -> tuple[Paper, ...]:
        return papers_needed(separated_parents=separated_parents(request, context),
                             address_confirmed_by=facts.address_confirmed_by)

    def view_lines(self, view) -> list[str]:
        return [f"École : {view.place or '—'} · niveau {view.level or '—'} · année {view.school_year_label}"]

    def detail_lines(self, detail) -> list[str]:
        v, d = detail.view, detail.details
        lines = self.view_lines(v)
        if d.get("derogation_reason"):
            lines.append(f"Dérogation : {d['derogation_reason']}")
        if d.get("canteen_days"):
            lines.append("Cantine : " + _days(d["canteen_days"]))
        if d.get("after_school_days"):
            lines.append("Périscolaire : " + _days(d["after_school_days"]))
        return lines


plugin = School()
