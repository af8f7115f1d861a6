"""Holiday accueil de loisirs (ALSH): the declaration (pure: the domain and this
package's rules only). The rules are in rules.py, the calendar in calendar.py,
the visit's form in form.py, the store side in service.py.

What the kind's service part hands the form and the checks (``VisitContext.extra["alsh"]``,
plain JSON values: it crosses the socket), see :func:`extra_of`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from counter.domain.kinds import RegistrationKind, describe_member
from counter.domain.papers import Paper
from counter.domain.visits import STATE_LABELS, FieldError, RegState
from registrations.alsh.calendar import DEFAULT_ZONE, Period, Week, shipped_calendar
from registrations.alsh.rules import (
    DEFAULT_BRACKETS,
    KIND_LABEL,
    SHORT_LABEL,
    AgeGroup,
    AlshRequest,
    alsh_papers,
    alsh_quote,
    check_alsh,
    chosen_weeks,
)

KIND_ID = "alsh"
PROVISIONAL_NOTE = ("Accueil de loisirs : places et rangs sur liste d'attente provisoires, la mairie les confirme "
                    "à réception de l'inscription.")


@dataclass(frozen=True)
class AlshExtra:
    """What the service part found for this visit (see service.context_data)."""

    zone: str
    period: str | None  # the coming holidays' key; None beyond the calendar
    # Per bookable week (Monday, ISO): places left per group, as the counter knows them.
    places: dict[str, dict[str, int]]
    booked: dict[int, tuple[str, ...]]  # person → Mondays already registered (live registrations)
    schooled: frozenset[int]  # persons registered in a school of the town


def extra_of(context) -> AlshExtra:
    raw = (getattr(context, "extra", None) or {}).get(KIND_ID) or {}
    return AlshExtra(
        zone=raw.get("zone", DEFAULT_ZONE), period=raw.get("period"),
        places={w: dict(g) for w, g in (raw.get("places") or {}).items()},
        booked={int(p): tuple(weeks) for p, weeks in raw.get("booked") or ()},
        schooled=frozenset(int(p) for p in raw.get("schooled") or ()))


def period_of(request: AlshRequest) -> Period | None:
    return shipped_calendar().period(request.period)


def weeks_text(weeks: tuple[Week, ...]) -> str:
    """``semaines du 21/12 et du 28/12/2026``."""
    if not weeks:
        return "aucune semaine"
    if len(weeks) == 1:
        return weeks[0].label
    days = [f"du {w.monday:%d/%m}" for w in weeks[:-1]]
    return f"semaines {', '.join(days)} et du {weeks[-1].monday:%d/%m/%Y}"


class Alsh(RegistrationKind):
    id = KIND_ID
    label = SHORT_LABEL
    order = 40
    request_type = AlshRequest
    key, key_label = "a", "Loisirs"
    hint_label = "loisirs"
    place_freed = " Les places qu'elle tenait sont rendues."
    key_tooltip = "Ajouter une inscription à l'accueil de loisirs (vacances scolaires)."
    key_shown = False  # the footer at 80 columns is full: the key works, Ctrl+P lists it
    target = "city"
    capacity = "places"  # places per week and age group, else the week's waiting list

    def duplicate_key(self, request: AlshRequest) -> tuple:
        return (self.id, request.person_id, request.period)

    def check(self, request: AlshRequest, context, today: date, library_codes: set[str]) -> list[FieldError]:
        member = context.member(request.person_id)
        if member is None:
            return [FieldError("person_id", "Choisissez l'enfant.")]
        extra = extra_of(context)
        return check_alsh(request, member.birth, today, shipped_calendar(), extra.zone,
                          extra.booked.get(request.person_id, ()))

    def short(self, request: AlshRequest, context) -> tuple[str, str]:
        member = context.member(request.person_id)
        period = period_of(request)
        weeks = chosen_weeks(request, period) if period else ()
        what = f"{period.label if period else '?'}, {len(weeks)} sem."
        return (member.label if member is not None else "?"), what

    def describe(self, request: AlshRequest, context, today: date) -> tuple[str, str]:
        period = period_of(request)
        if period is None:
            return describe_member(context.member(request.person_id)), KIND_LABEL
        weeks = chosen_weeks(request, period)
        return (describe_member(context.member(request.person_id)),
                f"{KIND_LABEL}, {period.label} (zone {period.zone}) : {weeks_text(weeks)}")

    def prices(self, request: AlshRequest, draft, facts, rules, context, today: date) -> tuple[str, ...]:
        from counter.domain.visit_summary import qf_of

        period = period_of(request)
        if period is None:
            return ()
        qf, source = qf_of(draft, facts)
        if qf is None and facts.pending:
            return ("Prix par jour : calculé dès que la CAF donne le quotient familial",)
        return alsh_quote(chosen_weeks(request, period), qf, source, DEFAULT_BRACKETS).lines()

    def papers(self, request: AlshRequest, context, facts, today: date) -> tuple[Paper, ...]:
        provider = (facts.qf_provider or "CNAF") if facts.qf_value is not None else None
        return alsh_papers(schooled_in_town=request.person_id in extra_of(context).schooled,
                           qf_confirmed_by={"CNAF": "CAF"}.get(provider, provider))

    def state_wording(self, state, rank, *, rank_confirmed=False):
        if state is RegState.WAITING_LIST and rank:
            return STATE_LABELS[state], f"rang {rank}" if rank_confirmed else f"rang provisoire {rank}"
        if state is RegState.REGISTERED:
            return STATE_LABELS[state], "place réservée, sous réserve de la mairie"
        return super().state_wording(state, rank, rank_confirmed=rank_confirmed)

    def detail_lines(self, detail) -> list[str]:
        d = detail.details
        period = shipped_calendar().period(str(d.get("period")))
        lines = [f"{KIND_LABEL} : {period.label} (zone {period.zone})" if period else KIND_LABEL]
        for place in d.get("places") or ():
            if not isinstance(place, dict):
                continue
            group = {"maternelle": AgeGroup.MATERNELLE.label, "elementaire": AgeGroup.ELEMENTAIRE.label}.get(
                place.get("group"), str(place.get("group")))
            said = "place réservée" if place.get("rank") is None else f"liste d'attente, rang {place.get('rank')}"
            lines.append(f"Semaine du {_shown(place.get('week'))} ({group}) : {said}")
        return lines


def _shown(text) -> str:
    try:
        return date.fromisoformat(text).strftime("%d/%m/%Y")
    except (TypeError, ValueError):
        return str(text)


plugin = Alsh()
