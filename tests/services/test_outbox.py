"""The outbox relay against the emulated city and Koha, in-process (httpx,
Starlette, the town's data and the store on SQLite and PostgreSQL are real).
What reached a target is counted on the emulator's side: its registrations,
its patrons, and the requests it received per idempotency key.
Time is an injected clock: no sleeps."""

from __future__ import annotations

import argparse
import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import yaml
from sqlmodel import select

from counter.domain.dates import BirthDate
from counter.domain.deliveries import (
    CITY_REGISTRATION,
    KOHA_PATRON,
    NO_GUARANTOR_NOTE,
    RELAY_KEY,
    card_notes,
    creche_body,
    idempotency_key,
    patron_body,
    school_body,
)
from counter.domain.names import split_given_names
from counter.domain.people import AddressView
from counter.domain.schooling import school_level
from counter.services.outbox import OutboxRelay, RelayReport, backoff, list_messages, retry
from counter.settings import EmulatorKnobs
from counter.store.models import Creche, OutboxMessage, Person, Registration, School, Visit
from fixtures.emulators.city.app import CityApp
from fixtures.emulators.city.app import error_body as city_error_body
from fixtures.emulators.city.world import NEXT_YEAR, of_town
from fixtures.emulators.knobs import in_process_transport
from fixtures.emulators.koha.app import KohaApp
from fixtures.emulators.koha.app import error_body as koha_error_body
from fixtures.emulators.koha.patrons import of_town as koha_of_town
from fixtures.emulators.plugin import EmulatorContext, emulated_transport
from fixtures.emulators.town_data import town_data
from registrations.creche.kind import CrecheRequest
from registrations.library.kind import LibraryRequest
from registrations.school.kind import SchoolRequest
from tests.backends.helpers import TODAY, make_backend

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "city-api.openapi.yaml"
LIBRARY = "BEL-CTR"


# -- the world around the relay -----------------------------------------------------------------


class Clock:
    """The relay's now, moved by the test."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture(scope="module")
def town():
    return town_data()


@pytest.fixture(scope="module")
def world(town):
    return of_town(town)


@pytest.fixture
def city_app(town):
    return CityApp(EmulatorContext(town=town))


@pytest.fixture
def koha_app(town):
    return KohaApp(EmulatorContext(town=town))


@pytest.fixture
async def backends():
    """``backends(city=transport, koha=transport)`` → {name: backend}; all closed after the test."""
    opened = []

    def build(**transports) -> dict:
        made = {name: make_backend(name, transport) for name, transport in transports.items()}
        opened.extend(made.values())
        return made

    yield build
    for backend in opened:
        await backend.aclose()


def up(app, error_body) -> httpx.AsyncBaseTransport:
    return in_process_transport(app.asgi(), None, error_body)


def down(kind: str) -> httpx.AsyncBaseTransport:
    return emulated_transport(kind, EmulatorKnobs(down=True))


@dataclass(frozen=True)
class Sent:
    message_id: int
    registration_id: int
    key: str


_visits = iter(range(1, 10_000))


def person_row(town_person: dict) -> Person:
    """The counter's record of a town person (the same identity the agencies know)."""
    return Person(birth_name=town_person["birth_name"], usage_name=town_person["usage_name"],
                  given_names=town_person["given_names"], sex=town_person["sex"],
                  birth_year=town_person["birth_year"], birth_month=town_person["birth_month"],
                  birth_day=town_person["birth_day"], email=town_person["email"], phone=town_person["phone"])


def add(store, kind: str, build, *, person: Person | None = None, target: str | None = None,
        uai: str | None = None, creche_code: str | None = None, attempts: int = 0,
        lease_until: datetime | None = None) -> Sent:
    """A confirmed visit's registration and its outbox message, as the confirming transaction writes them.

    ``build(person_id)`` gives (operation, payload) from the domain builders.
    """
    code = f"V{next(_visits):05d}"
    with store.write() as session:
        person_id = None
        if person is not None:
            session.add(person)
            session.flush()
            person_id = person.id
        school_id = creche_id = None
        if uai is not None:
            school = session.exec(select(School).where(School.uai == uai)).first()
            if school is None:
                school = School(uai=uai, name=f"École {uai}", kind="maternelle")
                session.add(school)
                session.flush()
            school_id = school.id
        if creche_code is not None:
            creche = session.exec(select(Creche).where(Creche.code == creche_code)).first()
            if creche is None:
                creche = Creche(code=creche_code, name=f"Crèche {creche_code}", capacity=60)
                session.add(creche)
                session.flush()
            creche_id = creche.id
        visit = Visit(code=code, person_id=person_id, agent_login="agent", state="confirmed", confirmed_at=T0)
        session.add(visit)
        session.flush()
        state = {"school": "registered", "creche": "waiting_list", "library": "to_deliver"}[kind]
        registration = Registration(visit_id=visit.id, person_id=person_id, kind=kind, state=state,
                                    school_year=NEXT_YEAR if kind == "school" else None, school_id=school_id,
                                    creche_id=creche_id, rank=1 if kind == "creche" else None)
        session.add(registration)
        session.flush()
        operation, payload = build(person_id)
        key = idempotency_key(code, registration.id)
        message = OutboxMessage(registration_id=registration.id,
                                target=target or ("koha" if operation == KOHA_PATRON else "city"),
                                operation=operation, payload=json.dumps(payload, ensure_ascii=False, sort_keys=True),
                                idempotency_key=key, next_attempt_at=T0, attempts=attempts, lease_until=lease_until)
        session.add(message)
        session.flush()
        return Sent(message.id, registration.id, key)


