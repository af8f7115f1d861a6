"""The family system's change feed pulled into the counter, on SQLite and PostgreSQL,
against the emulated city in-process (httpx, Starlette, the town's data and the
store are real). The emulator's feed starts with the town's families; tests
script changes, merges and removals on it. Interruptions and concurrent passes
are made with transports that fail or wait on events, and injected clocks: no sleeps."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select

from counter.domain.deliveries import CITY_REGISTRATION, school_body
from counter.domain.people import AddressView
from counter.services.family_sync import FEED, LEASE, FamilySync, SyncBusy, SyncFailed, sync_status
from counter.services.outbox import OutboxRelay, RelayReport
from counter.services.search import SearchService
from counter.store.engine import Store
from counter.store.models import (
    AuditEntry,
    DuplicateReview,
    Household,
    HouseholdMember,
    Person,
    SyncState,
    Visit,
)
from fixtures.emulators.city import emulator
from fixtures.emulators.knobs import in_process_transport
from fixtures.emulators.plugin import EmulatorContext
from fixtures.emulators.town_data import town_data
from registrations.school.kind import SchoolRequest
from tests.backends.helpers import make_backend

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Failing(httpx.AsyncBaseTransport):
    """The city, until it stops answering after ``answers`` requests."""

    def __init__(self, inner: httpx.AsyncBaseTransport, answers: int) -> None:
        self.inner, self.answers = inner, answers

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.answers <= 0:
            raise httpx.ConnectError("the city went away", request=request)
        self.answers -= 1
        return await self.inner.handle_async_request(request)


class Gated(httpx.AsyncBaseTransport):
    """The city, answering the first request only once ``release`` is set."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.entered, self.release = asyncio.Event(), asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not self.entered.is_set():
            self.entered.set()
            await self.release.wait()
        return await self.inner.handle_async_request(request)


@pytest.fixture
def city():
    """The emulator's app; ``city.state.city`` scripts its feed."""
    return emulator.create_app(EmulatorContext(town=town_data()))


@pytest.fixture
async def backend_on():
    opened = []

    def build(transport: httpx.AsyncBaseTransport):
        backend = make_backend("city", transport)
        opened.append(backend)
        return backend

    yield build
    for backend in opened:
        await backend.aclose()


def transport(app) -> httpx.AsyncBaseTransport:
    return in_process_transport(app, None, emulator.error_body)


def counted(store, model) -> int:
    with store.read() as session:
        return session.scalar(select(func.count()).select_from(model))


def state(store) -> SyncState:
    with store.read() as session:
        return session.get(SyncState, FEED)


def skip_history(store, app) -> None:
    """The counter has pulled the town's history (a test only applied its first pages)."""
    with store.write() as session:
        row = session.get(SyncState, FEED) or SyncState(name=FEED)
        row.cursor = f"c{len(app.state.city.history)}"
        session.add(row)


def person_of(store, source_id: str) -> Person | None:
    with store.read() as session:
        return session.scalar(select(Person).where(Person.source_id == source_id))


def household_of(store, source_id: str) -> Household | None:
    with store.read() as session:
        return session.scalar(select(Household).where(Household.source_id == source_id))


async def test_pages_are_applied_with_their_cursor_and_an_interrupted_pass_resumes(store, city, backend_on):
    first = FamilySync(store, backend_on(Failing(transport(city), answers=2)), clock=Clock(), limit=20)
    with pytest.raises(SyncFailed) as failed:
        await first.run()
    assert failed.value.report.pages == 2 and "injoignable" in failed.value.message
    stopped = state(store)
    assert stopped.cursor == "c40" and stopped.holder is None and stopped.last_success_at is None
    assert stopped.last_error.startswith("Source injoignable")
    applied = counted(store, Household)
    assert 35 <= applied <= 40  # a few families of the town are refused by the counter's rules

    again = FamilySync(store, backend_on(transport(city)), clock=Clock(T0 + timedelta(minutes=1)), limit=20)
    report = await again.run(max_pages=2)
    assert report.cursor == "c80" and not report.complete and report.pages == 2
    assert state(store).last_success_at is None  # stopped by a page limit: not in step yet
    assert report.created + report.rejected == 40 and report.updated == report.unchanged == 0
    with store.read() as session:
        ids = session.scalars(select(Household.source_id)).all()
    assert len(ids) == len(set(ids)) == applied + report.created
    assert sorted(ids)[0] == "F00001"

    # Pulling the same pages again (from the beginning) changes nothing and duplicates nothing.
    replay = FamilySync(store, backend_on(transport(city)), clock=Clock(T0 + timedelta(minutes=2)), limit=40)
    report = await replay.run(restart=True, max_pages=2)
    assert report.created == 0 and report.unchanged == len(ids) and counted(store, Household) == len(ids)
    # Each page is in the audit trail: counts and ids, no names.
    with store.read() as session:
        pages = session.scalars(select(AuditEntry).where(AuditEntry.action == "sync.page")).all()
    assert len(pages) == 6 and all(set(json.loads(p.details)) >= {"created", "rejected_ids"} for p in pages)


