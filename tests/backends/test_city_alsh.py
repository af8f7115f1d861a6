"""The accueil de loisirs in the town's family system (contract 1.4): the
emulator over HTTP and the city adapter against it, in-process (httpx,
Starlette and the town's data are real; MockTransport only for an old server)."""

from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import date
from functools import partial
from pathlib import Path

import httpx
import pytest
import yaml

from backends.http import AgencyError
from counter.backend import Status
from fixtures.emulators.city.alsh import alsh_town
from fixtures.emulators.city.world import of_town
from fixtures.emulators.plugin import emulated_transport
from registrations.alsh.calendar import shipped_calendar, weeks_of
from registrations.alsh.rules import AgeGroup, age_group, places_from
from tests.backends.helpers import open_backend

OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "city-api.openapi.yaml"
NOEL = ("2026-12-21", "2026-12-28")
SPRING = ("2027-04-19", "2027-04-26")  # zone B; the maternelle of the 19th is full, two families wait
WINTER = "2027-02-22"  # zone B: nobody registered before the counter's day

city = partial(open_backend, "city")


@asynccontextmanager
async def raw_client():
    async with httpx.AsyncClient(transport=emulated_transport("city"), base_url="http://city",
                                 headers={"Authorization": "Bearer training"}) as client:
        yield client


@pytest.fixture(scope="module")
def world(town):
    return of_town(town)


def _children(world, group: AgeGroup | None, count: int, monday: date = date(2026, 12, 21)) -> list[str]:
    """City ids of children in ``group`` on ``monday`` (None: outside 3 to 11), in id order."""
    found = []
    for key in sorted(world.births):
        birth = world.births[key]
        if not birth.complete or birth.earliest() > monday:
            continue
        try:
            wanted = age_group(birth, monday) is group
        except ValueError:
            wanted = group is None and birth.age_on(monday) < 3
        if wanted:
            found.append(key)
            if len(found) == count:
                return found
    raise AssertionError("the town has not enough such children")


def _body(person_id: str, weeks=NOEL, **more) -> dict:
    return {"kind": "alsh", "person_id": person_id, "weeks": list(weeks), "daily_price": "7.00",
            "quotient_familial": {"value": 640, "source": "caf"}} | more


def test_the_fixture_town_opens_every_week_of_its_zones_holidays():
    town = alsh_town()
    calendar = shipped_calendar()
    assert town.zone == "B"
    assert set(town.weeks) == {w.monday for p in calendar.of_zone("B") for w in weeks_of(p)}
    assert town.capacity == {"maternelle": 24, "elementaire": 36}


async def test_places_per_week_and_group_through_the_adapter():
    async with city() as backend:
        christmas = await backend.alsh_capacities(date(2026, 12, 1), date(2027, 1, 31))
        answer = await backend.alsh_capacities(date(2027, 4, 1), date(2027, 5, 2))
    assert [(w["week"], w["days"]) for w in christmas["weeks"]] == [("2026-12-21", 4), ("2026-12-28", 4)]
    assert {g["registered"] for w in christmas["weeks"] for g in w["groups"]} == {0}
    assert [(w["week"], w["days"]) for w in answer["weeks"]] == [("2027-04-19", 5), ("2027-04-26", 5)]
    full = answer["weeks"][0]["groups"][0]
    assert full == {"group": "maternelle", "capacity": 24, "registered": 24, "available": 0, "waiting": 2}
    places = places_from(answer)
    assert places.available(date(2027, 4, 26), AgeGroup.MATERNELLE) == 24
    assert places.book(date(2027, 4, 19), AgeGroup.MATERNELLE).rank == 3


async def test_a_registration_gets_a_place_or_a_rank_for_each_week_once(world):
    child = _children(world, AgeGroup.MATERNELLE, 1, date(2027, 4, 19))[0]
    async with city() as backend:
        created = await backend.submit_registration(_body(child, weeks=SPRING), "alsh-1")
        replayed = await backend.submit_registration(_body(child, weeks=SPRING), "alsh-1")
        after = await backend.alsh_capacities(date(2027, 4, 19), date(2027, 4, 26))
        with pytest.raises(AgencyError) as twice:
            await backend.submit_registration(_body(child, weeks=["2027-04-26"]), "alsh-2")
    assert created == replayed
    assert created["kind"] == "alsh" and created["state"] == "registered" and created["person_id"] == child
    assert created["alsh"] == {"weeks": [
        {"week": "2027-04-19", "group": "maternelle", "state": "waiting", "rank": 3},
        {"week": "2027-04-26", "group": "maternelle", "state": "registered", "rank": None}], "daily_price": "7.00"}
    groups = {(w["week"], g["group"]): g for w in after["weeks"] for g in w["groups"]}
    assert groups[("2027-04-26", "maternelle")]["registered"] == 1
    assert groups[("2027-04-19", "maternelle")]["waiting"] == 3
    assert (twice.value.http_status, twice.value.code) == (409, "already_registered")