def message(store, sent: Sent) -> OutboxMessage:
    with store.read() as session:
        return session.get(OutboxMessage, sent.message_id)


def registration(store, sent: Sent) -> Registration:
    with store.read() as session:
        return session.get(Registration, sent.registration_id)


def at(moment: datetime | None) -> datetime | None:
    """A stored time, compared in UTC whatever the database gives back."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# -- people of the town -------------------------------------------------------------------------


def city_people(town, world, keep):
    """(city key, town person) of people with a unique, complete identity that ``keep`` keeps."""
    for key in sorted(world.people):
        person = town.persons[int(key[1:])]
        if person["birth_day"] and len(town.candidates(person["birth_name"],
                                                       split_given_names(person["given_names"]))) == 1:
            if keep(key, person):
                yield key, person


def birth(person: dict) -> BirthDate:
    return BirthDate(person["birth_year"], person["birth_month"], person["birth_day"])


def room(world, uai: str, level: str) -> int:
    taken = sum(1 for e in world.enrolments.values()
                if (e.uai, e.level, e.school_year) == (uai, level, NEXT_YEAR) and e.takes_a_place)
    return world.capacity[(uai, level)] - taken


def toddlers(town, world):
    """Children of TPS age next year, with no school yet, whose sector maternelle has room."""
    return city_people(town, world, lambda key, p: (key, NEXT_YEAR) not in world.enrolments
                       and school_level(birth(p), NEXT_YEAR) == "TPS" and world.sector[key][0]
                       and room(world, world.sector[key][0], "TPS") > 0)


def babies(town, world):
    """Babies neither placed nor waiting for a crèche."""
    return city_people(town, world, lambda key, p: birth(p).age_on(TODAY) == 0
                       and key not in world.placements and key not in world.applications)


def tps(world, key: str, town_person: dict, *, city_id: bool = True, **changes):
    """(operation, body) builder of a TPS registration at the child's sector school."""
    uai = world.sector[key][0]

    def build(person_id):
        request = SchoolRequest(person_id=person_id, school_year=NEXT_YEAR, level="TPS", school_id=1,
                                canteen_days=("lun", "mar", "jeu", "ven"), **changes)
        return CITY_REGISTRATION, school_body(request, person_row(town_person), uai, key if city_id else None)

    return build


def creche(key: str | None, town_person: dict | None, codes=("CR02", "CR01"), **options):
    def build(person_id):
        request = CrecheRequest(creche_ids=(1, 2), start_date=date(2027, 1, 4), days_per_week=3,
                                hours_per_week=27, person_id=person_id,
                                due_date=None if person_id else date(2027, 3, 1))
        person = person_row(town_person) if town_person and person_id else None
        return CITY_REGISTRATION, creche_body(request, person, list(codes), key, None, **options)

    return build


NEW_READER = Person(birth_name="OUTBOXIER", usage_name=None, given_names="Camille, Rose", sex="F", birth_year=1990,
                    birth_month=5, birth_day=17, email="camille@example.org")
HOME = AddressView(number=12, suffix="bis", street="rue des Lilas", postal_code="45999", city="Bellerive-sur-Loire")


CARD_UNTIL = date(2027, 11, 25)


def reader(person: Person = NEW_READER, category: str = "ADULTE", renew: bool = False):
    """(operation, payload) of a library card, with the relay's notes, as ``payload_builder`` makes it."""
    def build(person_id):
        request = LibraryRequest(person_id=person_id or 0, category=category, renew=renew)
        body = patron_body(request, person, HOME, LIBRARY, None, valid_until=CARD_UNTIL)
        return KOHA_PATRON, {**body, RELAY_KEY: card_notes(person, None, TODAY)}
    return build


