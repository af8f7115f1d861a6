"""The change feed (contract 1.3): the emulator's ``GET /v1/changes`` over HTTP, and
the city adapter's ``changes()`` against it, in-process (httpx, Starlette and the
town's data are real; every fault comes from the emulator's knobs)."""

from __future__ import annotations

import httpx
import pytest

from backends.city.adapter import CursorExpired, parse_changes
from backends.http import AgencyError
from counter.backend import Status
from counter.domain.dates import BirthDate
from counter.domain.family_feed import FamilyChanged, FamilyRemoved, PersonMerged, PersonRemoved, UnreadableChange
from fixtures.emulators.city import emulator
from fixtures.emulators.city.world import feed_families, of_town
from fixtures.emulators.knobs import in_process_transport
from fixtures.emulators.plugin import EmulatorContext
from tests.backends.helpers import fault_matrix, make_backend


@pytest.fixture
def app(town):
    return emulator.create_app(EmulatorContext(town=town))


def client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=in_process_transport(app, None, emulator.error_body), base_url="http://city",
                             headers={"Authorization": "Bearer training"})


async def test_the_feed_pages_through_the_town_s_families_then_waits_at_its_end(app, town):
    families = feed_families(of_town(town))
    async with client(app) as http:
        first = (await http.get("/v1/changes", params={"limit": 3})).json()
        assert [c["family"]["id"] for c in first["changes"]] == families[:3]
        assert first["more"] and first["remaining"] == len(families) - 3
        second = (await http.get("/v1/changes", params={"after": first["next"], "limit": 2})).json()
        assert [c["family"]["id"] for c in second["changes"]] == families[3:5]
        # The same cursor twice gives the same page (a client may ask again after a crash).
        assert (await http.get("/v1/changes", params={"after": first["next"], "limit": 2})).json() == second
        end = f"c{len(families)}"
        last = (await http.get("/v1/changes", params={"after": end})).json()
        assert last == {"changes": [], "next": end, "more": False, "remaining": 0}
        assert (await http.get("/v1/changes", params={"after": f"c{len(families) + 1}"})).status_code == 410
        assert (await http.get("/v1/changes", params={"after": "nonsense"})).json()["error"]["code"] == \
            "cursor_invalid"
        assert (await http.get("/v1/changes", params={"limit": 0})).status_code == 422
        assert (await http.get("/v1/changes", headers={"Authorization": ""})).status_code == 401


async def test_created_persons_and_scripted_changes_follow_the_history(app, town):
    city = app.state.city
    end = f"c{len(city.history)}"
    body = {"kind": "creche", "creche_ids": ["CR01"], "start_date": "2027-01-04", "days": ["mon"],
            "person": {"birth_name": "FEEDTEST", "given_names": ["Zoé"], "sex": "F", "birth_date": "2026-05",
                       "address": {"street_line": "12 bis rue des Lilas", "postal_code": "45999",
                                   "city": "Bellerive-sur-Loire"}}}
    async with client(app) as http:
        answer = (await http.post("/v1/registrations", json=body, headers={"Idempotency-Key": "k-1"})).json()
        assert (answer["person_id"], answer["family_id"]) == ("PN00001", "FN00001")
        city.script_change("F00001", "P000001", usage_name="NOUVEAU")
        city.script_merge("P000003", "P000002")
        city.script_removal(person_id="P000002")
        city.script_removal(family_id="F00002")
        page = (await http.get("/v1/changes", params={"after": end})).json()
    kinds = [c["type"] for c in page["changes"]]
    assert kinds == ["family", "family", "person_merged", "family", "person_removed", "family", "family_removed"]
    created = page["changes"][0]["family"]
    assert created["id"] == "FN00001" and created["members"][0]["birth_date"] == "2026-05"
    assert created["address"]["number"] == 12 and created["address"]["suffix"] == "bis"
    assert page["changes"][1]["family"]["members"][0]["usage_name"] == "NOUVEAU"
    # Each family change is a snapshot: the later removal does not rewrite the earlier entries.
    assert {m["person_id"] for m in page["changes"][3]["family"]["members"]} >= {"P000002"}
    assert "P000002" not in {m["person_id"] for m in page["changes"][5]["family"]["members"]}