async def test_two_passes_at_once_one_is_refused_even_from_two_services(store, city, backend_on):
    gate = Gated(transport(city))
    other_service = Store(store.url)  # another service's engine on the same database
    try:
        running = asyncio.create_task(FamilySync(store, backend_on(gate), clock=Clock(), limit=10,
                                                 holder="one").run(max_pages=1))
        await gate.entered.wait()
        with pytest.raises(SyncBusy) as busy:
            await FamilySync(other_service, backend_on(transport(city)), clock=Clock(), holder="two").run()
        assert busy.value.holder == "one"
        assert sync_status(store, T0, configured=True, warn_after_hours=24).running
        gate.release.set()
        report = await running
        assert report.pages == 1 and state(store).holder is None
        # Once the first is done, the other service may run its pass.
        report = await FamilySync(other_service, backend_on(transport(city)), clock=Clock(), limit=10,
                                  holder="two").run(max_pages=1)
        assert report.cursor == "c20"
    finally:
        other_service.dispose()


async def test_a_crashed_pass_s_lease_runs_out_and_a_stalled_pass_cannot_commit_after_takeover(
        store, city, backend_on):
    with store.write() as session:  # a service died holding the lease
        session.add(SyncState(name=FEED, cursor=None, holder="dead", lease_until=T0 + LEASE))
    with pytest.raises(SyncBusy):
        await FamilySync(store, backend_on(transport(city)), clock=Clock(T0)).run()
    gate = Gated(transport(city))
    late = Clock(T0 + LEASE + timedelta(seconds=1))
    stalled = asyncio.create_task(FamilySync(store, backend_on(gate), clock=late, limit=10).run(max_pages=1))
    await gate.entered.wait()
    # The stalled pass's lease runs out too; another takes over and goes on.
    later = Clock(late.now + LEASE + timedelta(seconds=1))
    report = await FamilySync(store, backend_on(transport(city)), clock=later, limit=10).run(max_pages=1)
    assert report.cursor == "c10"
    gate.release.set()
    with pytest.raises(SyncFailed) as failed:
        await stalled
    assert "autre synchronisation" in failed.value.message
    assert state(store).cursor == "c10" and counted(store, Household) == report.created


async def test_changes_merges_removals_and_rejected_families_after_the_history(store, city, backend_on):
    clock = Clock()
    await FamilySync(store, backend_on(transport(city)), clock=clock, limit=12).run(max_pages=1)
    skip_history(store, city)
    app = city.state.city
    with store.read() as session:
        families = session.scalars(select(Household.source_id).order_by(Household.source_id)).all()
    changed, refused, removed, merged_family, kept_family, reviewed_family = families[:6]
    members = {f: app.family_now(f)["members"] for f in families[:6]}
    app.script_change(changed, members[changed][0]["person_id"], usage_name="NOUVEAUNOM", phone="0600000000")
    before = household_of(store, refused)
    app.script_change(refused, members[refused][0]["person_id"], nir="199999999999999")  # a wrong key
    gone = members[removed][0]
    app.script_removal(family_id=removed)
    # A merge the counter can apply (no history on the merged record)…
    merged, kept = members[merged_family][-1]["person_id"], members[kept_family][0]["person_id"]
    app.script_merge(merged, kept)
    # …one it must not (the merged record has a visit at the counter)…
    with_history, other = members[reviewed_family][-1]["person_id"], members[kept_family][-1]["person_id"]
    with store.write() as session:
        person = session.scalar(select(Person).where(Person.source_id == with_history))
        session.add(Visit(code="V-MERGE", person_id=person.id, agent_login="agent", state="confirmed"))
    app.script_merge(with_history, other)
    # …and one the counter only knows the merged side of: the same person, under the kept id.
    rekeyed = members[changed][-1]["person_id"]
    app.script_merge(rekeyed, "P999999")

    clock.now += timedelta(minutes=10)
    report = await FamilySync(store, backend_on(transport(city)), clock=clock).run()
    assert report.complete and report.rejected == 1 and report.rejected_ids == (refused,)
    assert report.merges == 2 and report.merges_to_review == 1 and report.removals == 1
    assert report.updated >= 1

    renamed = person_of(store, members[changed][0]["person_id"])
    assert renamed.usage_name == "NOUVEAUNOM" and renamed.phone == "0600000000"
    # The refused family is as it was, and the refusal is recorded with the field, not the value.
    after = household_of(store, refused)
    assert (after.id, after.caf_number, after.address_id) == (before.id, before.caf_number, before.address_id)
    assert person_of(store, members[refused][0]["person_id"]).nir != "199999999999999"
    with store.read() as session:
        last = session.scalars(select(AuditEntry).where(AuditEntry.action == "sync.page")
                               .order_by(AuditEntry.id.desc())).first()
    assert json.loads(last.details)["reasons"] == {refused: "nir"}
    assert "199999999999999" not in last.details
    # Removed: kept in the database, out of the search.
    assert household_of(store, removed).removed_at is not None
    person = person_of(store, gone["person_id"])
    assert person is not None and person.removed_at is not None
    found = SearchService(store).search(f"{gone['birth_name']} {gone['given_names'][0]}")
    assert all(r.person.id != person.id for r in found.results)
    # The merge applied: the merged record is out of its household and removed.
    merged_row = person_of(store, merged)
    assert merged_row.removed_at is not None
    with store.read() as session:
        assert not session.scalars(select(HouseholdMember).where(HouseholdMember.person_id == merged_row.id)).all()
        [review] = session.scalars(select(DuplicateReview)).all()
    assert (review.person_id, review.candidate_id) == (person_of(store, with_history).id, person_of(store, other).id)
    assert review.source == "sync" and review.state == "pending" and review.reasons == "merged_by_source"
    assert person_of(store, with_history).removed_at is None  # a supervisor decides
    assert person_of(store, "P999999") is not None and person_of(store, rekeyed) is None

    # The feed brings the removed family back (it returned to the town): live again.
    app.script_change(removed, caf_number=None)
    await FamilySync(store, backend_on(transport(city)), clock=clock).run()
    assert household_of(store, removed).removed_at is None and person_of(store, gone["person_id"]).removed_at is None
    status = sync_status(store, clock.now + timedelta(hours=25), configured=True, warn_after_hours=24)
    assert status.last_success_at == clock.now and status.stale and not status.running