def copy(person: Person) -> Person:
    return Person(**person.model_dump(exclude={"id", "search_text"}))


def registrations_of(city_app, city_id: str) -> list[dict]:
    return [r for r in city_app.registrations.values() if r.get("person_id") == city_id]


# -- payloads -------------------------------------------------------------------------------------


def test_payload_builders_follow_the_contracts():
    child = Person(birth_name="MARTIN", usage_name=None, given_names="Léa, Anne", sex="F", birth_year=2024,
                   birth_month=3, birth_day=None)
    request = SchoolRequest(person_id=7, school_year=2027, level="TPS", school_id=2, sector_school_id=3,
                            derogation_reason=" Frère ou sœur déjà scolarisé ",
                            canteen_days=("ven", "lun"), after_school_days=("mer",))
    assert school_body(request, child, "0459033Z", "P000007") == {
        "kind": "school", "person_id": "P000007", "school_year": 2027, "uai": "0459033Z", "level": "TPS",
        "canteen_days": ["mon", "fri"], "after_school_days": ["wed"],
        "derogation_reason": "Frère ou sœur déjà scolarisé"}
    in_sector = school_body(SchoolRequest(7, 2027, "TPS", 3, 3, derogation_reason="x"), child, "0459033Z", None,
                            address=HOME)
    assert "derogation_reason" not in in_sector and "person_id" not in in_sector
    assert in_sector["person"] == {
        "birth_name": "MARTIN", "usage_name": None, "given_names": ["Léa", "Anne"], "sex": "F",
        "birth_date": "2024-03", "address": {"street_line": "12 bis rue des Lilas", "complement": None,
                                             "postal_code": "45999", "city": "Bellerive-sur-Loire"}}

    unborn = CrecheRequest(creche_ids=(1,), start_date=date(2027, 9, 1), days_per_week=2, hours_per_week=18,
                           due_date=date(2027, 3, 1))
    assert creche_body(unborn, None, ["CR01"], None, "P000001") == {
        "kind": "creche", "expected_birth": {"due_date": "2027-03-01", "parent_person_id": "P000001"},
        "creche_ids": ["CR01"], "start_date": "2027-09-01", "days": ["mon", "tue"]}
    by_identity = creche_body(unborn, None, ["CR01"], None, None, parent=NEW_READER, days=("jeu", "lun"))
    assert by_identity["expected_birth"]["parent"]["birth_date"] == "1990-05-17"
    assert by_identity["days"] == ["mon", "thu"]
    with pytest.raises(ValueError):
        creche_body(unborn, None, ["CR01", None], None, "P000001")

    adult = patron_body(LibraryRequest(1, "ADULTE"), NEW_READER, HOME, LIBRARY, None, valid_until=CARD_UNTIL)
    assert adult == {"surname": "OUTBOXIER", "firstname": "Camille", "middle_name": "Rose",
                     "date_of_birth": "1990-05-17", "gender": "F", "library_id": LIBRARY, "category_id": "ADULTE",
                     "expiry_date": "2027-11-25",
                     "email": "camille@example.org", "street_number": "12 bis", "address": "rue des Lilas",
                     "postal_code": "45999", "city": "Bellerive-sur-Loire"}
    mother = Person(birth_name="MARTIN", usage_name="DURAND", given_names="Anne", sex="F", birth_year=1990,
                    birth_month=1, birth_day=2)
    assert card_notes(child, mother, TODAY) == {
        "reader": {"birth_name": "MARTIN", "usage_name": None, "given_names": ["Léa", "Anne"], "sex": "F",
                   "birth_date": "2024-03"},
        "guarantor": {"birth_name": "MARTIN", "usage_name": "DURAND", "given_names": ["Anne"], "sex": "F",
                      "birth_date": "1990-01-02"},
        "relationship": "mère", "on": "2026-11-25"}
    linked = patron_body(LibraryRequest(2, "ENFANT", guarantor_id=1), child, None, LIBRARY, 4321)
    unlinked = patron_body(LibraryRequest(2, "ENFANT", guarantor_id=1), child, None, LIBRARY, None)
    assert linked["guarantor_id"] == 4321 and "staff_notes" not in linked
    assert "guarantor_id" not in unlinked and unlinked["staff_notes"] == NO_GUARANTOR_NOTE
    assert linked["date_of_birth"] == "2024-03-01"  # Koha needs a full date: unknown parts are 01

    key = idempotency_key("2026-ABCDEF", 1841)
    assert key == idempotency_key("2026-ABCDEF", 1841) == "counter-2026-ABCDEF-reg-1841"
    assert key != idempotency_key("2026-ABCDEF", 1842)
    longest = idempotency_key("x y/" * 20, 2**63 - 1)
    assert len(longest) <= 64 and longest.isascii() and " " not in longest


