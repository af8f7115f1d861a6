"""The city adapter against the emulated family system, in-process: httpx,
Starlette and the town's data are real, every fault comes from the emulator's
knobs; MockTransport only for body shapes the knobs cannot produce. Also: the OpenAPI file names what the emulator serves."""

from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import replace
from functools import partial
from pathlib import Path

import httpx
import pytest
import yaml

from backends.http import AgencyError
from counter.backend import CrecheSituation, Schooling, Status
from counter.domain.dates import BirthDate
from counter.domain.names import split_given_names
from counter.domain.schooling import school_level
from counter.settings import EmulatorKnobs
from fixtures.emulators.city import emulator
from fixtures.emulators.city.world import NEXT_YEAR, SCHOOL_YEAR, of_town, person_key
from fixtures.emulators.plugin import EmulatorContext, emulated_transport
from fixtures.emulators.town_data import REFERENCE_DATE
from tests.backends.helpers import TODAY, fault_matrix, identity_of, open_backend, subject_of, token_answers

OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "city-api.openapi.yaml"

city = partial(open_backend, "city")


@asynccontextmanager
async def raw_client():
    """The emulator over HTTP, for what the adapter hides (status codes)."""
    async with httpx.AsyncClient(transport=emulated_transport("city"), base_url="http://city",
                                 headers={"Authorization": "Bearer training"}) as client:
        yield client


@pytest.fixture(scope="module")
def world(town):
    return of_town(town)


def _person(town, world, keep) -> dict:
    """The first town person the city knows, with a unique identity, that ``keep`` keeps."""
    for key in sorted(world.people):
        person = town.persons[int(key[1:])]
        if person["birth_day"] and len(town.candidates(person["birth_name"],
                                                       split_given_names(person["given_names"]))) == 1:
            if keep(key, person):
                return person
    raise AssertionError("the town has no such person")


# -- school -----------------------------------------------------------------------------------


async def test_a_school_age_child_is_enrolled_at_their_level_in_their_sector_school(town, world):
    def enrolled_in_elementary(key, person):
        current = world.enrolments.get((key, SCHOOL_YEAR))
        return current is not None and current.level == "CE1"

    child = _person(town, world, enrolled_in_elementary)
    async with city() as backend:
        answer = await backend.fetch("school", subject_of(child))
    assert answer.provenance.status is Status.OK, answer.provenance.message
    current = answer.facts[0]
    birth = identity_of(child).birth
    # The level follows the core's rule for the school year under way on the emulator's date.
    assert current.level == school_level(birth, REFERENCE_DATE.year)
    assert current.school_year == f"{REFERENCE_DATE.year}-{REFERENCE_DATE.year + 1}"
    assert current.enrolled and current.status == "place attribuée"
    # The sector school of the child's address, as the town's own data says.
    _, elementaire = town.sector_schools(town.home_address(child["id"]))
    assert (current.uai, current.school_name) == (elementaire["uai"], elementaire["name"])
    assert answer.provenance.as_of == REFERENCE_DATE
    assert answer.provenance.message.startswith("Cantine : ")


async def test_a_new_entrant_shows_next_years_pending_registration(town, world):
    def into_cp(key, person):
        following = world.enrolments.get((key, NEXT_YEAR))
        return following is not None and following.level == "CP" and following.state == "pending"

    child = _person(town, world, into_cp)
    async with city() as backend:
        answer = await backend.fetch("school", subject_of(child))
    current, following = answer.facts
    assert (current.level, current.status) == ("GS", "place attribuée")
    assert (following.level, following.status, following.enrolled) == ("CP", "inscription à confirmer", False)
    assert following.school_year == f"{NEXT_YEAR}-{NEXT_YEAR + 1}"


async def test_a_partial_birth_date_asks_by_year_and_month(town, world):
    child = _person(town, world, lambda key, p: (key, SCHOOL_YEAR) in world.enrolments)
    identity = identity_of(child)
    partial = replace(identity, birth=BirthDate(identity.birth.year, identity.birth.month))
    async with city() as backend:
        answer = await backend.fetch("school", subject_of(child, partial))
    assert answer.provenance.status is Status.OK
    assert answer.first(Schooling).uai == world.enrolments[(person_key(child["id"]), SCHOOL_YEAR)].uai


