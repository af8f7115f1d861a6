"""One rate limiter per agency credential, counted where the agency counts: at the emulator."""

from __future__ import annotations

import asyncio

from backends.rate_limit import RateLimiter
from counter.backend import Status
from fixtures.emulators.plugin import emulated_transport
from fixtures.emulators.traffic import Traffic
from tests.backends.helpers import Clock, api_particulier
from tests.backends.test_api_particulier_emulator import ANNE, subject_of

SECTIONS = ("quotient_familial", "c2s", "eaje")


def town_subjects(count: int):
    """Adults of the town, each of another household (no two ask the same question)."""
    from fixtures.emulators.town_data import town_data

    town, households, subjects = town_data(), set(), []
    for person_id, person in town.persons.items():
        household = town.membership[person_id]["household_id"]
        if person["birth_year"] < 2000 and household not in households:
            households.add(household)
            subjects.append(subject_of(person_id))
        if len(subjects) == count:
            return subjects
    raise AssertionError("the town has fewer households")


def test_api_particulier_is_limited_to_twenty_a_second_unless_configured():
    from backends.api_particulier import ApiParticulierSettings

    assert ApiParticulierSettings(kind="api_particulier", recipient="21459999900015").requests_per_second == 20
    ap = api_particulier(emulated_transport("api_particulier"))
    assert ap.limiter.limit == 20
    slower = api_particulier(emulated_transport("api_particulier"), requests_per_second=5)
    assert slower.limiter.limit == 5


async def test_time_in_line_behind_the_limit_does_not_count_against_the_deadline():
    traffic = Traffic()
    # 5 a second, a 1 s deadline, 15 questions at once: the last waits about 3 s for its turn.
    ap = api_particulier(emulated_transport("api_particulier", traffic=traffic), requests_per_second=5, timeout=1.0)
    asked = [(section, subject) for subject in town_subjects(5) for section in SECTIONS]
    answers = await asyncio.gather(*(ap.fetch(section, subject) for section, subject in asked))
    await ap.aclose()
    assert len(traffic.arrivals) == 15 and traffic.busiest(1.0) <= 5
    statuses = {a.provenance.status for a in answers}
    assert statuses <= {Status.OK, Status.NOT_FOUND}, statuses


async def test_a_line_too_long_is_answered_at_once_with_the_wait_and_sends_nothing():
    traffic = Traffic()
    ap = api_particulier(emulated_transport("api_particulier", traffic=traffic))
    ap.limiter = RateLimiter(1, max_wait=0.5)  # one a second; half a second in line at most
    first, second = await asyncio.gather(ap.fetch("c2s", subject_of(ANNE)),
                                         ap.fetch("quotient_familial", subject_of(ANNE)))
    await ap.aclose()
    assert first.ok and len(traffic.arrivals) == 1
    assert second.provenance.status is Status.RATE_LIMITED and second.provenance.retry_in > 0.5
    assert "Trop de demandes en attente pour API Particulier" in second.provenance.message


async def test_above_the_apis_limit_its_429_and_retry_after_hold_every_request_of_the_token():
    clock = Clock()
    traffic = Traffic()
    # A limit set above the API's own: the API refuses the 21st request of the second.
    ap = api_particulier(emulated_transport("api_particulier", clock=clock, traffic=traffic),
                         requests_per_second=100, clock=clock)
    asked = [(section, subject) for subject in town_subjects(10) for section in SECTIONS]
    answers = await asyncio.gather(*(ap.fetch(section, subject) for section, subject in asked))
    refused = [a for a in answers if a.provenance.status is Status.RATE_LIMITED]
    assert refused and all(a.provenance.retry_in == 1.0 for a in refused)  # the API's Retry-After
    sent = len(traffic.arrivals)
    held = await ap.fetch("c2s", subject_of(ANNE), refresh=True)
    assert held.provenance.status is Status.RATE_LIMITED and held.provenance.message.startswith("Demande non envoyée")
    assert len(traffic.arrivals) == sent  # nothing sent while the API's wait lasts
    clock.advance(1)
    after = await ap.fetch("c2s", subject_of(ANNE), refresh=True)
    await ap.aclose()
    assert after.ok and len(traffic.arrivals) == sent + 1