async def test_the_adapter_reads_pages_into_source_families(app, town):
    city = app.state.city
    city.script_merge("P000003", "P000002")
    city.script_removal(family_id="F00002")
    backend = make_backend("city", in_process_transport(app, None, emulator.error_body))
    try:
        page = await backend.changes(None, 2)
        assert page.more and page.next == "c2" and page.remaining == len(city.history) + len(city.changes) - 2
        family = page.changes[0].family
        assert family.source_id == "F00001" and family.caf_number and family.address.street
        mother = family.members[0]
        assert (mother.source_id, mother.role, mother.birth) == ("P000001", "parent", BirthDate(1989, 4, 5))
        page = await backend.changes(f"c{len(city.history)}", 10)
        assert [type(c) for c in page.changes] == [PersonMerged, FamilyChanged, FamilyRemoved]
        assert page.changes[0] == PersonMerged("P000003", "P000002") and not page.more
        with pytest.raises(CursorExpired):
            await backend.changes("c999999", 10)
    finally:
        await backend.aclose()


@pytest.mark.parametrize(("knobs", "timeout", "status", "words", "_health"),
                         fault_matrix(missing="next", mistyped="more"))
async def test_the_feed_s_failures_are_typed_errors(town, knobs, timeout, status, words, _health):
    app = emulator.create_app(EmulatorContext(town=town))
    backend = make_backend("city", in_process_transport(app, knobs, emulator.error_body), timeout=timeout)
    try:
        with pytest.raises(AgencyError) as failed:
            await backend.changes(None, 5)
    finally:
        await backend.aclose()
    assert failed.value.status is status and words in failed.value.message


@pytest.mark.parametrize("field", ["person_id", "birth_date", "given_names", "role"])
async def test_a_page_whose_every_entry_is_unreadable_is_refused_whole(town, field):
    from counter.settings import EmulatorKnobs

    app = emulator.create_app(EmulatorContext(town=town))
    backend = make_backend("city", in_process_transport(app, EmulatorKnobs(mistype_fields=[field]),
                                                        emulator.error_body))
    try:
        with pytest.raises(AgencyError) as failed:
            await backend.changes(None, 5)
    finally:
        await backend.aclose()
    assert failed.value.status is Status.BAD_RESPONSE and "aucune modification lisible" in failed.value.message


def test_one_unreadable_entry_among_readable_ones_is_kept_as_such():
    good = {"type": "family_removed", "family_id": "F1"}
    page = parse_changes({"changes": [good, {"type": "person_removed", "person_id": 7},
                                      {"type": "family", "family": {"id": "F2", "members": "x"}},
                                      {"type": "weird"}, "nope"],
                          "next": "c5", "more": False})
    assert page.changes[0] == FamilyRemoved("F1")
    assert [type(c) for c in page.changes[1:]] == [UnreadableChange] * 4
    assert page.changes[2].family_id == "F2" and "members" in page.changes[2].reason
    assert PersonRemoved  # (the type of a readable person removal)
    for body in ({"changes": [], "next": "", "more": False}, {"changes": [], "next": "c1", "more": True},
                 {"changes": {}, "next": "c1", "more": False}, [], {"changes": [], "next": "c\x1b", "more": False}):
        with pytest.raises(AgencyError):
            parse_changes(body)


async def test_trainers_script_changes_over_http(app):
    async with client(app) as http:
        end = f"c{len(app.state.city.history)}"
        for body in ({"change": "family", "family_id": "F00001", "person_id": "P000001",
                      "fields": {"phone": "06 11 22 33 44"}},
                     {"change": "merge", "merged_id": "P000003", "kept_id": "P000002"},
                     {"change": "removal", "family_id": "F00002"}):
            assert (await http.post("/_emulator/changes", json=body)).status_code == 200
        assert (await http.post("/_emulator/changes", json={"change": "family", "family_id": "F99999"})
                ).status_code == 404
        assert (await http.post("/_emulator/changes", json={"change": "nonsense"})).status_code == 422
        assert (await http.post("/_emulator/changes", json={"change": "removal", "person_id": "P999999"})
                ).status_code == 404
        page = (await http.get("/v1/changes", params={"after": end})).json()
    assert [c["type"] for c in page["changes"]] == ["family", "person_merged", "family", "family_removed"]


async def test_a_server_of_an_older_contract_is_said_to_have_no_feed():
    def older(request: httpx.Request) -> httpx.Response:  # a 1.2 server: no such route
        return httpx.Response(404, json={"error": {"code": "not_found", "message": "No such resource."}})

    backend = make_backend("city", httpx.MockTransport(older))
    try:
        with pytest.raises(AgencyError) as failed:
            await backend.changes(None)
    finally:
        await backend.aclose()
    assert failed.value.status is Status.UNAVAILABLE and "contrat 1.3" in failed.value.message