def test_backoff_is_exponential_capped_and_honours_retry_in():
    assert [backoff(n) for n in (1, 2, 3, 4)] == [5, 10, 20, 40]
    assert backoff(30) == backoff(100) == 900
    assert backoff(1, retry_in=42) == 42 and backoff(5, retry_in=1) == 80 and backoff(1, retry_in=10**6) == 900


# -- delivering -----------------------------------------------------------------------------------


async def test_while_targets_are_down_messages_stay_pending_with_backoff(store, town, world, backends):
    key, child = next(toddlers(town, world))
    school = add(store, "school", tps(world, key, child), person=person_row(child), uai=world.sector[key][0])
    card = add(store, "library", reader(), person=copy(NEW_READER))
    clock = Clock()
    relay = OutboxRelay(store, backends(city=down("city"), koha=down("koha")), clock, owner="a")

    assert await relay.run_once() == RelayReport(retried=2)
    for sent in (school, card):
        row = message(store, sent)
        assert (row.state, row.attempts, row.lease_until) == ("pending", 1, None)
        assert at(row.next_attempt_at) == T0 + timedelta(seconds=5)
        assert row.last_error.startswith("Essai 1 : Source injoignable")
        assert registration(store, sent).delivery == "pending"

    clock.advance(4)
    assert (await relay.run_once()).total == 0  # not due yet
    clock.advance(1)
    assert await relay.run_once() == RelayReport(retried=2)
    assert at(message(store, school).next_attempt_at) == clock.now + timedelta(seconds=10)
    assert message(store, card).attempts == 2


async def test_back_up_each_message_is_delivered_exactly_once(store, town, world, city_app, koha_app, backends):
    key, child = next(toddlers(town, world))
    school = add(store, "school", tps(world, key, child), person=person_row(child), uai=world.sector[key][0])
    card = add(store, "library", reader(), person=copy(NEW_READER))
    clock = Clock()
    await OutboxRelay(store, backends(city=down("city"), koha=down("koha")), clock, owner="a").run_once()

    # A restart: a brand-new relay, the targets back.
    clock.advance(5)
    relay = OutboxRelay(store, backends(city=up(city_app, city_error_body), koha=up(koha_app, koha_error_body)),
                        clock, owner="b")
    assert await relay.run_once() == RelayReport(delivered=2)
    for _ in range(3):
        clock.advance(3600)
        assert (await relay.run_once()).total == 0

    assert city_app.received[school.key] == 1
    [made] = registrations_of(city_app, key)
    assert made["state"] == "pending"
    assert koha_app.request_ids[card.key] == 1
    [patron] = [p for p in koha_app.created if p["surname"] == "OUTBOXIER"]
    row = message(store, school)
    assert (row.state, row.external_ref, row.attempts, row.lease_until, row.last_error) == (
        "delivered", made["id"], 2, None, None)
    assert at(row.delivered_at) == T0 + timedelta(seconds=5)
    assert (registration(store, school).delivery, registration(store, school).external_ref) == ("delivered", made["id"])
    assert registration(store, school).state == "registered"  # the local state is kept
    assert message(store, card).external_ref == str(patron["patron_id"])
    assert (registration(store, card).delivery, registration(store, card).state) == ("delivered", "registered")


async def test_a_renewal_reaches_the_reader_s_koha_record_exactly_once(store, town, koha_app, backends):
    patrons = koha_of_town(town)
    person_of = {patron_id: person_id for person_id, patron_id in patrons.patron_of.items()}
    # A married reader whose expired card carries her usage name: the relay must find it, not make another.
    row, person = next((r, town.persons[person_of[r["patron_id"]]]) for r in patrons.rows
                       if r["expiry_date"] < "2026-11-25" and town.persons[person_of[r["patron_id"]]]["usage_name"]
                       and r["surname"] == town.persons[person_of[r["patron_id"]]]["usage_name"]
                       and town.persons[person_of[r["patron_id"]]]["birth_day"])
    card = add(store, "library", reader(person_row(person), renew=True), person=person_row(person))
    clock = Clock()
    await OutboxRelay(store, backends(koha=down("koha")), clock, owner="a").run_once()
    clock.advance(5)
    relay = OutboxRelay(store, backends(koha=up(koha_app, koha_error_body)), clock, owner="b")
    assert await relay.run_once() == RelayReport(delivered=1)
    clock.advance(3600)
    assert (await relay.run_once()).total == 0

    assert koha_app.request_ids[card.key] == 1 and koha_app.created == []
    assert koha_app.updated[row["patron_id"]]["expiry_date"] == "2027-11-25"
    assert koha_app.updated[row["patron_id"]]["date_renewed"] == "2026-11-25"
    assert message(store, card).external_ref == str(row["patron_id"])


