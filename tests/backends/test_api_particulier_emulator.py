"""The adapter against the emulated API Particulier, in process: the town's
staging persons get their payloads, everyone else plausible generated facts;
failure knobs, caches and credentials end as the right statuses."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from urllib.parse import parse_qs

import httpx
import pytest

from counter.backend import (
    EajeInputs,
    Family,
    HealthCover,
    Identity,
    JobSeeker,
    QuotientFamilial,
    Schooling,
    Status,
    Subject,
)
from counter.domain.dates import BirthDate
from counter.domain.names import split_given_names
from counter.settings import EmulatorKnobs
from fixtures.emulators.api_particulier import error_body
from fixtures.emulators.api_particulier.generated import TownAgencies
from fixtures.emulators.plugin import emulated_transport
from fixtures.emulators.town_data import REFERENCE_DATE, town_data
from fixtures.town.staging import VARIANTS
from tests.backends.helpers import RECIPIENT, STATUS_OF_HTTP, TODAY, api_particulier, identity_of, open_backend

BASE = "http://emulated.invalid"
SECTION_OF_ENDPOINT = {
    "/v3/dss/quotient_familial/identite": "quotient_familial",
    "/v3/dss/complementaire_sante_solidaire/identite": "c2s",
    "/v3/dss/participation_familiale_eaje/identite": "eaje",
    "/v3/france_travail/statut/identifiant": "france_travail",
    "/v3/men/scolarites/identite": "scolarite",
}
# Payload files keyed on a deliberately altered identity (typos, fewer given
# names): the town's person is the nominal one, so their own request differs.
VARIANT_FILES = set(VARIANTS)


# -- helpers ------------------------------------------------------------------------------


def subject_of(person_id: int, today: date = TODAY, **changes) -> Subject:
    """The subject the dossier service would build from the town's records."""
    town = town_data()
    member = town.membership[person_id]
    members = tuple(
        (m["role"], identity_of(town.persons[m["person_id"]])) for m in town.members_of[member["household_id"]]
    )
    subject = Subject(person_id, identity_of(town.persons[person_id]), today, member["role"], None, members)
    return dataclasses.replace(subject, **changes)


def person_named(birth_name: str, given: str) -> int:
    town = town_data()
    return next(p["id"] for p in town.persons.values()
                if p["birth_name"] == birth_name and split_given_names(p["given_names"])[0] == given)


class Counting(httpx.AsyncBaseTransport):
    """Passes requests through to a real transport, keeping them."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self.inner.handle_async_request(request)


async def fetch(section: str, subject: Subject, *, refresh=False, timeout=2.0, **options):
    """One answer from a backend on the emulator (``knobs``, ``token``, ``secret``, ``training``)."""
    async with open_backend("api_particulier", recipient=RECIPIENT, timeout=timeout, **options) as ap:
        return await ap.fetch(section, subject, refresh=refresh)


def query(request: httpx.Request) -> dict[str, list[str]]:
    return parse_qs(request.url.query.decode())


# -- the town's staging persons -------------------------------------------------------------

STAGING_ROWS = [row for row in town_data().staging if row["payload_file"] not in VARIANT_FILES]


@pytest.mark.parametrize("row", STAGING_ROWS, ids=[r["payload_file"].split("/")[1] for r in STAGING_ROWS])
async def test_a_staging_person_gets_their_payload(row):
    """The adapter's request for the town's record is exactly the payload's key."""
    person = town_data().persons[row["person_id"]]
    section = SECTION_OF_ENDPOINT[row["endpoint"]]
    changes = {"role": "parent"}  # asked about themself (their household role is tested below)
    if section == "scolarite":
        changes["today"] = date(person["birth_year"] + 16, 10, 1)  # of school age
    answer = await fetch(section, subject_of(row["person_id"], **changes))
    assert answer.provenance.status is STATUS_OF_HTTP[row["status"]], answer.provenance.message
    if row["status"] == 200:
        assert answer.facts  # the payload's own values are checked in the conformance tests


def test_every_staging_row_but_the_variants_is_exercised():
    assert len(STAGING_ROWS) == len(town_data().staging) - len(VARIANT_FILES) == 117


async def test_giraud_anne_quotient_familial():
    answer = await fetch("quotient_familial", subject_of(person_named("GIRAUD", "Anne")))
    assert answer.first(QuotientFamilial) == QuotientFamilial(1200, "CNAF", 2023, 6)
    assert answer.provenance.as_of == date(2023, 6, 1)


