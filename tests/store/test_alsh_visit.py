"""The accueil de loisirs through the visit and registrations services, on SQLite
and PostgreSQL: what the form is offered, a place or a rank per week at
confirmation (never beyond the town's places), the outbox body, cancellation."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import text

from counter.clock import FixedClock
from counter.domain.kinds import kind
from counter.domain.visits import RegState, VisitDraft
from counter.services.registrations import RegistrationService
from counter.services.visits import VisitError, VisitService, payload_builder
from registrations.alsh.rules import AlshRequest
from registrations.alsh.service import PLACES
from tests.factories import add_household, person

TODAY = date(2026, 11, 25)  # the coming holidays (zone B): Noël 2026, weeks of 21 and 28 December
NOEL = "2026-noel-B"
WEEKS = ("2026-12-21", "2026-12-28")


@pytest.fixture
def family(store):
    household = add_household(store, "rue des Sablons", 86, [
        (person("DIALLO", "Aminata", (1988, 2, 3)), "parent"),
        (person("DIALLO", "Moussa", (2022, 6, 6), sex="M"), "child"),  # 4: maternelle
        (person("DIALLO", "Awa", (2018, 1, 1)), "child"),  # 8: élémentaire
        (person("DIALLO", "Ibrahim", (2024, 3, 1), sex="M"), "child"),  # 2: too young
    ])
    visits = VisitService(store, FixedClock(TODAY), "agent1", host="poste-1")
    members = visits.context(visits.start(household_id=household)).members
    return {"household": household, **{m.given_names[0]: m.person_id for m in members}}


def confirm(store, household: int, *requests, code: str):
    visits = VisitService(store, FixedClock(TODAY), "agent1", host="poste-1")
    visit_id = visits.start(household_id=household)
    draft = VisitDraft(household_id=household, requests=list(requests))
    payloads = payload_builder(store, visits.context(visit_id), TODAY)
    return visits, visits.confirm(visit_id, draft, code=code, payloads=payloads)


def test_the_form_is_offered_the_coming_holidays_and_their_places(store, family):
    visits = VisitService(store, FixedClock(TODAY), "agent1", host="poste-1")
    extra = visits.context(visits.start(household_id=family["household"])).extra["alsh"]
    assert extra["zone"] == "B" and extra["period"] == NOEL
    assert extra["places"] == {w: {"maternelle": 24, "elementaire": 36} for w in WEEKS}
    assert extra["booked"] == [] and extra["schooled"] == []


def test_two_weeks_confirmed_then_the_same_child_again_is_refused(store, family):
    visits, done = confirm(store, family["household"], AlshRequest(family["Moussa"], NOEL, WEEKS), code="RCP-ALSH-0001")
    outcome = done.outcomes[0]
    assert outcome.state is RegState.REGISTERED and outcome.rank is None
    assert "Semaine du 21/12/2026 (maternelle, 3-5 ans) : place réservée" in outcome.note
    with store.engine.connect() as c:
        row = c.execute(text("SELECT kind, state, details FROM registration")).one()
        message = c.execute(text("SELECT target, operation, payload FROM outbox")).one()
    assert (row.kind, row.state) == ("alsh", "registered")
    assert json.loads(row.details)["places"] == [{"week": w, "group": "maternelle", "rank": None} for w in WEEKS]
    assert (message.target, message.operation) == ("city", "city.registration")
    body = json.loads(message.payload)
    assert body["kind"] == "alsh" and body["weeks"] == list(WEEKS) and body["person"]["birth_name"] == "DIALLO"
    again = VisitService(store, FixedClock(TODAY), "agent1", host="poste-1")
    visit_id = again.start(household_id=family["household"])
    context = again.context(visit_id)
    assert context.extra["alsh"]["booked"] == [[family["Moussa"], list(WEEKS)]]
    assert context.extra["alsh"]["places"]["2026-12-21"] == {"maternelle": 23, "elementaire": 36}
    draft = VisitDraft(household_id=family["household"], requests=[AlshRequest(family["Moussa"], NOEL, WEEKS[:1])])
    with pytest.raises(VisitError, match="déjà inscrit pour la semaine du 21/12/2026"):
        again.confirm(visit_id, draft, code="RCP-ALSH-0002", payloads=payload_builder(store, context, TODAY))


def test_a_child_outside_3_to_11_is_refused_at_confirmation(store, family):
    with pytest.raises(VisitError, match="à partir de 3 ans"):
        confirm(store, family["household"], AlshRequest(family["Ibrahim"], NOEL, WEEKS), code="RCP-ALSH-0003")


def test_a_full_week_waits_and_a_cancellation_frees_the_place(store, family):
    children = [(person("MARTIN", f"Enfant{i:02d}", (2021, 1, 1 + i)), "child") for i in range(PLACES_M + 1)]
    crowd = add_household(store, "rue des Lilas", 3, [(person("MARTIN", "Claire", (1985, 1, 1)), "parent"),
                                                       *children])
    visits = VisitService(store, FixedClock(TODAY), "agent1", host="poste-1")
    ids = [m.person_id for m in visits.context(visits.start(household_id=crowd)).members if m.role == "child"]
    _, done = confirm(store, crowd, *(AlshRequest(i, NOEL, WEEKS[1:]) for i in ids), code="RCP-ALSH-0004")
    states = [(o.state, o.rank) for o in done.outcomes]
    assert states == [(RegState.REGISTERED, None)] * PLACES_M + [(RegState.WAITING_LIST, 1)]
    _, mine = confirm(store, family["household"], AlshRequest(family["Moussa"], NOEL, WEEKS), code="RCP-ALSH-0005")
    # A place on the 21st, the 28th full: still registered, with a rank for the full week.
    assert (mine.outcomes[0].state, mine.outcomes[0].rank) == (RegState.REGISTERED, None)
    assert "semaine du 28/12/2026 (maternelle, 3-5 ans) : liste d'attente, rang 2" in mine.outcomes[0].note

    result = RegistrationService(store, "chef", "supervisor", host="poste-9").cancel(
        done.outcomes[0].registration_id, "Famille partie")
    assert result.previous_state == "registered" and result.place_freed
    assert "Les places qu'elle tenait sont rendues." in result.message
    fresh = VisitService(store, FixedClock(TODAY), "agent1", host="poste-1")
    places = fresh.context(fresh.start(household_id=family["household"])).extra["alsh"]["places"]
    # The cancelled place counts no more, but two families wait for the week: none for a newcomer.
    assert places["2026-12-28"] == {"maternelle": 0, "elementaire": 36}
    with store.engine.connect() as c:
        held = [json.loads(d)["places"] for d in c.execute(text(
            "SELECT details FROM registration WHERE kind = 'alsh' AND state != 'cancelled'")).scalars()]
    assert sum(p["rank"] is None for places in held for p in places if p["week"] == WEEKS[1]) == PLACES_M - 1


def test_the_kind_words_the_summary_and_the_receipt(store, family):
    plugin = kind("alsh")
    visits = VisitService(store, FixedClock(TODAY), "agent1", host="poste-1")
    context = visits.context(visits.start(household_id=family["household"]))
    request = AlshRequest(family["Awa"], NOEL, WEEKS)
    who, what = plugin.describe(request, context, TODAY)
    assert who == "Awa DIALLO (née le 01/01/2018)"
    assert what == "Accueil de loisirs, vacances de Noël 2026 (zone B) : semaines du 21/12 et du 28/12/2026"
    assert plugin.short(request, context)[1] == "vacances de Noël 2026, 2 sem."
    assert plugin.state_wording(RegState.WAITING_LIST, 3) == ("sur liste d'attente", "rang provisoire 3")
    assert plugin.decode(plugin.encode(request)) == request


PLACES_M = PLACES[next(iter(PLACES))]


class Unchecked(VisitService):
    """The real service, as when two counters both passed the rules before either confirmed."""

    def check(self, *args, **kwargs):
        return []


def test_a_child_registered_meanwhile_at_another_counter_is_refused_in_the_transaction(store, family):
    confirm(store, family["household"], AlshRequest(family["Moussa"], NOEL, WEEKS[1:]), code="RCP-ALSH-0006")
    late = Unchecked(store, FixedClock(TODAY), "agent2", host="poste-2")
    visit_id = late.start(household_id=family["household"])
    draft = VisitDraft(household_id=family["household"], requests=[AlshRequest(family["Moussa"], NOEL, WEEKS)])
    with pytest.raises(VisitError, match="Un autre guichet vient d'inscrire cet enfant"):
        late.confirm(visit_id, draft, code="RCP-ALSH-0007", payloads=payload_builder(store, late.context(visit_id), TODAY))
    with store.engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM registration")).scalar_one() == 1