async def test_two_relays_at_once_never_send_a_message_twice(store, town, world, city_app, backends):
    children = [next(toddlers(town, world))] + [b for b, _ in zip(babies(town, world), range(7))]
    sent = [add(store, "school", tps(world, *children[0]), person=person_row(children[0][1]),
                uai=world.sector[children[0][0]][0])]
    sent += [add(store, "creche", creche(key, baby), person=person_row(baby), creche_code="CR02")
             for key, baby in children[1:]]
    clock = Clock()
    first = OutboxRelay(store, backends(city=up(city_app, city_error_body)), clock, owner="counter-1")
    second = OutboxRelay(store, backends(city=up(city_app, city_error_body)), clock, owner="counter-2")
    reports = await asyncio.gather(first.run_once(), second.run_once())
    assert sum(r.delivered for r in reports) == len(sent) and sum(r.total for r in reports) == len(sent)
    assert all(city_app.received[s.key] == 1 for s in sent)
    assert len(city_app.registrations) == len(sent)
    for (key, _), s in zip(children, sent):
        assert len(registrations_of(city_app, key)) == 1
        assert message(store, s).state == "delivered"
    # The town's waiting list rank is kept beside the counter's provisional one.
    assert {registration(store, s).rank for s in sent[1:]} == {1}
    ranks = {registration(store, s).town_rank for s in sent[1:]}
    assert len(ranks) == len(sent) - 1 and min(ranks) > max(a.rank for a in world.applications.values())


async def test_a_refusal_is_kept_with_a_french_reason_until_retried(store, town, world, city_app, backends):
    def full(key, person):
        level = school_level(birth(person), NEXT_YEAR)
        return (key, NEXT_YEAR) not in world.enrolments and level is not None and any(
            level in s["levels"] and room(world, u, level) <= 0 for u, s in world.schools.items())

    key, pupil = next(city_people(town, world, full))
    level = school_level(birth(pupil), NEXT_YEAR)
    uai = next(u for u, s in sorted(world.schools.items()) if level in s["levels"] and room(world, u, level) <= 0)

    def build(person_id):
        request = SchoolRequest(person_id=person_id, school_year=NEXT_YEAR, level=level, school_id=1,
                                sector_school_id=2, derogation_reason="Lieu de travail d'un parent")
        return CITY_REGISTRATION, school_body(request, person_row(pupil), uai, key)

    refused = add(store, "school", build, person=person_row(pupil), uai=uai)
    baby_key, baby = next(babies(town, world))
    invalid = add(store, "creche", creche(baby_key, baby, codes=("CR99",)), person=person_row(baby))
    clock = Clock()
    relay = OutboxRelay(store, backends(city=up(city_app, city_error_body)), clock, owner="a")

    assert await relay.run_once() == RelayReport(refused=2)
    row = message(store, refused)
    assert row.state == "refused" and row.attempts == 1 and row.lease_until is None
    assert row.last_error == ("Refusé par « city » (capacity_full) : "
                              "Plus de place à ce niveau dans cette école pour cette année scolaire.")
    assert registration(store, refused).delivery == "refused"
    assert message(store, invalid).last_error == (
        "Refusé par « city » (invalid_request) : La mairie a refusé la demande (données refusées : creche_ids) : "
        "« 1 to 3 distinct known crèche ids ».")
    for error in (row.last_error, message(store, invalid).last_error):
        assert pupil["birth_name"] not in error and baby["birth_name"] not in error

    clock.advance(86_400)
    assert (await relay.run_once()).total == 0
    assert city_app.received[refused.key] == 1  # never retried on its own

    assert retry(store, "refused", now=clock.now) == 2
    assert (message(store, refused).state, registration(store, refused).delivery) == ("pending", "pending")
    assert [m.id for m in list_messages(store, "pending")] == [refused.message_id, invalid.message_id]
    assert await relay.run_once() == RelayReport(refused=2)  # re-evaluated: still full
    assert city_app.received[refused.key] == 2 and message(store, refused).attempts == 2
    assert retry(store, [refused.message_id], now=clock.now) == 1