async def test_desfouin_rene_is_rate_limited_with_the_wait():
    answer = await fetch("quotient_familial", subject_of(person_named("DESFOUIN", "René")))
    assert answer.provenance.status is Status.RATE_LIMITED
    assert 0 <= answer.provenance.retry_in <= 60  # RateLimit-Reset: the end of the current minute
    assert "Trop de demandes" in answer.provenance.message


async def test_delanoue_and_situdi_meet_provider_failures():
    unavailable = await fetch("c2s", subject_of(person_named("DELANOUE", "Jean-Marie")))
    assert unavailable.provenance.status is Status.UNAVAILABLE
    timeout = await fetch("c2s", subject_of(person_named("SITUDI", "Clément")))
    assert timeout.provenance.status is Status.TIMEOUT
    assert "n'a pas répondu" in timeout.provenance.message


async def test_a_childs_quotient_familial_is_asked_about_the_parent():
    sarah = subject_of(person_named("GIRAUD", "Sarah"))
    assert sarah.role == "child"
    transport = Counting(emulated_transport("api_particulier"))
    ap = api_particulier(transport)
    answer = await ap.fetch("quotient_familial", sarah)
    await ap.aclose()
    assert answer.first(QuotientFamilial).value == 1200  # Anne's payload
    sent = query(transport.requests[0])
    assert (sent["nomNaissance"], sent["prenoms[]"], sent["recipient"]) == (["GIRAUD"], ["ANNE"], [RECIPIENT])
    assert transport.requests[0].headers["Authorization"] == "Bearer training"


async def test_partial_birth_dates_are_sent_as_far_as_known():
    transport = Counting(emulated_transport("api_particulier"))
    ap = api_particulier(transport)
    answer = await ap.fetch("quotient_familial", subject_of(person_named("ROUX", "Jeanne")))
    await ap.aclose()
    assert answer.first(QuotientFamilial) == QuotientFamilial(150, "MSA", 2023, 5)
    sent = query(transport.requests[0])
    assert sent["prenoms[]"] == ["JEANNE", "STEPHANIE"]
    assert (sent["anneeDateNaissance"], sent["moisDateNaissance"]) == (["1987"], ["6"])
    assert "jourDateNaissance" not in sent and "annee" not in sent


async def test_sections_that_do_not_apply_send_nothing():
    transport = Counting(emulated_transport("api_particulier"))
    ap = api_particulier(transport)
    anne = subject_of(person_named("GIRAUD", "Anne"))
    no_adult = dataclasses.replace(subject_of(person_named("GIRAUD", "Sarah")), members=())
    answers = [await ap.fetch("france_travail", anne), await ap.fetch("scolarite", anne),
               await ap.fetch("quotient_familial", no_adult), await ap.fetch("eaje", no_adult)]
    await ap.aclose()
    assert [a.provenance.status for a in answers] == [Status.NOT_APPLICABLE] * 4
    assert answers[0].provenance.message == "Identifiant France Travail inconnu de la mairie."
    assert answers[2].provenance.message == "Aucun allocataire connu dans le foyer."
    assert transport.requests == []


# -- everyone else in the town -----------------------------------------------------------------


def _household_with(predicate) -> list[int]:
    """Person ids of the first household (by id) whose members satisfy ``predicate``."""
    town = town_data()
    staged = {row["person_id"] for row in town.staging}
    for household_id in sorted(town.members_of):
        members = town.members_of[household_id]
        if any(m["person_id"] in staged for m in members):
            continue
        if predicate(town.households[household_id], [(m["role"], town.persons[m["person_id"]]) for m in members]):
            return [m["person_id"] for m in members]
    raise AssertionError("no such household")


def _age(person: dict) -> int:
    return BirthDate(person["birth_year"], person["birth_month"], person["birth_day"]).age_on(REFERENCE_DATE)