async def test_a_child_unknown_to_the_city_is_not_found(town, world):
    child = _person(town, world, lambda key, p: (key, SCHOOL_YEAR) in world.enrolments)
    stranger = replace(identity_of(child), birth_name="INCONNU-DE-LA-MAIRIE")
    async with city() as backend:
        answer = await backend.fetch("school", subject_of(child, stranger))
    assert answer.provenance.status is Status.NOT_FOUND
    assert answer.provenance.message == "Inconnu du système famille de la mairie."


# -- crèche ---------------------------------------------------------------------------------


async def test_crèche_situations_placed_waiting_and_none(town, world):
    placed = _person(town, world, lambda key, p: key in world.placements)
    waiting = _person(town, world, lambda key, p: key in world.applications)
    nothing = _person(town, world, lambda key, p: identity_of(p).birth.age_on(TODAY) < 2
                      and key not in world.placements and key not in world.applications)
    async with city() as backend:
        answers = [await backend.fetch("creche", subject_of(p)) for p in (placed, waiting, nothing)]
    assert all(a.provenance.status is Status.OK for a in answers)
    placement = world.placements[person_key(placed["id"])]
    application = world.applications[person_key(waiting["id"])]
    assert answers[0].facts == (CrecheSituation("placed", world.creches[placement.creche_id]["name"],
                                                placement.since),)
    assert answers[1].facts == (CrecheSituation("waiting", world.creches[application.wished[0]]["name"],
                                                application.applied_on, application.rank),)
    assert answers[1].provenance.message.startswith("Vœux : ")
    assert answers[2].facts == (CrecheSituation("none"),)


async def test_ages_outside_a_section_ask_nothing(town, world):
    calls: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda request: calls.append(request) or httpx.Response(500))
    adult = town.persons[1]
    assert identity_of(adult).birth.age_on(TODAY) > 30
    async with city(transport=transport) as backend:
        answers = [await backend.fetch(section, subject_of(adult)) for section in ("school", "creche")]
    assert [a.provenance.status for a in answers] == [Status.NOT_APPLICABLE, Status.NOT_APPLICABLE]
    assert calls == []


async def test_a_five_year_old_without_application_has_no_creche_section(town, world):
    child = _person(town, world, lambda key, p: identity_of(p).birth.age_on(TODAY) == 5)
    async with city() as backend:
        answer = await backend.fetch("creche", subject_of(child))
    assert answer.provenance.status is Status.NOT_APPLICABLE


# -- registrations --------------------------------------------------------------------------


def _tps_body(world, key: str, **changes) -> dict:
    maternelle, _ = world.sector[key]
    body = {"kind": "school", "person_id": key, "school_year": NEXT_YEAR, "uai": maternelle, "level": "TPS",
            "canteen_days": ["mon", "tue", "thu", "fri"], "after_school_days": []}
    return body | changes


def _room(world, uai: str, level: str, year: int) -> int:
    taken = sum(1 for e in world.enrolments.values()
                if (e.uai, e.level, e.school_year) == (uai, level, year) and e.takes_a_place)
    return world.capacity[(uai, level)] - taken


def _free_toddler(town, world) -> str:
    """A child of TPS age next year, with no school yet, whose sector maternelle has room."""
    person = _person(town, world, lambda key, p: (key, NEXT_YEAR) not in world.enrolments
                     and school_level(identity_of(p).birth, NEXT_YEAR) == "TPS" and world.sector[key][0]
                     and _room(world, world.sector[key][0], "TPS", NEXT_YEAR) > 0)
    return person_key(person["id"])