async def test_a_family_made_at_the_counter_comes_back_through_the_feed_as_the_same_household(
        store, city, backend_on):
    from tests.factories import add_household, person
    from tests.services.test_outbox import add, room, toddlers

    town = town_data()
    world = city.state.city.world
    # A family new to the town, made at the counter (F6): a mother and her toddler.
    key, known = next((k, p) for k, p in toddlers(town, world) if room(world, world.sector[k][0], "TPS") >= 3)
    address = town.home_address(known["id"])
    street = town.streets[address["street_id"]]["name"]
    mother = person("NOUVELLEVILLE", "Inès", (1991, 5, 2))
    child = person("NOUVELLEVILLE", "Maël", (known["birth_year"], 3, 9), sex="M")
    home_id = add_household(store, street, address["number"], [(mother, "parent"), (child, "child")])
    with store.read() as session:
        child_id = session.scalar(select(Person.id).where(Person.given_names == "Maël"))
        child_row = session.get(Person, child_id)
    home = AddressView(number=address["number"], suffix=address["suffix"], street=street,
                       postal_code=address["postal_code"], city=address["city"])

    def registration(person_id):
        from fixtures.emulators.city.world import NEXT_YEAR

        request = SchoolRequest(person_id=person_id, school_year=NEXT_YEAR, level="TPS", school_id=1)
        return CITY_REGISTRATION, school_body(request, child_row, world.sector[key][0], None, address=home)

    sent = add(store, "school", registration)
    with store.write() as session:  # the registration is the counter's child's
        from counter.store.models import Registration

        session.get(Registration, sent.registration_id).person_id = child_id
    city_backend = backend_on(transport(city))
    assert await OutboxRelay(store, {"city": city_backend}, Clock()).run_once() == RelayReport(delivered=1)
    with store.read() as session:
        child_row = session.get(Person, child_id)
        household = session.get(Household, home_id)
    assert child_row.source_id == "PN00001" and household.source_id == "FN00001"

    # The feed brings the city's new family back: the same person, the same household.
    persons_before, households_before = counted(store, Person), counted(store, Household)
    skip_history(store, city)
    report = await FamilySync(store, city_backend, clock=Clock(T0 + timedelta(minutes=5))).run()
    assert report.created == 0 and report.rejected == 0 and report.unchanged + report.updated == 1
    assert (counted(store, Person), counted(store, Household)) == (persons_before, households_before)
    with store.read() as session:
        members = session.scalars(select(HouseholdMember.person_id).where(
            HouseholdMember.household_id == home_id).order_by(HouseholdMember.person_id)).all()
    assert child_id in members and len(members) == 2  # the mother, unknown to the city, stays


