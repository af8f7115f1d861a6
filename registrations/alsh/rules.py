"""The holiday accueil de loisirs (ALSH): who may come, which weeks, what it
costs, the papers, the places, and how the receipt words it. Pure rules over
plain data; the town's figures (prices, places) come in as arguments.

- A child of 3 to 11 on the Monday of each week chosen: *maternelle* from 3 to
  5, *élémentaire* from 6 to 11 (the age on that Monday decides: a child who
  turns 6 during the holidays changes group between weeks).
- Weeks of the coming school holidays of the town's zone (calendar.py), not
  begun yet.
- A daily price by the family's quotient familial (QF), by brackets that are
  the town's; without a QF the family pays the top bracket, as for the school
  services (a QF the family declares is used, marked « déclaré », and its
  proof is asked for).
- Places per week and age group; a week without a place puts the child on
  that week's waiting list.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from counter.domain.dates import BirthDate
from counter.domain.papers import Paper
from counter.domain.tariffs import euros, qf_basis
from counter.domain.visits import FieldError, Request
from registrations.alsh.calendar import Calendar, Period, Week, bookable_weeks, coming_holidays, weeks_of

MIN_AGE, MAX_AGE = 3, 11
FIRST_ELEMENTARY_AGE = 6
KIND_LABEL = "Accueil de loisirs"
SHORT_LABEL = "Loisirs"  # the kind's label where columns are narrow (the visit's table, F9)


class AgeGroup(enum.StrEnum):
    MATERNELLE = "maternelle"
    ELEMENTAIRE = "elementaire"

    @property
    def label(self) -> str:
        return "maternelle, 3-5 ans" if self is AgeGroup.MATERNELLE else "élémentaire, 6-11 ans"


class AgeRefused(ValueError):
    """A child the accueil de loisirs does not take on that day; the message is French."""


def age_group(birth: BirthDate, monday: date) -> AgeGroup:
    """The child's group on a week's Monday; AgeRefused outside 3 to 11 years."""
    if birth.earliest() > monday:
        raise AgeRefused("L'enfant n'est pas encore né à cette date.")
    age = birth.age_on(monday)
    if age < MIN_AGE:
        raise AgeRefused(f"L'accueil de loisirs reçoit les enfants à partir de {MIN_AGE} ans : "
                         f"l'enfant aura {birth.age_text(monday)} le {monday:%d/%m/%Y}.")
    if age > MAX_AGE:
        raise AgeRefused(f"L'accueil de loisirs reçoit les enfants jusqu'à {MAX_AGE} ans : "
                         f"l'enfant aura {age} ans le {monday:%d/%m/%Y}.")
    return AgeGroup.MATERNELLE if age < FIRST_ELEMENTARY_AGE else AgeGroup.ELEMENTAIRE


# -- the request ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AlshRequest(Request):
    """A child registered for chosen weeks of one holiday period.

    ``weeks`` are the weeks' Mondays in ISO 8601 (``2026-12-21``), as drafts
    and deliveries carry them; ``period`` the calendar's key (``2026-noel-B``).
    """

    person_id: int
    period: str
    weeks: tuple[str, ...]

    @property
    def mondays(self) -> tuple[date, ...]:
        return tuple(date.fromisoformat(w) for w in self.weeks)


def check_alsh(request: AlshRequest, birth: BirthDate | None, today: date, calendar: Calendar, zone: str,
               booked: Iterable[str] = ()) -> list[FieldError]:
    """Every problem of the request, in French at its field. ``booked``: the
    Mondays (ISO) this child is already registered for (any visit)."""
    coming = coming_holidays(calendar, zone, today)
    if coming is None:
        last = calendar.last_day
        after = f" après le {last:%d/%m/%Y}" if last else ""
        return [FieldError("period", f"Calendrier des vacances scolaires non renseigné{after} : "
                                     "aucune semaine à proposer.")]
    if request.period != coming.key:
        return [FieldError("period", f"Les inscriptions sont ouvertes pour les {coming.label} seulement.")]
    errors: list[FieldError] = []
    if not request.weeks:
        return [FieldError("weeks", "Choisissez au moins une semaine.")]
    if len(set(request.weeks)) != len(request.weeks):
        errors.append(FieldError("weeks", "La même semaine est choisie deux fois."))
    open_weeks = {w.monday.isoformat(): w for w in bookable_weeks(coming, today)}
    for text in dict.fromkeys(request.weeks):
        week = open_weeks.get(text)
        if week is None:
            errors.append(FieldError("weeks", f"Semaine {_shown(text)} : hors des {coming.label} "
                                              "ou déjà commencée."))
            continue
        if text in set(booked):
            errors.append(FieldError("weeks", f"L'enfant est déjà inscrit pour la {week.label}."))
        if birth is None:
            continue
        try:
            age_group(birth, week.monday)
        except AgeRefused as refused:
            errors.append(FieldError("person_id", str(refused)))
            break  # one message says it: the other weeks are a few days apart
    return errors


def _shown(text: str) -> str:
    try:
        return f"du {date.fromisoformat(text):%d/%m/%Y}"
    except ValueError:
        return "inconnue"


def chosen_weeks(request: AlshRequest, period: Period) -> tuple[Week, ...]:
    """The request's weeks as the calendar has them, in calendar order (unknown ones left out)."""
    wanted = set(request.weeks)
    return tuple(w for w in weeks_of(period) if w.monday.isoformat() in wanted)


