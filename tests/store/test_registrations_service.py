"""Finding and cancelling confirmed registrations, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import select

from counter.clock import FixedClock
from counter.domain.visits import VisitDraft
from counter.services.registrations import Forbidden, RegistrationError, RegistrationService
from counter.services.visits import VisitService
from counter.store.models import AuditEntry, Creche, OutboxMessage, Registration, School, SchoolCapacity
from registrations.creche.kind import CrecheRequest
from registrations.library.kind import LibraryRequest
from registrations.school.kind import SchoolRequest
from tests.factories import add_household, person

TODAY = date(2026, 11, 25)
YEAR = 2027  # the coming school year on TODAY
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


@dataclass(frozen=True)
class World:
    school_id: int
    creche_id: int
    code: str
    school: int  # Léa's school registration (took the last place)
    library: int  # Nadia's card
    creche: int  # Thi's crèche waiting list (rank 1)
    unborn: int  # an expected birth (rank 2)


def _payloads(request, registration_id, state):
    return ("city.registration", {"registration": registration_id})


@pytest.fixture
def world(store) -> World:
    household = add_household(store, "rue des Sablons", 86, [
        (person("GIRAUD", "Nadia", (1984, 5, 14)), "parent"),
        (person("GIRAUD", "Léa, Œlia", (2021, 3, 2)), "child"),
        (person("NGUYỄN", "Thị", (2026, 6, 1)), "child"),
    ])
    with store.write() as session:
        school = School(uai="0459999A", name="École Jules-Ferry", kind="elementaire")
        creche = Creche(code="CR-LUC", name="Les Lucioles", capacity=40)
        session.add_all([school, creche])
        session.flush()
        session.add(SchoolCapacity(school_id=school.id, school_year=YEAR, level="CP", capacity=1))
        school_id, creche_id = school.id, creche.id
    visits = VisitService(store, FixedClock(TODAY), "agent1", host="poste-1")
    context_ids = [m.person_id for m in visits.context(visits.start(household_id=household)).members]
    nadia, lea, thi = context_ids
    visit_id = visits.start(household_id=household)
    draft = VisitDraft(household_id=household, requests=[
        SchoolRequest(lea, YEAR, "CP", school_id, school_id, canteen_days=("lun", "jeu"), separated_parents=False),
        LibraryRequest(nadia, "ADULTE"),
        CrecheRequest((creche_id,), date(2027, 1, 4), 4, 32.0, person_id=thi),
        CrecheRequest((creche_id,), date(2027, 9, 1), 5, 40.0, due_date=date(2027, 3, 1)),
    ])
    done = visits.confirm(visit_id, draft, code="RCP-7K3M-Q2XD", payloads=_payloads)
    school, library, creche_reg, unborn = (o.registration_id for o in done.outcomes)
    assert done.outcomes[0].state == "registered" and done.outcomes[3].rank == 2
    return World(school_id, creche_id, done.code, school, library, creche_reg, unborn)


def service(store, role: str = "supervisor", training: bool = False) -> RegistrationService:
    return RegistrationService(store, "chef", role, host="poste-9", training=training, now=lambda: NOW)


def booked(store, school_id: int) -> int:
    with store.read() as session:
        return session.exec(select(SchoolCapacity.booked).where(SchoolCapacity.school_id == school_id)).one()


def outbox_state(store, registration_id: int) -> str:
    with store.read() as session:
        return session.exec(select(OutboxMessage.state)
                            .where(OutboxMessage.registration_id == registration_id)).one()


def audit(store, action: str) -> list[AuditEntry]:
    with store.read() as session:
        return list(session.exec(select(AuditEntry).where(AuditEntry.action == action)).all())


# -- finding ----------------------------------------------------------------------------------


def test_search_by_code_any_case_lists_the_visit(store, world):
    found = service(store).search("rcp-7k3m-q2xd")
    assert {v.id for v in found} == {world.school, world.library, world.creche, world.unborn}
    school = next(v for v in found if v.id == world.school)
    assert (school.visit_code, school.kind_label, school.state_label) == ("RCP-7K3M-Q2XD", "École", "inscrit(e)")
    assert school.person_label == "Léa Œlia GIRAUD"
    assert (school.place, school.level, school.school_year_label) == ("École Jules-Ferry", "CP", "2027-2028")
    assert (school.delivery, school.delivery_label) == ("pending", "en attente")
    unborn = next(v for v in found if v.id == world.unborn)
    assert unborn.person_label == "Enfant à naître" and unborn.place == "Les Lucioles" and unborn.rank == 2
    assert service(store).search("RCP-0000-0000") == []


def test_search_by_folded_name_prefixes_newest_first(store, world):
    assert [v.id for v in service(store).search("gir lea")] == [world.school]
    assert [v.id for v in service(store).search("GIRAUD")] == [world.library, world.school]
    assert [v.id for v in service(store).search("oelia giraud")] == [world.school]
    assert [v.id for v in service(store).search("nguy")] == [world.creche]
    assert service(store).search("giraud zoe") == []
    assert service(store).search("  ") == [] and service(store).search("%") == []


def test_get_decodes_the_request_and_the_delivery(store, world):
    detail = service(store).get(world.school)
    assert detail.details["canteen_days"] == ["lun", "jeu"]
    assert (detail.outbox_state, detail.outbox_attempts, detail.outbox_target) == ("pending", 0, "city")
    lines = detail.lines()
    assert "Cantine : lundi, jeudi" in lines
    assert "Envoi à « city » : en attente" in lines
    creche = service(store).get(world.unborn)
    assert creche.choices == ("Les Lucioles",)
    assert any("naissance prévue le 01/03/2027" in line for line in creche.lines())
    with pytest.raises(RegistrationError, match="n'existe pas"):
        service(store).get(999_999)


# -- cancelling ----------------------------------------------------------------------------------


def test_supervisor_cancel_frees_the_place_and_stops_the_message(store, world):
    assert booked(store, world.school_id) == 1
    result = service(store).cancel(world.school, "  Déménagement   à Lyon ")
    assert result.place_freed and result.outbox == "cancelled" and result.previous_state == "registered"
    assert "place est rendue" in result.message and "ne sera pas transmise" in result.message
    assert booked(store, world.school_id) == 0
    assert outbox_state(store, world.school) == "cancelled"
    with store.read() as session:
        row = session.get(Registration, world.school)
        assert (row.state, row.cancelled_by, row.cancel_reason, row.delivery) == (
            "cancelled", "chef", "Déménagement à Lyon", "cancelled")
        assert row.cancelled_at is not None
    [entry] = audit(store, "registration.cancel")
    assert (entry.agent, entry.host, entry.target_id) == ("chef", "poste-9", str(world.school))
    assert json.loads(entry.details) == {"outbox": "cancelled", "place_freed": True, "previous_state": "registered"}
    assert "Lyon" not in entry.details  # the reason is personal: it stays on the registration
    view = service(store).search(world.code)
    cancelled = next(v for v in view if v.id == world.school)
    assert cancelled.state_label == "annulé(e)" and cancelled.delivery_label == "annulé"
    # The child may be registered again for that year.
    with store.engine.connect() as connection:
        assert connection.execute(text(
            "SELECT count(*) FROM registration WHERE person_id = (SELECT person_id FROM registration WHERE id = :id) "
            "AND kind = 'school' AND state != 'cancelled'"), {"id": world.school}).scalar_one() == 0


def test_relay_never_takes_a_cancelled_message(store, world):
    from counter.services.outbox import OutboxRelay

    service(store).cancel(world.school, "doublon")
    relay = OutboxRelay(store, {})
    taken = []
    while (claim := relay._claim(datetime.now(UTC) + timedelta(hours=1), frozenset())) is not None:
        taken.append(claim.registration_id)
        with store.write() as session:  # out of the way: the next claim looks further
            session.execute(text("UPDATE outbox SET state = 'delivered' WHERE id = :id"), {"id": claim.id})
    assert world.school not in taken and len(taken) == 3


def test_cancelling_a_card_koha_has_sends_nothing_and_says_to_warn_the_library(store, world):
    with store.write() as session:
        session.execute(text("UPDATE outbox SET state = 'delivered' WHERE registration_id = :r"),
                        {"r": world.library})
    result = service(store).cancel(world.library, "Erreur de saisie")
    assert result.outbox == "delivered" and not result.place_freed and result.cancellation_message is None
    assert "Koha n'a rien à annuler" in result.message and "Prévenez la médiathèque" in result.message
    assert outbox_state(store, world.library) == "delivered"
    with store.read() as session:  # nothing more to send
        assert len(session.exec(select(OutboxMessage).where(OutboxMessage.registration_id == world.library)).all()) == 1


def test_cancelling_a_waiting_list_place_moves_the_others_up(store, world):
    service(store).cancel(world.creche, "Place trouvée ailleurs")
    with store.read() as session:
        assert session.get(Registration, world.unborn).rank == 1
    assert booked(store, world.school_id) == 1  # a crèche cancel gives no school place back


def test_a_message_being_sent_cannot_be_cancelled_under_the_relay(store, world):
    with store.write() as session:
        session.execute(text("UPDATE outbox SET lease_until = :t WHERE registration_id = :r"),
                        {"t": NOW + timedelta(seconds=30), "r": world.school})
    with pytest.raises(RegistrationError, match="Envoi en cours"):
        service(store).cancel(world.school, "doublon")
    assert booked(store, world.school_id) == 1 and outbox_state(store, world.school) == "pending"
    with store.read() as session:
        assert session.get(Registration, world.school).state == "registered"


def test_an_agent_cannot_cancel_and_the_attempt_is_audited(store, world):
    with pytest.raises(Forbidden, match="Seul un superviseur peut annuler une inscription."):
        service(store, role="agent").cancel(world.school, "doublon")
    with pytest.raises(Forbidden):
        service(store, role="trainer").cancel(world.school, "doublon")  # trainers only in training
    refused = audit(store, "registration.cancel_refused")
    assert [(e.agent, e.target_id, json.loads(e.details)["role"]) for e in refused] == [
        ("chef", str(world.school), "agent"), ("chef", str(world.school), "trainer")]
    assert booked(store, world.school_id) == 1 and outbox_state(store, world.school) == "pending"
    assert audit(store, "registration.cancel") == []
    assert service(store, role="trainer", training=True).cancel(world.school, "exercice").place_freed


def test_cancelling_twice_is_refused_and_a_reason_is_required(store, world):
    with pytest.raises(RegistrationError, match="motif"):
        service(store).cancel(world.school, "   ")
    with pytest.raises(RegistrationError, match="trop long"):
        service(store).cancel(world.school, "x" * 301)
    service(store).cancel(world.school, "doublon")
    with pytest.raises(RegistrationError, match="déjà annulée"):
        service(store).cancel(world.school, "doublon")
    assert booked(store, world.school_id) == 0  # given back once only
    assert len(audit(store, "registration.cancel")) == 1


# -- the outbox --------------------------------------------------------------------------------------


def test_a_supervisor_relaunches_a_refused_message_only(store, world):
    with store.write() as session:
        session.execute(text("UPDATE outbox SET state = 'refused', last_error = 'Refusé' WHERE registration_id = :r"),
                        {"r": world.school})
        session.execute(text("UPDATE registration SET delivery = 'refused' WHERE id = :r"), {"r": world.school})
    messages = service(store).outbox_messages("refused")
    assert [m.registration_id for m in messages] == [world.school]
    with pytest.raises(Forbidden):
        service(store, role="agent").outbox_messages()
    with pytest.raises(Forbidden):
        service(store, role="agent").retry_message(messages[0].id)
    assert "relancé" in service(store).retry_message(messages[0].id)
    assert outbox_state(store, world.school) == "pending"
    with pytest.raises(RegistrationError, match="refusé"):
        service(store).retry_message(messages[0].id)  # pending now
    assert [json.loads(e.details) for e in audit(store, "outbox.retry")] == [{"count": 1}]
    assert len(audit(store, "outbox.retry_refused")) == 1