async def test_a_child_outside_3_to_11_is_refused_in_french(world):
    toddler = _children(world, None, 1)[0]
    async with city() as backend:
        with pytest.raises(AgencyError) as refused:
            await backend.submit_registration(_body(toddler), "alsh-3")
    assert (refused.value.http_status, refused.value.code) == (422, "age_out_of_range")
    assert refused.value.message.startswith("Accueil de loisirs : la mairie refuse l'âge")


@pytest.mark.parametrize(("change", "fields"), [
    ({"weeks": ["2026-12-22"]}, {"weeks"}),  # not a Monday
    ({"weeks": ["2026-11-30"]}, {"weeks"}),  # a week of school
    ({"weeks": []}, {"weeks"}),
    ({"weeks": ["2026-12-21", "2026-12-21"]}, {"weeks"}),
    ({"daily_price": "7"}, {"daily_price"}),
    ({"quotient_familial": {"value": -1, "source": "impots"}},
     {"quotient_familial.value", "quotient_familial.source"}),
    ({"colour": "blue"}, {"colour"}),
    ({"person_id": "P999999"}, {"person_id"}),
])
async def test_invalid_bodies_name_their_fields(world, change, fields):
    child = _children(world, AgeGroup.ELEMENTAIRE, 1)[0]
    async with raw_client() as client:
        answer = await client.post("/v1/registrations", json=_body(child) | change,
                                   headers={"Idempotency-Key": "alsh-invalid"})
    assert answer.status_code == 422
    assert {d["field"] for d in answer.json()["error"]["details"]} == fields


async def test_capacities_need_a_range(world):
    async with raw_client() as client:
        missing = await client.get("/v1/alsh/capacities", params={"from": "2026-12-01"})
        backwards = await client.get("/v1/alsh/capacities", params={"from": "2027-01-01", "to": "2026-12-01"})
        too_long = await client.get("/v1/alsh/capacities", params={"from": "2026-09-01", "to": "2027-12-01"})
    assert [r.status_code for r in (missing, backwards, too_long)] == [422, 422, 422]
    assert missing.json()["error"]["details"] == [{"field": "to", "message": "a date, YYYY-MM-DD"}]


async def test_a_full_week_waits_and_a_cancellation_goes_through_the_adapter(world):
    children = _children(world, AgeGroup.MATERNELLE, 26, date.fromisoformat(WINTER))
    async with city() as backend:
        made = [await backend.submit_registration(_body(c, weeks=[WINTER]), f"w-{c}") for c in children]
        before = await backend.alsh_capacities(date(2027, 2, 22), date(2027, 2, 22))
        cancelled = await backend.cancel_registration(made[0]["id"], {"reason": "Famille partie"}, "wc-1")
        again = await backend.cancel_registration(made[0]["id"], {"reason": "Famille partie"}, "wc-1")
        after = await backend.alsh_capacities(date(2027, 2, 22), date(2027, 2, 22))
    assert [m["state"] for m in made] == ["registered"] * 24 + ["waiting"] * 2
    assert [m["alsh"]["weeks"][0]["rank"] for m in made[24:]] == [1, 2]
    assert before["weeks"][0]["groups"][0] == {"group": "maternelle", "capacity": 24, "registered": 24,
                                               "available": 0, "waiting": 2}
    assert cancelled == again and cancelled["kind"] == "alsh" and cancelled["state"] == "cancelled"
    # The freed place went to the first waiting: still full, one fewer waiting.
    assert (after["weeks"][0]["groups"][0]["registered"], after["weeks"][0]["groups"][0]["waiting"]) == (24, 1)