def groups_of(request: AlshRequest, period: Period, birth: BirthDate) -> tuple[tuple[Week, AgeGroup], ...]:
    """Each chosen week with the child's group on its Monday (AgeRefused outside the ages)."""
    return tuple((w, age_group(birth, w.monday)) for w in chosen_weeks(request, period))


# -- price -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DailyBracket:
    """The daily price up to a QF, inclusive; the last bracket has up_to=None."""

    up_to: int | None
    daily: Decimal

    @property
    def label(self) -> str:
        return f"QF jusqu'à {self.up_to}" if self.up_to is not None else "tarif plein"


# Bellerive-sur-Loire's prices for a day at the accueil de loisirs, meal and
# snack included (fictional, in the range of French towns of its size). A town
# sets its own in [registrations.alsh] (see docs/visits.md); the CAF's
# « aides aux temps libres » are deducted by the town's billing, not here.
DEFAULT_BRACKETS = (
    DailyBracket(400, Decimal("4.50")),
    DailyBracket(700, Decimal("7.00")),
    DailyBracket(1000, Decimal("10.50")),
    DailyBracket(1400, Decimal("14.00")),
    DailyBracket(None, Decimal("18.00")),
)


def check_brackets(brackets: Sequence[DailyBracket]) -> None:
    """ValueError (English, for the configuration) unless ascending, ending with the full price."""
    if not brackets:
        raise ValueError("at least one bracket is required")
    if brackets[-1].up_to is not None:
        raise ValueError("the last bracket is the full price (no up_to)")
    limits = [b.up_to for b in brackets[:-1]]
    if any(limit is None or limit < 0 for limit in limits) or limits != sorted(set(limits)):
        raise ValueError("up_to must increase, each once")
    if any(b.daily < 0 for b in brackets):
        raise ValueError("a price is never negative")


def daily_bracket(qf: int | None, brackets: Sequence[DailyBracket]) -> DailyBracket:
    """The bracket of a QF; no QF: the full price (the last bracket)."""
    if qf is None:
        return brackets[-1]
    if qf < 0:
        raise ValueError("a quotient familial is never negative")
    return next(b for b in brackets if b.up_to is None or qf <= b.up_to)


@dataclass(frozen=True)
class WeekPrice:
    week: Week
    days: int
    daily: Decimal

    @property
    def total(self) -> Decimal:
        return self.daily * self.days

    @property
    def text(self) -> str:
        days = f"{self.days} jour{'s' if self.days > 1 else ''}"
        return f"{self.week.label.capitalize()} : {days} × {euros(self.daily)} = {euros(self.total)}"


@dataclass(frozen=True)
class AlshQuote:
    weeks: tuple[WeekPrice, ...]
    bracket: DailyBracket
    basis: str  # French: which QF the price comes from
    declared: bool
    full_price: bool

    @property
    def total(self) -> Decimal:
        return sum((w.total for w in self.weeks), Decimal("0.00"))

    def lines(self) -> tuple[str, ...]:
        """The receipt's and the summary's price lines."""
        if self.full_price:
            head = f"Prix par jour : {euros(self.bracket.daily)} (tarif plein, sans quotient familial)"
        else:
            head = f"Prix par jour selon le {self.basis} : {euros(self.bracket.daily)}"
        return (head, *(w.text for w in self.weeks), f"Total : {euros(self.total)}")


def alsh_quote(weeks: Sequence[Week], qf_value: int | None, qf_source: str | None,
               brackets: Sequence[DailyBracket] = DEFAULT_BRACKETS) -> AlshQuote:
    bracket = daily_bracket(qf_value, brackets)
    basis, declared = qf_basis(qf_value, qf_source)
    prices = tuple(WeekPrice(w, len(w.days), bracket.daily) for w in weeks)
    return AlshQuote(prices, bracket, basis, declared, full_price=qf_value is None)


# -- papers ------------------------------------------------------------------------------------

HEALTH_RECORD = "Carnet de santé (pages des vaccinations) ou certificat de vaccination"
INSURANCE = "Attestation d'assurance extrascolaire (responsabilité civile et individuelle accident)"
QF_PROOF = "Attestation de quotient familial de la CAF ou de la MSA (sans elle : tarif plein)"
# The town's schools checked the vaccinations when the child was enrolled.
SCHOOL_RECORD = "mairie (dossier scolaire)"