async def test_an_ordinary_family_gets_plausible_facts():
    ids = _household_with(lambda h, ms: h["caf_number"] and any(r == "child" and 6 <= _age(p) <= 10 for r, p in ms)
                          and any(r == "child" and _age(p) < 6 for r, p in ms))
    town = town_data()
    parent = next(i for i in ids if town.membership[i]["role"] == "parent")
    pupil = next(i for i in ids if town.membership[i]["role"] == "child" and 6 <= _age(town.persons[i]) <= 10)
    qf = await fetch("quotient_familial", subject_of(pupil))
    value = qf.first(QuotientFamilial)
    assert 100 <= value.value <= 2500 and value.provider in ("CNAF", "MSA") and (value.year, value.month) == (2026, 8)
    assert qf.provenance.as_of == date(2026, 8, 1)
    family = qf.first(Family)
    assert family.adults[0].birth_name == town.persons[parent]["birth_name"].upper()
    assert len(family.children) >= 2
    eaje = await fetch("eaje", subject_of(parent))
    assert eaje.first(EajeInputs).children_in_charge == len(eaje.first(Family).children)
    assert eaje.provenance.as_of == date(2024, 1, 1)
    c2s = await fetch("c2s", subject_of(parent))
    assert isinstance(c2s.first(HealthCover), HealthCover)
    school = (await fetch("scolarite", subject_of(pupil))).first(Schooling)
    assert school.enrolled and school.school_year == "2026-2027"
    assert school.uai in {s["uai"] for s in town.schools.values()}
    assert school.level in ("CP", "CE1", "CE2", "CM1", "CM2")


async def test_a_generated_job_seeker():
    town = town_data()
    staged = {row["person_id"] for row in town.staging}
    person_id = next(pid for fid, pid in sorted(town.by_france_travail_id.items()) if pid not in staged)
    seeker = (await fetch("france_travail", subject_of(person_id))).first(JobSeeker)
    assert seeker.since <= REFERENCE_DATE
    assert seeker.registered is (seeker.until is None)
    assert seeker.category and seeker.address.postal_code


async def test_unknown_people_are_not_found():
    stranger = Subject(0, Identity("INCONNU", ("Personne",), "M", BirthDate(1970, 1, 1), france_travail_id="999Z"),
                       TODAY, "parent")
    for section in ("quotient_familial", "c2s", "eaje", "france_travail"):
        answer = await fetch(section, stranger)
        assert answer.provenance.status is Status.NOT_FOUND, section
    pupil = dataclasses.replace(stranger, identity=dataclasses.replace(stranger.identity, birth=BirthDate(2015, 3, 3)))
    assert (await fetch("scolarite", pupil)).provenance.status is Status.NOT_FOUND
    # The Éducation nationale needs the full birth date: the API refuses the request.
    partial = dataclasses.replace(pupil, identity=dataclasses.replace(pupil.identity, birth=BirthDate(2015)))
    refused = await fetch("scolarite", partial)
    assert refused.provenance.status is Status.BAD_RESPONSE and "incomplète" in refused.provenance.message


async def test_generated_answers_are_deterministic():
    paths = ["/v3/dss/complementaire_sante_solidaire/identite?nomNaissance=KEITA&prenoms[]=BINTA"
             "&prenoms[]=FATOUMATA&sexeEtatCivil=F&anneeDateNaissance=1989&moisDateNaissance=4"
             f"&jourDateNaissance=5&codeCogInseePaysNaissance=99326&recipient={RECIPIENT}"]
    bodies = []
    for _ in range(2):
        async with httpx.AsyncClient(transport=emulated_transport("api_particulier"), base_url=BASE,
                                     headers={"Authorization": "Bearer x"}) as client:
            bodies.append([(await client.get(p)).content for p in paths])
    assert bodies[0] == bodies[1]
    assert json.loads(bodies[0][0])["data"]["est_beneficiaire"] in (True, False)


def test_about_one_caf_household_in_twelve_disagrees_with_the_town():
    town = town_data()
    agencies = TownAgencies(town)
    known = disagree = 0
    for household_id, household in town.households.items():
        adults = [m for m in town.members_of[household_id] if m["role"] in ("parent", "other_guardian")]
        if not household["caf_number"] or not adults:
            continue
        _, family = agencies.caf_household(town.persons[adults[0]["person_id"]])
        known += 1
        children = sum(m["role"] == "child" and _age(town.persons[m["person_id"]]) < 21
                       for m in town.members_of[household_id])
        moved = not family["adresse"]["code_postal_ville"].startswith("45999 ")
        disagree += moved or len(family["enfants"]) != children
    assert 0.05 < disagree / known < 0.11


# -- the emulator's protocol ---------------------------------------------------------------------