async def test_a_registration_is_created_once_then_replayed(town, world):
    key = _free_toddler(town, world)
    body = _tps_body(world, key)
    async with raw_client() as client:
        created = await client.post("/v1/registrations", json=body, headers={"Idempotency-Key": "visit-7/1"})
        replayed = await client.post("/v1/registrations", json=body, headers={"Idempotency-Key": "visit-7/1"})
        reused = await client.post("/v1/registrations", json=body | {"canteen_days": []},
                                   headers={"Idempotency-Key": "visit-7/1"})
        again = await client.post("/v1/registrations", json=body, headers={"Idempotency-Key": "visit-7/2"})
        unkeyed = await client.post("/v1/registrations", json=body)
        invalid = await client.post("/v1/registrations", json=body | {"level": "CM3", "colour": "blue"},
                                    headers={"Idempotency-Key": "visit-7/3"})
        school = await client.get(f"/v1/people/{key}/school")
    assert created.status_code == 201 and created.headers["Location"].endswith(created.json()["id"])
    assert created.json()["state"] == "pending"
    assert replayed.status_code == 200 and replayed.json() == created.json()
    assert reused.status_code == 409 and reused.json()["error"]["code"] == "idempotency_key_reused"
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_registered"
    assert unkeyed.status_code == 400 and unkeyed.json()["error"]["code"] == "idempotency_key_missing"
    assert invalid.status_code == 422
    assert {d["field"] for d in invalid.json()["error"]["details"]} == {"level", "colour"}
    assert school.json()["next"]["registration_id"] == created.json()["id"]


async def test_submit_registration_through_the_adapter(town, world):
    key = _free_toddler(town, world)
    person = town.persons[int(key[1:])]
    async with city() as backend:
        before = await backend.capacities(NEXT_YEAR)
        created = await backend.submit_registration(_tps_body(world, key), "visit-8/1")
        replayed = await backend.submit_registration(_tps_body(world, key), "visit-8/1")
        after = await backend.capacities(NEXT_YEAR)
        school = await backend.fetch("school", subject_of(person))
        with pytest.raises(AgencyError) as reused:
            await backend.submit_registration(_tps_body(world, key, after_school_days=["fri"]), "visit-8/1")
    assert replayed["id"] == created["id"]

    def tps(capacities):
        school_row = next(s for s in capacities["schools"] if s["uai"] == world.sector[key][0])
        return next(level["enrolled"] for level in school_row["levels"] if level["level"] == "TPS")

    assert tps(after) == tps(before) + 1
    assert [(f.level, f.status) for f in school.facts] == [("TPS", "inscription à confirmer")]
    assert (reused.value.http_status, reused.value.code) == (409, "idempotency_key_reused")


async def test_a_full_level_refuses_with_capacity_full(town, world):
    async with city() as backend:
        capacities = await backend.capacities(NEXT_YEAR)
        full = [(s["uai"], level["level"]) for s in capacities["schools"] for level in s["levels"]
                if level["enrolled"] >= level["capacity"]]
        assert full, "the emulator keeps some levels full"
        uai, level = next((u, lv) for u, lv in full if any(
            school_level(b, NEXT_YEAR) == lv and (k, NEXT_YEAR) not in world.enrolments
            for k, b in world.births.items()))
        key = next(k for k, b in sorted(world.births.items())
                   if school_level(b, NEXT_YEAR) == level and (k, NEXT_YEAR) not in world.enrolments)
        body = _tps_body(world, key, uai=uai, level=level, derogation_reason="Frère ou sœur déjà scolarisé")
        with pytest.raises(AgencyError) as refused:
            await backend.submit_registration(body, "visit-9/1")
    assert (refused.value.http_status, refused.value.code) == (409, "capacity_full")
    assert refused.value.message == "Plus de place à ce niveau dans cette école pour cette année scolaire."


async def test_outside_the_sector_a_derogation_reason_is_required(town, world):
    key = _free_toddler(town, world)
    other = next(u for u, s in sorted(world.schools.items())
                 if "TPS" in s["levels"] and u != world.sector[key][0] and _room(world, u, "TPS", NEXT_YEAR) > 0)
    async with city() as backend:
        with pytest.raises(AgencyError) as refused:
            await backend.submit_registration(_tps_body(world, key, uai=other), "visit-10/1")
        asked = await backend.submit_registration(
            _tps_body(world, key, uai=other, derogation_reason="Lieu de travail d'un parent"), "visit-10/2")
    assert refused.value.code == "derogation_reason_required"
    assert asked["state"] == "derogation_requested"