async def test_promotion_and_withdrawal_on_one_instance(world):
    children = _children(world, AgeGroup.MATERNELLE, 27, date.fromisoformat(WINTER))
    async with raw_client() as client:
        made = []
        for number, child in enumerate(children):
            answer = await client.post("/v1/registrations", json=_body(child, weeks=[WINTER]),
                                       headers={"Idempotency-Key": f"p-{number}"})
            made.append(answer.json())
        first_replay = await client.post("/v1/registrations", json=_body(children[24], weeks=[WINTER]),
                                         headers={"Idempotency-Key": "p-24"})
        cancel = await client.post(f"/v1/registrations/{made[0]['id']}/cancellation", json={},
                                   headers={"Idempotency-Key": "pc-0"})
        promoted = (await client.get(f"/v1/registrations/{made[24]['id']}")).json()
        moved_up = (await client.get(f"/v1/registrations/{made[26]['id']}")).json()
        leave = await client.post(f"/v1/registrations/{made[25]['id']}/cancellation", json={},
                                  headers={"Idempotency-Key": "pc-25"})
        last = (await client.get(f"/v1/registrations/{made[26]['id']}")).json()
        places = (await client.get("/v1/alsh/capacities", params={"from": WINTER, "to": WINTER})).json()
    assert [m["alsh"]["weeks"][0]["rank"] for m in made[24:]] == [1, 2, 3]
    assert cancel.status_code == 200 and cancel.json()["kind"] == "alsh"
    assert promoted["state"] == "registered" and promoted["alsh"]["weeks"][0]["rank"] is None
    assert moved_up["alsh"]["weeks"][0]["rank"] == 2
    assert leave.status_code == 200 and last["alsh"]["weeks"][0]["rank"] == 1
    # A replay gives the first answer unchanged, even after the registration moved on.
    assert first_replay.status_code == 200 and first_replay.json()["alsh"]["weeks"][0]["rank"] == 1
    group = places["weeks"][0]["groups"][0]
    assert (group["registered"], group["waiting"]) == (24, 1)


async def test_a_town_family_waiting_takes_the_place_first(world):
    # 26 October: the maternelle is full and one of the town's families waits.
    week = "2026-10-26"
    first, second = _children(world, AgeGroup.MATERNELLE, 2, date.fromisoformat(week))
    async with raw_client() as client:
        # An élémentaire place is free that week; a maternelle one is not.
        made = (await client.post("/v1/registrations", json=_body(first, weeks=[week]),
                                  headers={"Idempotency-Key": "t-1"})).json()
        other = (await client.post("/v1/registrations", json=_body(second, weeks=[week]),
                                   headers={"Idempotency-Key": "t-2"})).json()
        await client.post(f"/v1/registrations/{made['id']}/cancellation", json={},
                          headers={"Idempotency-Key": "tc-1"})
        after = (await client.get(f"/v1/registrations/{other['id']}")).json()
    assert made["state"] == "waiting" and made["alsh"]["weeks"][0]["rank"] == 2
    assert other["alsh"]["weeks"][0]["rank"] == 3
    assert after["alsh"]["weeks"][0]["rank"] == 2  # moved up behind the town's family


async def test_a_child_new_to_the_town_is_created_with_the_registration():
    person = {"birth_name": "NDIAYE", "usage_name": None, "given_names": ["Awa"], "sex": "F",
              "birth_date": "2019-02-14"}
    async with raw_client() as client:
        created = await client.post("/v1/registrations", json={"kind": "alsh", "person": person, "weeks": [WINTER]},
                                    headers={"Idempotency-Key": "n-1"})
    answer = created.json()
    assert created.status_code == 201 and answer["person_id"].startswith("PN") and answer["family_id"]
    assert answer["alsh"]["weeks"][0]["group"] == "elementaire" and answer["alsh"]["daily_price"] is None


async def test_an_older_server_says_places_are_unknown():
    def old(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"error": {"code": "not_found", "message": "Not Found"}})

    async with city(transport=httpx.MockTransport(old)) as backend:
        with pytest.raises(AgencyError) as failed:
            await backend.alsh_capacities(date(2026, 12, 1), date(2026, 12, 31))
    assert failed.value.status is Status.UNAVAILABLE and "contrat 1.4" in failed.value.message