C2S_PAULO = ("/v3/dss/complementaire_sante_solidaire/identite?nomNaissance=PAULO&prenoms[]=PAUL&sexeEtatCivil=M"
              "&anneeDateNaissance=2000&moisDateNaissance=1&jourDateNaissance=1&codeCogInseeCommuneNaissance=08480"
              "&codeCogInseePaysNaissance=99100")


async def _get(path: str, *, token: str | None = None, headers: dict | None = None) -> httpx.Response:
    async with httpx.AsyncClient(transport=emulated_transport("api_particulier", token=token), base_url=BASE) as c:
        return await c.get(path, headers=headers)


@pytest.mark.parametrize(("path", "headers", "status", "code"), [
    (f"{C2S_PAULO}&recipient={RECIPIENT}", {}, 401, "00101"),
    (f"{C2S_PAULO}&recipient={RECIPIENT}", {"Authorization": "Basic abc"}, 401, "00101"),
    (f"{C2S_PAULO}&recipient={RECIPIENT}", {"Authorization": "Bearer wrong"}, 401, "00101"),
    (C2S_PAULO, {"Authorization": "Bearer s3cret"}, 422, "00203"),
    (f"{C2S_PAULO}&recipient=21459999900016", {"Authorization": "Bearer s3cret"}, 422, "00211"),
    ("/v3/dss/complementaire_sante_solidaire/identite?nomNaissance=X&prenoms[]=Y&sexeEtatCivil=Z"
     f"&codeCogInseePaysNaissance=99100&recipient={RECIPIENT}", {"Authorization": "Bearer s3cret"}, 422, "00366"),
    (f"/v3/men/scolarites/identite?nomNaissance=X&prenoms[]=Y&sexeEtatCivil=M&anneeDateNaissance=2015"
     f"&anneeScolaire=2026&recipient={RECIPIENT}", {"Authorization": "Bearer s3cret"}, 422, "00366"),
    (f"/v3/france_travail/statut/identifiant?identifiant=nobody&recipient={RECIPIENT}",
     {"Authorization": "Bearer s3cret"}, 404, "24003"),
    (f"/v3/men/scolarites/identite?nomNaissance=X&prenoms[]=Y&sexeEtatCivil=M&anneeDateNaissance=2015"
     f"&moisDateNaissance=1&jourDateNaissance=1&anneeScolaire=2026&recipient={RECIPIENT}",
     {"Authorization": "Bearer s3cret"}, 404, "30003"),
    (f"{C2S_PAULO}&recipient={RECIPIENT}", {"Authorization": "Bearer s3cret"}, 200, None),
])
async def test_emulator_checks_credentials_recipient_and_identity(path, headers, status, code):
    response = await _get(path, token="s3cret", headers=headers)
    assert response.status_code == status
    body = response.json()
    if code is None:
        assert body["data"]["est_beneficiaire"] is False  # the staging payload, verbatim
        return
    (error,) = body["errors"]
    assert error["code"] == code and set(error) == {"code", "title", "detail", "source", "meta"}


async def test_the_staging_429_comes_with_rate_limit_headers():
    path = ("/v3/dss/quotient_familial/identite?nomNaissance=DESFOUIN&prenoms[]=RENÉ&sexeEtatCivil=M"
            "&anneeDateNaissance=2002&moisDateNaissance=12&jourDateNaissance=5&codeCogInseeCommuneNaissance=08480"
            f"&codeCogInseePaysNaissance=99100&recipient={RECIPIENT}")
    response = await _get(path, headers={"Authorization": "Bearer x"})
    assert response.status_code == 429
    assert {"ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"} <= set(response.headers)
    assert response.json()["errors"][0]["code"] == "00429"


@pytest.mark.parametrize(("status", "code"), [(401, "00101"), (403, "00100"), (404, "37003"), (409, "00015"),
                                              (422, "00366"), (429, "00429"), (500, "37999"), (502, "37999"),
                                              (503, "37999"), (504, "37002"), (418, "00418")])
def test_error_bodies_have_the_agency_shape(status, code):
    (error,) = json.loads(error_body(status))["errors"]
    assert error["code"] == code
    assert set(error) == {"code", "title", "detail", "source", "meta"} and error["title"]