async def test_a_creche_application_joins_the_end_of_the_waiting_list(town, world):
    baby = _person(town, world, lambda key, p: identity_of(p).birth.age_on(TODAY) == 0
                   and key not in world.placements and key not in world.applications)
    key = person_key(baby["id"])
    body = {"kind": "creche", "person_id": key, "creche_ids": ["CR02", "CR01"], "start_date": "2027-01-04",
            "days": ["mon", "tue", "thu"]}
    async with city() as backend:
        created = await backend.submit_registration(body, "visit-11/1")
        answer = await backend.fetch("creche", subject_of(baby))
    last = max(a.rank for a in world.applications.values())
    assert created["state"] == "waiting" and created["creche"]["rank"] == last + 1
    assert answer.facts == (CrecheSituation("waiting", world.creches["CR02"]["name"], REFERENCE_DATE, last + 1),)


# -- cancelling (1.2) --------------------------------------------------------------------------


def _babies(town, world, count: int) -> list[str]:
    found = []
    for key in sorted(world.people):
        birth = world.births[key]
        if birth.complete and birth.age_on(TODAY) == 0 and key not in world.placements \
                and key not in world.applications:
            found.append(key)
            if len(found) == count:
                return found
    raise AssertionError("not enough babies")


async def test_a_cancelled_application_leaves_the_list_and_those_behind_move_up(town, world):
    first, second = _babies(town, world, 2)
    last = max(a.rank for a in world.applications.values())

    def body(key):
        return {"kind": "creche", "person_id": key, "creche_ids": ["CR01"], "start_date": "2027-01-04",
                "days": ["mon"]}

    async with city() as backend:
        applied = [await backend.submit_registration(body(k), f"reg-{k}") for k in (first, second)]
        before = await backend.capacities(NEXT_YEAR)
        cancelled = await backend.cancel_registration(applied[0]["id"], {"reason": "Famille partie"}, "cancel-1")
        again = await backend.cancel_registration(applied[0]["id"], {"reason": "Famille partie"}, "cancel-1")
        after = await backend.capacities(NEXT_YEAR)
        situations = [(await backend.fetch("creche", subject_of(town.persons[int(k[1:])]))).facts[0]
                      for k in (first, second)]
    assert [a["creche"]["rank"] for a in applied] == [last + 1, last + 2]
    assert before["creches"][0]["waiting_list"] == {"id": "town", "length": last + 2}
    assert cancelled == again == {"id": applied[0]["id"], "kind": "creche", "state": "cancelled",
                                  "cancelled_on": REFERENCE_DATE.isoformat()}
    assert {c["waiting_list"]["length"] for c in after["creches"]} == {last + 1}
    assert situations[0].state == "none" and situations[1].rank == last + 1


async def test_a_cancelled_school_registration_gives_its_place_back(town, world):
    key = _free_toddler(town, world)
    uai = world.sector[key][0]

    def enrolled(capacities) -> int:
        school = next(s for s in capacities["schools"] if s["uai"] == uai)
        return next(level["enrolled"] for level in school["levels"] if level["level"] == "TPS")

    async with city() as backend:
        made = await backend.submit_registration(_tps_body(world, key), "reg-school")
        taken = enrolled(await backend.capacities(NEXT_YEAR))
        await backend.cancel_registration(made["id"], {}, "cancel-school")
        freed = enrolled(await backend.capacities(NEXT_YEAR))
        again = await backend.submit_registration(_tps_body(world, key), "reg-school-again")
    assert freed == taken - 1 and again["state"] == "pending"