@pytest.mark.parametrize("week", [
    {"week": "2026-12-22", "days": 4, "groups": []},
    {"week": "2026-12-21", "days": 4, "groups": [{"group": "ados", "capacity": 1, "registered": 0}]},
    {"week": "2026-12-21", "days": 4, "groups": [{"group": "maternelle", "capacity": -1, "registered": 0}]},
])
async def test_unreadable_places_are_bad_responses(week):
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"as_of": "2026-09-01", "weeks": [week]})

    async with city(transport=httpx.MockTransport(answer)) as backend:
        with pytest.raises(AgencyError) as failed:
            await backend.alsh_capacities(date(2026, 12, 1), date(2026, 12, 31))
    assert failed.value.status is Status.BAD_RESPONSE


def _keys(spec: dict, schema: dict) -> tuple[set[str], set[str]]:
    while "$ref" in schema:
        target = spec
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        schema = target
    return set(schema.get("properties", {})), set(schema.get("required", []))


async def test_the_answers_have_the_documented_fields(world):
    spec = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    assert spec["info"]["version"] == "1.4"
    child = _children(world, AgeGroup.ELEMENTAIRE, 1)[0]
    async with raw_client() as client:
        health = (await client.get("/v1/health")).json()
        places = (await client.get("/v1/alsh/capacities", params={"from": "2026-12-01", "to": "2026-12-31"})).json()
        created = (await client.post("/v1/registrations", json=_body(child), headers={"Idempotency-Key": "d"})).json()
        cancelled = (await client.post(f"/v1/registrations/{created['id']}/cancellation", json={},
                                       headers={"Idempotency-Key": "dc"})).json()
    assert health["api_version"] == "1.4"
    path = spec["paths"]["/v1/alsh/capacities"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    properties, required = _keys(spec, path)
    assert required <= set(places) <= properties
    week = path["properties"]["weeks"]["items"]
    assert set(week["required"]) <= set(places["weeks"][0]) <= set(week["properties"])
    group = week["properties"]["groups"]["items"]
    assert set(group["required"]) == set(places["weeks"][0]["groups"][0]) == set(group["properties"])
    properties, required = _keys(spec, {"$ref": "#/components/schemas/Registration"})
    assert required <= set(created) <= properties
    assert created["state"] in spec["components"]["schemas"]["Registration"]["properties"]["state"]["enum"]
    properties, required = _keys(spec, {"$ref": "#/components/schemas/AlshRegistration"})
    assert required <= set(created["alsh"]) <= properties
    request = _keys(spec, {"$ref": "#/components/schemas/AlshRegistrationRequest"})[0]
    assert set(_body(child)) <= request
    cancel = spec["paths"]["/v1/registrations/{registration_id}/cancellation"]["post"]["responses"]["200"]
    assert cancelled["kind"] in cancel["content"]["application/json"]["schema"]["properties"]["kind"]["enum"]


async def test_the_counters_body_is_what_the_town_accepts(world):
    from counter.domain.dates import BirthDate
    from registrations.alsh.rules import AlshRequest, alsh_body, alsh_quote

    child = _children(world, AgeGroup.ELEMENTAIRE, 1)[0]
    noel = shipped_calendar().period("2026-noel-B")
    request = AlshRequest(1, noel.key, ("2026-12-28", "2026-12-21"))
    quote = alsh_quote(weeks_of(noel), 640, "CNAF")
    by_id = alsh_body(request, None, child, quote=quote, qf_value=640, qf_source="CNAF")
    assert by_id == {"kind": "alsh", "person_id": child, "weeks": ["2026-12-21", "2026-12-28"],
                     "daily_price": "7.00", "quotient_familial": {"value": 640, "source": "caf"}}

    class Person:  # a person row's attributes, as the outbox's payload builder reads them
        birth_name, usage_name, given_names, sex = "NDIAYE", None, "Awa, Marie", "F"
        birth = BirthDate(2018, 5, 2)

    by_identity = alsh_body(request, Person(), None, qf_value=300, qf_source="declared")
    assert by_identity["person"]["birth_date"] == "2018-05-02" and "daily_price" not in by_identity
    async with city() as backend:
        for number, body in enumerate((by_id, by_identity)):
            answer = await backend.submit_registration(body, f"body-{number}")
            assert answer["kind"] == "alsh" and [w["group"] for w in answer["alsh"]["weeks"]] == ["elementaire"] * 2