async def test_the_apis_own_cache_is_shown():
    transport = emulated_transport("api_particulier")
    first, second = api_particulier(transport), api_particulier(transport)  # two counters, one API
    anne = subject_of(person_named("GIRAUD", "Anne"))
    fresh = await first.fetch("c2s", anne)
    from_api_cache = await second.fetch("c2s", anne)
    bypassed = await second.fetch("c2s", anne, refresh=True)
    await first.aclose()
    await second.aclose()
    assert not fresh.provenance.cached
    assert from_api_cache.provenance.cached and from_api_cache.ok
    assert "cache" in from_api_cache.provenance.message
    assert not bypassed.provenance.cached
    assert from_api_cache.facts == fresh.facts


# -- faults ------------------------------------------------------------------------------------

ANNE = person_named("GIRAUD", "Anne")


@pytest.mark.parametrize(("knobs", "status"), [
    (EmulatorKnobs(down=True), Status.UNAVAILABLE),
    (EmulatorKnobs(latency_ms=5_000), Status.TIMEOUT),
    (EmulatorKnobs(drip_bytes_per_second=16), Status.TIMEOUT),
    (EmulatorKnobs(error_status=500), Status.UNAVAILABLE),
    (EmulatorKnobs(error_status=502), Status.UNAVAILABLE),
    (EmulatorKnobs(error_status=503), Status.UNAVAILABLE),
    (EmulatorKnobs(error_status=504), Status.TIMEOUT),
    (EmulatorKnobs(error_status=401), Status.UNAUTHORIZED),
    (EmulatorKnobs(error_status=403), Status.UNAUTHORIZED),
    (EmulatorKnobs(error_status=404), Status.NOT_FOUND),
    (EmulatorKnobs(error_status=409), Status.UNAVAILABLE),
    (EmulatorKnobs(error_status=422), Status.BAD_RESPONSE),
    (EmulatorKnobs(error_status=429), Status.RATE_LIMITED),
    (EmulatorKnobs(error_status=418), Status.BAD_RESPONSE),
    (EmulatorKnobs(malformed=True), Status.BAD_RESPONSE),
    (EmulatorKnobs(huge_body=True), Status.BAD_RESPONSE),
    (EmulatorKnobs(not_utf8=True), Status.BAD_RESPONSE),
    (EmulatorKnobs(drop_fields=["valeur"]), Status.BAD_RESPONSE),
    (EmulatorKnobs(mistype_fields=["valeur"]), Status.BAD_RESPONSE),
])
async def test_faults_become_statuses(knobs, status):
    answer = await fetch("quotient_familial", subject_of(ANNE), knobs=knobs, timeout=0.2)
    assert answer.provenance.status is status
    assert answer.provenance.message and answer.facts == ()
    if status is Status.RATE_LIMITED:
        assert answer.provenance.retry_in == 60.0


async def test_a_slow_answer_within_the_deadline_is_fine():
    answer = await fetch("c2s", subject_of(ANNE), knobs=EmulatorKnobs(latency_ms=10), timeout=2.0)
    assert answer.ok


# -- our cache --------------------------------------------------------------------------------


async def test_a_second_fetch_within_the_hour_comes_from_the_cache():
    transport = Counting(emulated_transport("api_particulier"))
    ap = api_particulier(transport)
    anne = subject_of(ANNE)
    first = await ap.fetch("quotient_familial", anne)
    again = await ap.fetch("quotient_familial", anne)
    assert len(transport.requests) == 1
    assert again.provenance.cached and not first.provenance.cached
    assert (again.provenance.fetched_at, again.provenance.as_of, again.facts) == (
        first.provenance.fetched_at, first.provenance.as_of, first.facts)
    refreshed = await ap.fetch("quotient_familial", anne, refresh=True)
    await ap.aclose()
    assert len(transport.requests) == 2
    assert transport.requests[1].headers["Cache-Control"] == "no-cache"
    assert "Cache-Control" not in transport.requests[0].headers
    assert not refreshed.provenance.cached and refreshed.provenance.fetched_at > first.provenance.fetched_at


async def test_not_found_is_cached_and_failures_are_not():
    stranger = Subject(0, Identity("INCONNU", ("Personne",), "M", BirthDate(1970, 1, 1)), TODAY, "parent")
    transport = Counting(emulated_transport("api_particulier"))
    ap = api_particulier(transport)
    await ap.fetch("c2s", stranger)
    assert (await ap.fetch("c2s", stranger)).provenance.cached
    failing = subject_of(person_named("DELANOUE", "Jean-Marie"))  # the staging 502
    await ap.fetch("c2s", failing)
    again = await ap.fetch("c2s", failing)
    await ap.aclose()
    assert again.provenance.status is Status.UNAVAILABLE and not again.provenance.cached
    assert len(transport.requests) == 3