async def test_cancellations_are_idempotent_and_refused_clearly(town, world):
    key = _free_toddler(town, world)
    async with raw_client() as client:
        made = (await client.post("/v1/registrations", json=_tps_body(world, key),
                                  headers={"Idempotency-Key": "reg-1"})).json()
        path = f"/v1/registrations/{made['id']}/cancellation"
        missing = await client.post(path, json={})
        first = await client.post(path, json={"reason": "doublon"}, headers={"Idempotency-Key": "c-1"})
        replay = await client.post(path, json={"reason": "doublon"}, headers={"Idempotency-Key": "c-1"})
        reused = await client.post(path, json={"reason": "autre"}, headers={"Idempotency-Key": "c-1"})
        unknown = await client.post("/v1/registrations/REG-999999/cancellation", json={},
                                    headers={"Idempotency-Key": "c-2"})
        invalid = await client.post(path, json={"why": "x"}, headers={"Idempotency-Key": "c-3"})
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "idempotency_key_missing"
    assert first.status_code == 200 and first.json()["state"] == "cancelled"
    assert replay.status_code == 200 and replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == first.json()
    assert reused.status_code == 409 and reused.json()["error"]["code"] == "idempotency_key_reused"
    assert unknown.status_code == 404 and invalid.status_code == 422


async def test_the_adapter_words_a_refused_cancellation_in_french():
    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"error": {"code": "not_found", "message": "Not Found"}})

    async with city(transport=httpx.MockTransport(refuse)) as backend:
        with pytest.raises(AgencyError) as refused:
            await backend.cancel_registration("REG-000001", {}, "c-1")
    assert refused.value.code == "not_found" and "prévenez le service" in refused.value.message


# -- the contract ------------------------------------------------------------------------------


def test_the_openapi_file_names_every_route_the_emulator_serves(town):
    spec = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    assert spec["openapi"].startswith("3.1")
    documented = {(path, method.upper()) for path, item in spec["paths"].items()
                  for method in item if method in ("get", "post", "put", "patch", "delete")}
    app = emulator.create_app(EmulatorContext(town=town))
    served = {(route.path, method) for route in app.routes for method in route.methods
              if method != "HEAD" and not route.path.startswith("/_emulator/")}  # the emulator's own
    assert served == documented
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post"):
                assert operation.get("responses"), f"{method} {path} documents no response"


def _follow(spec: dict, node: dict) -> dict:
    while "$ref" in node:
        target = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _refs(node) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if "$ref" in node else []
        return own + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def _keys(spec: dict, schema: dict) -> tuple[set[str], set[str]]:
    """(properties, required) of a schema, through $ref and allOf."""
    schema = _follow(spec, schema)
    properties, required = set(schema.get("properties", {})), set(schema.get("required", []))
    for part in schema.get("allOf", []):
        more, needed = _keys(spec, part)
        properties, required = properties | more, required | needed
    return properties, required


def _conforms(spec: dict, schema: dict, value: dict) -> None:
    properties, required = _keys(spec, schema)
    assert required <= set(value) <= properties, (sorted(value), sorted(properties))