def alsh_papers(*, schooled_in_town: bool, qf_confirmed_by: str | None) -> tuple[Paper, ...]:
    """The papers for an ALSH registration, minus what an agency confirms.

    ``schooled_in_town``: the child is registered in one of the town's schools,
    whose record holds the vaccinations; ``qf_confirmed_by``: the agency that
    gave the quotient familial (CAF, MSA). Without it the family brings its QF
    attestation, or pays the full price.
    """
    return (Paper(HEALTH_RECORD, SCHOOL_RECORD if schooled_in_town else None), Paper(INSURANCE),
            Paper(QF_PROOF, qf_confirmed_by))


# -- places --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeekPlace:
    """One week of a registration: a place, or a rank on that week's waiting list."""

    monday: date
    group: AgeGroup
    rank: int | None = None  # None: a place

    @property
    def placed(self) -> bool:
        return self.rank is None

    @property
    def text(self) -> str:
        where = f"semaine du {self.monday:%d/%m/%Y} ({self.group.label})"
        return f"{where} : place réservée" if self.placed else f"{where} : liste d'attente, rang {self.rank}"


@dataclass
class Places:
    """Places per (Monday, group): the capacity, those taken, those waiting.

    What the town's family system says (its ``/v1/alsh/capacities``), plus what
    this counter booked since; :meth:`book` takes a place or a rank.
    """

    capacity: dict[tuple[date, AgeGroup], int] = field(default_factory=dict)
    taken: dict[tuple[date, AgeGroup], int] = field(default_factory=dict)
    waiting: dict[tuple[date, AgeGroup], int] = field(default_factory=dict)

    def available(self, monday: date, group: AgeGroup) -> int:
        key = (monday, group)
        return max(0, self.capacity.get(key, 0) - self.taken.get(key, 0))

    def book(self, monday: date, group: AgeGroup) -> WeekPlace:
        """A place when one is left (and nobody waits for it), else the end of the waiting list."""
        key = (monday, group)
        if self.available(monday, group) > 0 and not self.waiting.get(key, 0):
            self.taken[key] = self.taken.get(key, 0) + 1
            return WeekPlace(monday, group)
        self.waiting[key] = self.waiting.get(key, 0) + 1
        return WeekPlace(monday, group, self.waiting[key])


def place_weeks(weeks: Sequence[tuple[Week, AgeGroup]], places: Places) -> tuple[WeekPlace, ...]:
    return tuple(places.book(week.monday, group) for week, group in weeks)


def overall_state(outcome: Sequence[WeekPlace]) -> str:
    """The registration's state (RegState values): registered once a week has a place."""
    return "registered" if any(p.placed for p in outcome) else "waiting_list"


# -- the receipt ---------------------------------------------------------------------------------


def receipt_what(period: Period) -> str:
    """``Accueil de loisirs — vacances de Noël 2026 (zone B)``."""
    return f"{KIND_LABEL} — {period.label} (zone {period.zone})"


def receipt_detail(outcome: Sequence[WeekPlace]) -> str:
    """One line: each week, its group and what it got."""
    return " ; ".join(p.text for p in outcome)


def week_texts(weeks: Sequence[Week]) -> tuple[str, ...]:
    """The weeks as the form lists them: ``semaine du 21/12/2026 — 4 jours : lundi 21 décembre, …``."""
    return tuple(f"{w.label} — {w.days_label}" for w in weeks)


def places_from(answer: Mapping) -> Places:
    """Places from the town's ``GET /v1/alsh/capacities`` answer (already checked by the adapter)."""
    places = Places()
    for week in answer.get("weeks", ()):
        monday = date.fromisoformat(week["week"])
        for group in week["groups"]:
            key = (monday, AgeGroup(group["group"]))
            places.capacity[key] = group["capacity"]
            places.taken[key] = group["registered"]
            places.waiting[key] = group.get("waiting", 0)
    return places


# -- the delivery ----------------------------------------------------------------------------------

QF_SOURCES = {"CNAF": "caf", "CAF": "caf", "MSA": "msa", "declared": "declared"}


def alsh_body(request: AlshRequest, person, city_person_id: str | None, *, address=None,
              quote: AlshQuote | None = None, qf_value: int | None = None, qf_source: str | None = None) -> dict:
    """``POST /v1/registrations`` for the accueil de loisirs (contract 1.4).

    The child by the city's id when the counter has it, else by identity (the
    city creates them, living at ``address``); the weeks' Mondays in order;
    the daily price told to the family and the QF it comes from, when known.
    """
    from counter.domain.deliveries import contract_person

    body: dict = {"kind": "alsh"}
    if city_person_id:
        body["person_id"] = city_person_id
    elif person is not None:
        body["person"] = contract_person(person, address)
    else:
        raise ValueError("an ALSH registration needs the city's person id or the person")
    body["weeks"] = sorted(set(request.weeks))
    if quote is not None:
        body["daily_price"] = f"{quote.bracket.daily:.2f}"
    if qf_value is not None:
        body["quotient_familial"] = {"value": qf_value, "source": QF_SOURCES.get(qf_source or "declared", "caf")}
    return body