def test_a_person_the_counter_knows_the_city_id_of_is_registered_by_that_id(store):
    from counter.clock import FixedClock
    from counter.services.visits import VisitService, payload_builder
    from counter.store.models import School
    from tests.factories import add_household, person

    known = person("SYNCHRONE", "Léa", (2024, 2, 3), source_id="P000042")
    newcomer = person("SYNCHRONE", "Noé", (2024, 2, 3), sex="M")
    parent = person("SYNCHRONE", "Anne", (1990, 1, 1), source_id="P000041")
    household = add_household(store, "rue des Lilas", 3, [(parent, "parent"), (known, "child"),
                                                           (newcomer, "child")])
    with store.write() as session:
        school = School(uai="0459333A", name="École maternelle", kind="maternelle")
        session.add(school)
        session.flush()
        school_id = school.id
    visits = VisitService(store, FixedClock(T0.date()), "agent")
    context = visits.context(visits.start(household_id=household))
    build = payload_builder(store, context, T0.date())
    by_id = {m.given_names[0]: m.person_id for m in context.members}
    _, body = build(SchoolRequest(by_id["Léa"], 2027, "TPS", school_id), 1, None)
    assert body["person_id"] == "P000042" and "person" not in body
    _, body = build(SchoolRequest(by_id["Noé"], 2027, "TPS", school_id), 2, None)
    assert "person_id" not in body and body["person"]["given_names"] == ["Noé"]


async def test_a_cancelled_pass_keeps_its_pages_and_gives_the_lease_back(store, city, backend_on):
    """Ctrl+C on `counter sync`, or the service stopping: the pages committed stay, the lease
    is free at once (no wait for it to run out)."""
    def stop_after_the_first_page(done, remaining):
        asyncio.current_task().cancel()

    sync = FamilySync(store, backend_on(transport(city)), clock=Clock(), limit=10)
    with pytest.raises(asyncio.CancelledError):
        await sync.run(progress=stop_after_the_first_page)
    stopped = state(store)
    # The page under way when the cancellation came may still have committed, with its cursor.
    assert stopped.cursor in ("c10", "c20") and counted(store, Household) == int(stopped.cursor[1:])
    assert stopped.holder is None and stopped.last_error == "Synchronisation interrompue."
    report = await FamilySync(store, backend_on(transport(city)), clock=Clock(), limit=10).run(max_pages=1)
    assert report.cursor == f"c{int(stopped.cursor[1:]) + 10}"


async def test_f6_round_trip_through_a_confirmed_visit(store, city, backend_on):
    """A family new to the town made at the counter, a crèche application confirmed for its
    baby (the payload the service builds), the outbox relay, the city's answer, the feed."""
    from counter.clock import FixedClock
    from counter.domain.visits import VisitDraft
    from registrations.creche.kind import CrecheRequest
    from counter.services.visits import VisitService, payload_builder
    from counter.store.models import Creche
    from tests.factories import add_household, person

    home_id = add_household(store, "rue des Lilas", 3, [(person("ARRIVÉE", "Jeanne", (1993, 4, 2)), "parent"),
                                                       (person("ARRIVÉE", "Lou", (2026, 3, 9)), "child")])
    with store.write() as session:
        creche = Creche(code="CR01", name="Crèche familiale Pirouette", capacity=60)
        session.add(creche)
        session.flush()
        creche_id = creche.id
    today = T0.date()
    visits = VisitService(store, FixedClock(today), "agent", host="poste-1")
    visit_id = visits.start(household_id=home_id)
    context = visits.context(visit_id)
    baby = next(m.person_id for m in context.members if m.given_names[0] == "Lou")
    draft = VisitDraft(household_id=home_id, requests=[CrecheRequest((creche_id,), date(2027, 1, 4), 4, 32.0,
                                                                    person_id=baby)])
    visits.confirm(visit_id, draft, code="RCP-SYNC-0001", payloads=payload_builder(store, context, today))
    city_backend = backend_on(transport(city))
    relay = OutboxRelay(store, {"city": city_backend}, Clock(datetime.now(UTC) + timedelta(minutes=1)))
    assert await relay.run_once() == RelayReport(delivered=1)
    assert person_of(store, "PN00001").id == baby and household_of(store, "FN00001").id == home_id
    # The city made a family of its own for the baby: the feed brings it back.
    assert [c["type"] for c in city.state.city.changes] == ["family"]
    skip_history(store, city)
    before = counted(store, Person), counted(store, Household), counted(store, HouseholdMember)
    report = await FamilySync(store, city_backend, clock=Clock()).run()
    assert (report.created, report.rejected, report.unchanged + report.updated) == (0, 0, 1)
    assert (counted(store, Person), counted(store, Household), counted(store, HouseholdMember)) == before