# -- rate limits: the API's wait is honoured -------------------------------------------------


async def test_a_429_holds_every_request_of_the_token_until_the_time_it_gave():
    from counter.domain.facts_text import status_line
    from tests.backends.helpers import Clock

    clock = Clock()  # 10 s into a minute: the staging 429 resets at the end of it
    transport = Counting(emulated_transport("api_particulier", clock=clock))
    ap = api_particulier(transport, clock=clock)
    limited = await ap.fetch("quotient_familial", subject_of(person_named("DESFOUIN", "René")))
    assert limited.provenance.status is Status.RATE_LIMITED and limited.provenance.retry_in == 50.0
    assert status_line(limited.provenance).endswith("réessayer dans 50 s")
    assert "réessayer dans" not in limited.provenance.message  # the figure is shown once, on the status line

    clock.advance(30)  # another person, another section, bypassing the cache: the token is held
    held = await ap.fetch("c2s", subject_of(ANNE), refresh=True)
    assert len(transport.requests) == 1
    assert held.provenance.status is Status.RATE_LIMITED and held.provenance.retry_in == 20.0
    assert held.provenance.message.startswith("Demande non envoyée")
    assert status_line(held.provenance).endswith("réessayer dans 20 s")
    health = await ap.health()
    assert health.status is Status.RATE_LIMITED and len(transport.requests) == 1

    clock.advance(20)  # the time given has come: asked again
    after = await ap.fetch("c2s", subject_of(ANNE), refresh=True)
    await ap.aclose()
    assert after.ok and len(transport.requests) == 2


async def test_a_section_that_calls_nobody_still_answers_during_the_hold():
    from tests.backends.helpers import Clock

    clock = Clock()
    ap = api_particulier(emulated_transport("api_particulier", clock=clock), clock=clock)
    await ap.fetch("quotient_familial", subject_of(person_named("DESFOUIN", "René")))
    anne = subject_of(ANNE)
    cached_before = await ap.fetch("c2s", anne)  # held: nothing cached
    assert cached_before.provenance.status is Status.RATE_LIMITED
    no_identifier = await ap.fetch("france_travail", anne)
    await ap.aclose()
    assert no_identifier.provenance.status is Status.NOT_APPLICABLE


def test_the_wait_is_one_figure_rounded_up():
    from counter.domain.facts_text import delay

    assert [delay(s) for s in (0, 0.2, 40.0, 40.3, 119.2, 120, 150)] == [
        "1 s", "1 s", "40 s", "41 s", "2 min", "2 min", "3 min"]


# -- credentials -----------------------------------------------------------------------------


async def test_a_wrong_token_is_unauthorized_and_the_right_one_works():
    wrong = await fetch("c2s", subject_of(ANNE), token="s3cret", secret="other", training=False)
    assert wrong.provenance.status is Status.UNAUTHORIZED
    assert "Jeton API Particulier invalide" in wrong.provenance.message
    right = await fetch("c2s", subject_of(ANNE), token="s3cret", secret="s3cret", training=False)
    assert right.ok


async def test_production_without_a_secret_sends_nothing():
    transport = Counting(emulated_transport("api_particulier"))
    ap = api_particulier(transport, secret=None, training=False)
    answer = await ap.fetch("c2s", subject_of(ANNE))
    health = await ap.health()
    await ap.aclose()
    assert answer.provenance.status is Status.UNAUTHORIZED and health.status is Status.UNAUTHORIZED
    assert transport.requests == []


@pytest.mark.parametrize(("token", "secret", "knobs", "status"), [
    (None, None, None, Status.OK),
    ("s3cret", "s3cret", None, Status.OK),
    ("s3cret", "other", None, Status.UNAUTHORIZED),
    (None, None, EmulatorKnobs(error_status=403), Status.UNAUTHORIZED),
    (None, None, EmulatorKnobs(down=True), Status.UNAVAILABLE),
    (None, None, EmulatorKnobs(error_status=503), Status.UNAVAILABLE),
])
async def test_health(token, secret, knobs, status):
    ap = api_particulier(emulated_transport("api_particulier", knobs, token), secret=secret, training=secret is None)
    health = await ap.health()
    await ap.aclose()
    assert health.status is status