async def test_the_emulator_answers_have_the_documented_fields(town, world):
    spec = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    for ref in _refs(spec):  # every reference resolves
        _follow(spec, {"$ref": ref})
    schemas = spec["components"]["schemas"]
    waiting = _person(town, world, lambda key, p: key in world.applications
                      and (key, SCHOOL_YEAR) in world.enrolments)
    key = person_key(waiting["id"])
    given = split_given_names(waiting["given_names"])[0]

    def answer_schema(path: str, method: str = "get", status: str = "200") -> dict:
        return spec["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]

    async with raw_client() as client:
        people = (await client.get("/v1/people", params={
            "birth_name": waiting["birth_name"], "given_name": given,
            "birth_date": identity_of(waiting).birth.earliest().isoformat()})).json()
        school = (await client.get(f"/v1/people/{key}/school")).json()
        creche = (await client.get(f"/v1/people/{key}/creche")).json()
        family = (await client.get(f"/v1/families/{people['people'][0]['family_id']}")).json()
        capacities = (await client.get("/v1/capacities", params={"school_year": NEXT_YEAR})).json()
        health = (await client.get("/v1/health")).json()
        created = (await client.post("/v1/registrations", json=_tps_body(world, _free_toddler(town, world)),
                                     headers={"Idempotency-Key": "k"})).json()
        missing = await client.get("/v1/nowhere")
    _conforms(spec, answer_schema("/v1/health"), health)
    _conforms(spec, answer_schema("/v1/people"), people)
    _conforms(spec, schemas["Person"], people["people"][0])
    _conforms(spec, answer_schema("/v1/people/{person_id}/school"), school)
    _conforms(spec, schemas["Enrolment"], school["current"])
    _conforms(spec, answer_schema("/v1/people/{person_id}/creche"), creche)
    _conforms(spec, schemas["Application"], creche["application"])
    _conforms(spec, answer_schema("/v1/families/{family_id}"), family)
    _conforms(spec, answer_schema("/v1/capacities"), capacities)
    _conforms(spec, schemas["Registration"], created)
    _conforms(spec, schemas["Enrolment"], created["school"])
    assert missing.status_code == 404
    _conforms(spec, schemas["Error"], missing.json())
    _conforms(spec, schemas["Error"]["properties"]["error"], missing.json()["error"])


# -- credentials and faults ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def pupil(town, world):
    return _person(town, world, lambda key, p: (key, SCHOOL_YEAR) in world.enrolments)


async def test_the_bearer_token_must_be_the_one_set(pupil):
    refused, health, accepted = await token_answers("city", "school", subject_of(pupil))
    assert refused.provenance.status is Status.UNAUTHORIZED
    assert health.status is Status.UNAUTHORIZED
    assert accepted.provenance.status is Status.OK


@pytest.mark.parametrize(("knobs", "timeout", "status", "words", "health_too"),
                         fault_matrix(missing="level", mistyped="school_year"))
async def test_faults_become_statuses(pupil, knobs, timeout, status, words, health_too):
    """The whole fault matrix, produced by the city emulator's knobs, for an enrolled pupil."""
    async with city(knobs=knobs, timeout=timeout) as backend:
        answer = await backend.fetch("school", subject_of(pupil))
        health = await backend.health()
        if health_too:  # the places are read the same way
            with pytest.raises(AgencyError) as failed:
                await backend.capacities(NEXT_YEAR)
            assert failed.value.status is status
    assert answer.provenance.status is status, answer.provenance.message
    assert words in answer.provenance.message and answer.facts == ()
    assert health.status is (status if health_too else Status.OK)


async def test_a_404_on_the_people_search_is_a_wrong_address_not_an_unknown_child(pupil):
    async with city(knobs=EmulatorKnobs(error_status=404)) as backend:
        answer = await backend.fetch("school", subject_of(pupil))
    assert answer.provenance.status is Status.UNAVAILABLE
    assert "ne répond pas à l'adresse configurée (erreur 404)" in answer.provenance.message


def _people_then(content: bytes):
    """The person is found; the school answer is ``content``."""
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/people":
            return httpx.Response(200, json={"people": [{"id": "P1", "family_id": "F1"}]})
        return httpx.Response(200, content=content)
    return httpx.MockTransport(answer)


def _enrolment(**changes) -> dict:
    enrolment = {"school_year": 2026, "uai": "0459033Z", "school_name": "École", "level": "PS",
                 "state": "enrolled", "canteen_days": [], "after_school_days": []}
    return enrolment | changes


# Shapes the knobs do not make (they drop or retype a field everywhere): MockTransport.
@pytest.mark.parametrize("content", [
    pytest.param(b'{"current": "\xe9cole"}', id="latin-1"),
    pytest.param(b"[]", id="not-an-object"),
    pytest.param(httpx.Response(200, json={"current": _enrolment(school_year="2026")}).content, id="year-as-text"),
    pytest.param(httpx.Response(200, json={"current": _enrolment(level=None)}).content, id="no-level"),
    pytest.param(httpx.Response(200, json={"current": "CE1"}).content, id="enrolment-as-text"),
    pytest.param(httpx.Response(200, json={"as_of": "hier", "current": None}).content, id="date-not-a-date"),
])
async def test_unreadable_bodies_are_bad_responses(pupil, content):
    async with city(transport=_people_then(content)) as backend:
        answer = await backend.fetch("school", subject_of(pupil))
    assert answer.provenance.status is Status.BAD_RESPONSE
    assert answer.provenance.message.startswith("Réponse")
