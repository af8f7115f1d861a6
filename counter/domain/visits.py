"""A visit's registrations while they are typed: plain data, saved as JSON drafts.

Nothing here touches the database; the visit service validates a draft with
these rules and confirms it in one transaction.
"""

from __future__ import annotations

import calendar
import enum
import json
from dataclasses import asdict, dataclass, field, fields
from datetime import date
from typing import Any

from counter.domain.dates import BirthDate
from counter.domain.schooling import (
    CRECHE_MAX_YEARS,
    CRECHE_MAX_YEARS_DISABILITY,
    CRECHE_MIN_AGE,
    LEVELS,
    creche_entry_from,
    creche_leaving_age,
    latest_due_date,
    school_level,
    school_year_label,
)
from counter.domain.text import has_controls

WEEKDAYS = ("lun", "mar", "mer", "jeu", "ven")
SCHOOL_DAYS = ("lun", "mar", "jeu", "ven")  # canteen: the days with school
MAX_CRECHE_CHOICES = 3
MAX_DEROGATION_REASON = 500  # the town's family system takes 1 to 500 characters
# A start date beyond three years is a typing error (the due date's own limit,
# the 3rd month of pregnancy, is schooling.latest_due_date).
MAX_START_YEARS = 3
MAX_DECLARED_RESOURCES = 10_000_000  # € a year: far above the CNAF ceiling


class Kind(enum.StrEnum):
    SCHOOL = "school"
    CRECHE = "creche"
    LIBRARY = "library"


KIND_LABELS = {Kind.SCHOOL: "École", Kind.CRECHE: "Crèche", Kind.LIBRARY: "Bibliothèque"}


class RegState(enum.StrEnum):
    REGISTERED = "registered"
    WAITING_LIST = "waiting_list"
    DEROGATION_REQUESTED = "derogation_requested"
    TO_DELIVER = "to_deliver"
    CANCELLED = "cancelled"


STATE_LABELS = {
    RegState.REGISTERED: "inscrit(e)",
    RegState.WAITING_LIST: "sur liste d'attente",
    RegState.DEROGATION_REQUESTED: "dérogation demandée",
    RegState.TO_DELIVER: "à transmettre",
    RegState.CANCELLED: "annulé(e)",
}


class Request:
    """One registration a family asks for; each kind is a subclass.

    A plain class, not a dataclass: fields typed ``Request`` carry one of the
    subclasses, tagged with its kind on the wire (counter.wire.api.visits
    registers ``REQUEST_CLASSES``).
    """

    __slots__ = ()


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


@dataclass(frozen=True)
class LibraryRequest(Request):
    person_id: int
    category: str
    guarantor_id: int | None = None  # a child's card is linked to an adult
    renew: bool = False


# Every kind of request, once: the drafts' JSON and the wire name each by its kind.
REQUEST_CLASSES: dict[Kind, type[Request]] = {
    Kind.SCHOOL: SchoolRequest, Kind.CRECHE: CrecheRequest, Kind.LIBRARY: LibraryRequest,
}
_KIND_OF = {cls: kind for kind, cls in REQUEST_CLASSES.items()}
_CLASS_OF = REQUEST_CLASSES


def kind_of(request: Request) -> Kind:
    return _KIND_OF[type(request)]


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str  # French, shown at the field


@dataclass
class VisitDraft:
    """Everything typed during a visit, saved at every step."""

    household_id: int | None = None
    person_id: int | None = None
    requests: list[Request] = field(default_factory=list)
    # The household's quotient familial: from the dossier (agency) or typed (declared).
    qf_value: int | None = None
    qf_source: str | None = None  # agency | declared
    # EAJE inputs from the dossier, for the crèche tariff.
    eaje_children: int | None = None
    eaje_aeeh: int | None = None
    eaje_resources: int | None = None
    # A form being typed (its raw fields), so that a crash loses not even that.
    editing: dict | None = None
    # Each change the agent makes is numbered: the service keeps the newest, so
    # a save resent late (after the service came back) never overwrites a newer one.
    revision: int = 0

    def to_json(self) -> str:
        data = asdict(self)
        data["requests"] = [{"kind": kind_of(r).value, **_plain(asdict(r))} for r in self.requests]
        return json.dumps(data, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> VisitDraft:
        data = json.loads(text or "{}")
        requests = [_request(item) for item in data.pop("requests", [])]
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known}, requests=requests)


def _plain(data: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, date) else list(v) if isinstance(v, tuple) else v)
            for k, v in data.items()}


def _request(item: dict[str, Any]) -> Request:
    cls = _CLASS_OF[Kind(item.pop("kind"))]
    names = {f.name: f for f in fields(cls)}
    values = {}
    for key, value in item.items():
        if key not in names:
            continue
        if key in ("start_date", "due_date") and value:
            value = date.fromisoformat(value)
        elif isinstance(value, list):
            value = tuple(value)
        values[key] = value
    return cls(**values)


# -- validation: a French message at the field --------------------------------------


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


def check_library(request: LibraryRequest, birth: BirthDate, today: date, categories: set[str]) -> list[FieldError]:
    errors = []
    if request.category not in categories:
        errors.append(FieldError("category", "Catégorie de lecteur inconnue."))
    if birth.age_on(today) < 18 and request.guarantor_id is None:
        errors.append(FieldError("guarantor_id", "La carte d'un mineur est rattachée à un adulte responsable."))
    return errors


def duplicates(requests: list[Request]) -> list[FieldError]:
    """The same child twice in one visit for the same thing."""
    seen, errors = set(), []
    for request in requests:
        if isinstance(request, SchoolRequest):
            key = ("school", request.person_id, request.school_year)
        elif isinstance(request, CrecheRequest):
            key = ("creche", request.person_id, request.due_date) if request.person_id is None else ("creche", request.person_id)
        else:
            key = ("library", request.person_id)
        if key in seen:
            errors.append(FieldError("person_id", "Cette demande figure déjà dans la visite."))
        seen.add(key)
    return errors


