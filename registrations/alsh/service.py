"""Holiday accueil de loisirs, the store side: the weeks and places a visit's
form offers, a place or a rank for each week at confirmation, the family
system's registration body.

Places as the counter knows them: the town's places per week and age group
(``PLACES``, the town's data) minus the places this counter's live ALSH
registrations hold; the waiting lists likewise. Both are provisional (the
receipt says so): the town's family system answers each week with the place or
the rank it gives, and has the last word. Each registration keeps what it was
given in its ``details`` (``places``: week, group, rank or None), from which
the next ones count.
"""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import bindparam, text

from counter.domain.dates import BirthDate
from counter.domain.kinds import BaseKindService, Registered
from counter.domain.visits import RegState
from registrations.alsh.calendar import DEFAULT_ZONE, bookable_weeks, coming_holidays, shipped_calendar
from registrations.alsh.kind import KIND_ID, PROVISIONAL_NOTE, period_of
from registrations.alsh.rules import (
    AgeGroup,
    Places,
    alsh_body,
    groups_of,
    overall_state,
    place_weeks,
    receipt_detail,
)

# The town's places per week and age group (the fictional town's: its family
# system says the same, fixtures/data/alsh.toml).
PLACES = {AgeGroup.MATERNELLE: 24, AgeGroup.ELEMENTAIRE: 36}
_LIVE = f"kind = '{KIND_ID}' AND state != 'cancelled'"


def held(connection) -> list[tuple[int | None, dict]]:
    """(person id, details) of every live ALSH registration."""
    rows = connection.execute(text(f"SELECT person_id, details FROM registration WHERE {_LIVE}")).all()
    found = []
    for row in rows:
        try:
            details = json.loads(row.details or "{}")
        except ValueError:
            continue
        if isinstance(details, dict):
            found.append((row.person_id, details))
    return found


def places_now(connection, mondays) -> Places:
    """The places of these weeks: the town's, minus what live registrations hold."""
    places = Places()
    for monday in mondays:
        for group in AgeGroup:
            places.capacity[(monday, group)] = PLACES[group]
    for _, details in held(connection):
        for place in details.get("places") or ():
            try:
                key = (date.fromisoformat(place["week"]), AgeGroup(place["group"]))
            except (KeyError, TypeError, ValueError):
                continue
            if key[0] not in mondays:
                continue
            if place.get("rank") is None:
                places.taken[key] = places.taken.get(key, 0) + 1
            else:
                places.waiting[key] = places.waiting.get(key, 0) + 1
    return places


class AlshService(BaseKindService):
    def context_data(self, connection, household_id, person_ids, today: date):
        calendar = shipped_calendar()
        period = coming_holidays(calendar, DEFAULT_ZONE, today)
        weeks = bookable_weeks(period, today) if period else ()
        places = places_now(connection, {w.monday for w in weeks})
        booked: dict[int, list[str]] = {}
        for person_id, details in held(connection):
            if person_id in person_ids:
                booked.setdefault(person_id, []).extend(str(w) for w in details.get("weeks") or ())
        schooled = []
        if person_ids:
            schooled = sorted(connection.execute(text(
                "SELECT DISTINCT person_id FROM registration WHERE kind = 'school' AND state != 'cancelled' "
                "AND person_id IN :ids").bindparams(bindparam("ids", expanding=True)),
                {"ids": [int(i) for i in person_ids]}).scalars())
        return {
            "zone": DEFAULT_ZONE,
            "period": period.key if period else None,
            # A place for a newcomer: none while families wait for the week (they come first).
            "places": {w.monday.isoformat(): {g.value: 0 if places.waiting.get((w.monday, g)) else
                                              places.available(w.monday, g) for g in AgeGroup}
                       for w in weeks},
            "booked": sorted([p, sorted(set(weeks))] for p, weeks in booked.items()),
            "schooled": schooled,
        }

    def prepare(self, session, store, requests) -> None:
        """PostgreSQL: one confirmation at a time counts and takes ALSH places
        (SQLite's BEGIN IMMEDIATE already holds every writer)."""
        if store.dialect == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(hashtext('counter.alsh.places'))"))

    def register(self, session, registration, request) -> Registered:
        # Checked before the transaction too; here, under the lock (prepare), another
        # counter's registration of this child for one of the weeks is seen.
        taken = {w for person_id, details in held(session) if person_id == request.person_id
                 for w in details.get("weeks") or ()}
        if taken & set(request.weeks):
            from counter.domain.visits import FieldError
            from counter.services.visits import VisitError

            raise VisitError([(0, FieldError("weeks", "Un autre guichet vient d'inscrire cet enfant pour "
                                                      "l'une de ces semaines : rien n'a été enregistré."))])
        period = period_of(request)
        person = session.execute(text(
            "SELECT birth_year, birth_month, birth_day FROM person WHERE id = :id"), {"id": request.person_id}).one()
        birth = BirthDate(person.birth_year, person.birth_month, person.birth_day)
        weeks = groups_of(request, period, birth)
        outcome = place_weeks(weeks, places_now(session.connection(), {w.monday for w, _ in weeks}))
        details = json.loads(registration.details or "{}")
        details["places"] = [{"week": p.monday.isoformat(), "group": p.group.value, "rank": p.rank} for p in outcome]
        registration.details = json.dumps(details, ensure_ascii=False, sort_keys=True)
        state = RegState(overall_state(outcome))
        rank = next((p.rank for p in outcome if not p.placed), None) if state is RegState.WAITING_LIST else None
        registration.rank = rank
        detail = receipt_detail(outcome)
        return Registered(state, rank, f"{PROVISIONAL_NOTE} {detail[0].upper()}{detail[1:]}.")

    def payload(self, request, registration_id, state, delivery) -> tuple[str, dict]:
        from counter.domain.deliveries import CITY_REGISTRATION

        member = delivery.context.member(request.person_id)
        return CITY_REGISTRATION, alsh_body(request, member, delivery.city_id(request.person_id),
                                            address=delivery.context.address)

    def cancelled(self, session, store, registration, previous: str) -> bool:
        # The places it held count no more once its state is cancelled (places_now
        # counts live registrations): given back when it held any.
        return previous == "registered"


service = AlshService()