async def test_a_crashed_relays_lease_expires(store, town, world, city_app, backends):
    key, child = next(toddlers(town, world))
    # What a relay that claimed the message and then died leaves behind.
    sent = add(store, "school", tps(world, key, child), person=person_row(child), uai=world.sector[key][0],
               attempts=1, lease_until=T0 + timedelta(seconds=60))
    clock = Clock()
    relay = OutboxRelay(store, backends(city=up(city_app, city_error_body)), clock, owner="b")
    assert (await relay.run_once()).total == 0
    clock.advance(59)
    assert (await relay.run_once()).total == 0 and city_app.received[sent.key] == 0
    clock.advance(1)
    assert await relay.run_once() == RelayReport(delivered=1)
    assert message(store, sent).attempts == 2 and city_app.received[sent.key] == 1


class Gate(httpx.AsyncBaseTransport):
    """Holds POSTs until opened: a relay stalled in the middle of a delivery."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.entered = asyncio.Event()
        self.opened = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            self.entered.set()
            await self.opened.wait()
        return await self.inner.handle_async_request(request)


async def test_a_stalled_relay_cannot_overwrite_the_relay_that_took_over(store, town, world, city_app, backends):
    key, child = next(toddlers(town, world))
    sent = add(store, "school", tps(world, key, child), person=person_row(child), uai=world.sector[key][0])
    clock = Clock()
    gate = Gate(up(city_app, city_error_body))
    stalled = OutboxRelay(store, backends(city=gate), clock, owner="stalled")
    taking_over = OutboxRelay(store, backends(city=up(city_app, city_error_body)), clock, owner="fresh")
    first = asyncio.create_task(stalled.run_once())
    await gate.entered.wait()
    clock.advance(61)  # the stalled relay's lease is over
    assert await taking_over.run_once() == RelayReport(delivered=1)
    gate.opened.set()
    assert (await first).total == 0  # its late answer (a replay) is not recorded
    row = message(store, sent)
    assert (row.state, row.attempts) == ("delivered", 2)
    assert city_app.received[sent.key] == 2 and len(registrations_of(city_app, key)) == 1


async def test_run_forever_delivers_until_stopped(store, town, world, city_app, backends):
    key, child = next(toddlers(town, world))
    sent = add(store, "school", tps(world, key, child), person=person_row(child), uai=world.sector[key][0])
    gate = Gate(up(city_app, city_error_body))
    relay = OutboxRelay(store, backends(city=gate), Clock(), owner="app")
    stop = asyncio.Event()
    running = asyncio.create_task(relay.run_forever(stop, interval=3600))
    await gate.entered.wait()
    stop.set()  # the delivery under way is finished, then the loop ends without waiting an interval
    gate.opened.set()
    await running
    assert message(store, sent).state == "delivered" and city_app.received[sent.key] == 1


async def test_wake_delivers_a_new_message_without_waiting_the_interval(store, town, world, city_app, backends):
    gate = Gate(up(city_app, city_error_body))
    relay = OutboxRelay(store, backends(city=gate), Clock(), owner="app")
    stop = asyncio.Event()
    running = asyncio.create_task(relay.run_forever(stop, interval=3600))
    await asyncio.sleep(0)  # let it find nothing due and start waiting; no time passes
    key, child = next(toddlers(town, world))
    sent = add(store, "school", tps(world, key, child), person=person_row(child), uai=world.sector[key][0])
    relay.wake()  # a visit was confirmed
    await asyncio.wait_for(gate.entered.wait(), 30)  # a guard only: without wake() it would wait an hour
    stop.set()
    gate.opened.set()
    await running
    assert message(store, sent).state == "delivered"


async def test_a_family_new_to_the_town_is_created_by_the_city(store, town, world, city_app, backends):
    newcomer = Person(birth_name="NOUVELARRIVANT", given_names="Noé", sex="M", birth_year=NEXT_YEAR - 2,
                      birth_month=2, birth_day=14)
    known_key, known = next((k, p) for k, p in toddlers(town, world) if room(world, world.sector[k][0], "TPS") >= 2)
    # The newcomers move next door to a family the city knows: the same school sector.
    address = town.home_address(known["id"])
    home = AddressView(number=address["number"], suffix=address["suffix"],
                       street=town.streets[address["street_id"]]["name"], postal_code=address["postal_code"],
                       city=address["city"])

    def new_child(person_id):
        request = SchoolRequest(person_id=person_id, school_year=NEXT_YEAR, level="TPS", school_id=1)
        return CITY_REGISTRATION, school_body(request, newcomer, world.sector[known_key][0], None, address=home)

    def by_identity(person_id):
        request = SchoolRequest(person_id=person_id, school_year=NEXT_YEAR, level="TPS", school_id=1,
                                sector_school_id=1)
        return CITY_REGISTRATION, school_body(request, person_row(known), world.sector[known_key][0], None)

    def unborn(person_id):
        request = CrecheRequest(creche_ids=(1,), start_date=date(2027, 6, 1), days_per_week=4, hours_per_week=36,
                                due_date=date(2027, 3, 1))
        return CITY_REGISTRATION, creche_body(request, None, ["CR03"], None, None, parent=copy(NEW_READER),
                                              address=home)

    created = add(store, "school", new_child, person=copy(newcomer))
    found = add(store, "school", by_identity, person=person_row(known))
    expected = add(store, "creche", unborn)
    clock = Clock()
    city = backends(city=up(city_app, city_error_body))["city"]
    relay = OutboxRelay(store, {"city": city}, clock, owner="a")
    assert await relay.run_once() == RelayReport(delivered=3)

    from counter.domain.deliveries import contract_identity
    from counter.domain.deliveries import contract_person

    city_id = await city.find_person(contract_identity(contract_person(newcomer)))
    assert city_id is not None and city_id not in world.people
    [made] = registrations_of(city_app, city_id)
    assert made["state"] == "pending"  # the city placed the new address in its school sector
    assert message(store, created).external_ref == made["id"]
    assert city_app.families[city_app.created[city_id]["family_id"]]["members"] == [
        {"person_id": city_id, "role": "child"}]
    # Someone the city knew is registered under their own record, not created again.
    assert len(registrations_of(city_app, known_key)) == 1
    stored = json.loads(message(store, found).payload)
    assert stored["person_id"] == known_key and "person" not in stored and stored["_relay"] == {"resolved": True}
    # An expected birth: the parent is created, the application waits with its rank.
    [application] = [r for r in city_app.registrations.values() if "expected_birth" in r]
    assert application["state"] == "waiting" and application["expected_birth"]["due_date"] == "2027-03-01"
    assert city_app.created[application["expected_birth"]["parent_person_id"]]["birth_name"] == "OUTBOXIER"
    assert message(store, expected).external_ref == application["id"]
    assert registration(store, expected).town_rank == application["creche"]["rank"]
    assert len(city_app.created) == 2
    # Both answers have the fields the contract documents.
    registration_schema = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))["components"]["schemas"]["Registration"]
    for answer in (made, application):
        assert set(registration_schema["required"]) <= set(answer) <= set(registration_schema["properties"])


async def test_a_missing_or_disabled_backend_is_waited_for(store, town, world):
    key, child = next(toddlers(town, world))
    sent = add(store, "school", tps(world, key, child), person=person_row(child), uai=world.sector[key][0],
               target="city-annex")
    relay = OutboxRelay(store, {}, Clock(), owner="a")
    assert await relay.run_once() == RelayReport(retried=1)
    row = message(store, sent)
    assert row.state == "pending" and "non configurée ou désactivée" in row.last_error


# -- the command ---------------------------------------------------------------------------------


def test_the_outbox_command_lists_retries_and_delivers(store, town, world, tmp_path, capsys):
    from counter.cli import outbox as cli_outbox
    from counter.runtime import Runtime

    key, child = next(toddlers(town, world))
    sent = add(store, "school", tps(world, key, child), person=person_row(child), uai=world.sector[key][0])
    with store.write() as session:
        row = session.get(OutboxMessage, sent.message_id)
        row.state, row.last_error = "refused", "Refusé par « city » (capacity_full) : Plus de place."
        session.add(row)
    parser = argparse.ArgumentParser(prog="counter")
    cli_outbox.register(parser.add_subparsers(dest="command"))
    runtime = Runtime(mode="training", data_dir=tmp_path,
                      database_url=store.url.render_as_string(hide_password=False))

    def run(*argv: str) -> tuple[int, str]:
        status = cli_outbox.run(runtime, parser.parse_args(["outbox", *argv]))
        return status, capsys.readouterr().out

    status, out = run("list", "--state", "refused")
    assert status == 0 and "capacity_full" in out and "city.registration" in out
    assert f"{sent.registration_id} (school)" in out
    assert run("list", "--state", "delivered") == (0, "no delivered messages\n")
    assert run("retry")[0] == 1
    assert run("retry", "--refused") == (0, "1 message(s) due now\n")
    status, out = run("deliver")
    assert (status, out) == (0, "delivered 1, to retry later 0, refused 0\n")
    assert message(store, sent).state == "delivered"
    assert run("retry", str(sent.message_id)) == (0, "0 message(s) due now\n")  # never sent twice


# -- cancellations (city contract 1.2) ------------------------------------------------------------


async def test_a_delivered_registration_s_cancellation_reaches_the_city_once_after_it_was_down(
        store, town, world, city_app, koha_app, backends):
    from counter.services.registrations import RegistrationService

    key, child = next(toddlers(town, world))
    baby_key, baby = next(babies(town, world))
    school = add(store, "school", tps(world, key, child), person=person_row(child), uai=world.sector[key][0])
    application = add(store, "creche", creche(baby_key, baby, codes=("CR01",)), person=person_row(baby),
                      creche_code="CR01")
    card = add(store, "library", reader(), person=copy(NEW_READER))
    clock = Clock()
    targets = {"city": up(city_app, city_error_body), "koha": up(koha_app, koha_error_body)}
    assert await OutboxRelay(store, backends(**targets), clock).run_once() == RelayReport(delivered=3)
    length = city_app.waiting_list_length()

    supervisor = RegistrationService(store, "chef", "supervisor", host="poste-9", now=clock)
    results = [supervisor.cancel(sent.registration_id, "Famille partie") for sent in (school, application, card)]
    assert all(r.cancellation_message is not None for r in results[:2]) and results[2].cancellation_message is None
    assert "L'annulation sera transmise à « city »" in results[0].message
    assert "Koha n'a rien à annuler" in results[2].message

    # The city is down when the relay tries: kept, retried with backoff (the rest of the run leaves it alone).
    assert await OutboxRelay(store, backends(city=down("city"), koha=down("koha")), clock).run_once() == \
        RelayReport(retried=1)
    clock.advance(5)
    relay = OutboxRelay(store, backends(**targets), clock, owner="after-restart")
    assert await relay.run_once() == RelayReport(delivered=2)
    for _ in range(3):
        clock.advance(3600)
        assert (await relay.run_once()).total == 0

    with store.read() as session:
        cancellations = session.exec(select(OutboxMessage).where(OutboxMessage.operation == "city.cancellation")
                                     .order_by(OutboxMessage.id)).all()
    assert [m.registration_id for m in cancellations] == [school.registration_id, application.registration_id]
    assert [m.state for m in cancellations] == ["delivered"] * 2 and [m.attempts for m in cancellations] == [2, 1]
    assert all(m.idempotency_key.endswith(f"-cancel-{m.registration_id}") for m in cancellations)
    assert all(city_app.cancel_received[m.idempotency_key] == 1 for m in cancellations)
    assert set(city_app.cancelled) == {registration(store, school).external_ref,
                                       registration(store, application).external_ref}
    assert city_app.waiting_list_length() == length - 1  # the application left the town's list
    assert city_app.enrolment(key, NEXT_YEAR) is None  # and the school place is the town's again
    for sent in (school, application, card):
        assert (registration(store, sent).state, registration(store, sent).delivery) == ("cancelled", "delivered")
    assert len(koha_app.created) == 1  # Koha was told nothing more
    assert [m.operation for m in list_messages(store)] == [
        "city.registration", "city.registration", "koha.patron", "city.cancellation", "city.cancellation"]


async def test_a_refused_cancellation_waits_for_a_supervisor_and_leaves_the_registration_delivered(
        store, town, world, backends):
    from counter.services.registrations import RegistrationService

    key, child = next(toddlers(town, world))
    school = add(store, "school", tps(world, key, child), person=person_row(child), uai=world.sector[key][0])
    with store.write() as session:  # delivered by an earlier session of the emulator, which forgot it
        row = session.get(OutboxMessage, school.message_id)
        row.state, row.external_ref = "delivered", "REG-424242"
        session.get(Registration, school.registration_id).delivery = "delivered"
    clock = Clock()
    RegistrationService(store, "chef", "supervisor", host="poste-9", now=clock).cancel(school.registration_id, "x")
    relay = OutboxRelay(store, backends(city=up(CityApp(EmulatorContext(town=town)), city_error_body)), clock)
    assert await relay.run_once() == RelayReport(refused=1)
    refused = [m for m in list_messages(store) if m.operation == "city.cancellation"][0]
    assert refused.state == "refused" and "prévenez le service" in refused.last_error
    assert registration(store, school).delivery == "delivered"  # the registration itself did arrive
    assert retry(store, "refused", now=clock()) == 1
    assert registration(store, school).delivery == "delivered"
