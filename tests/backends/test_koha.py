"""The Koha adapter against the emulated Koha, in-process: httpx, Starlette and
the town's data are real, every fault comes from the emulator's knobs;
MockTransport only for body shapes the knobs cannot produce."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import date
from functools import partial

import httpx
import pytest

from backends.http import AgencyError
from counter.backend import LibraryCard, Status
from counter.domain.dates import BirthDate
from counter.domain.deliveries import NO_GUARANTOR_NOTE
from counter.domain.names import split_given_names
from counter.settings import EmulatorKnobs
from fixtures.emulators.knobs import in_process_transport
from fixtures.emulators.koha.app import KohaApp
from fixtures.emulators.koha.app import error_body as koha_error_body
from fixtures.emulators.koha.patrons import of_town
from fixtures.emulators.plugin import EmulatorContext, emulated_transport
from fixtures.emulators.town_data import town_data
from tests.backends.helpers import (
    TODAY,
    Clock,
    fault_matrix,
    identity_of,
    open_backend,
    subject_of,
    token_answers,
)

koha = partial(open_backend, "koha")


@pytest.fixture(scope="module")
def patrons(town):
    return of_town(town)


def _unique(town, person: dict) -> bool:
    """Nobody else in town shares the names and birth date (homonyms make two cards)."""
    same = [p for p in town.candidates(person["birth_name"], split_given_names(person["given_names"]))
            if (p["birth_year"], p["birth_month"], p["birth_day"])
            == (person["birth_year"], person["birth_month"], person["birth_day"])]
    return len(same) == 1


def _patron_person(town, patrons, keep) -> tuple[dict, dict]:
    """The first (person, patron row) the predicate keeps."""
    person_of = {patron_id: person_id for person_id, patron_id in patrons.patron_of.items()}
    for row in patrons.rows:
        person = town.persons[person_of[row["patron_id"]]]
        if _unique(town, person) and keep(person, row):
            return person, row
    raise AssertionError("the town has no such patron")


def _by_birth_name(person, row):
    return person["birth_day"] is not None and row["surname"] == person["birth_name"]


# -- lookups ---------------------------------------------------------------------------


async def test_a_known_patron_gets_their_card_with_koha_figures(town, patrons):
    person, row = _patron_person(town, patrons,
                                 lambda p, r: _by_birth_name(p, r) and patrons.counters[r["patron_id"]][0] > 0)
    async with koha() as backend:
        answer = await backend.fetch("library_card", subject_of(person))
    checkouts, overdues = patrons.counters[row["patron_id"]]
    assert answer.provenance.status is Status.OK, answer.provenance.message
    assert answer.facts == (LibraryCard(
        card_number=row["cardnumber"], category=row["category_id"], expiry=date.fromisoformat(row["expiry_date"]),
        checkouts=checkouts, overdues=overdues, library=row["library_id"], restricted=row["restricted"],
        patron_id=row["patron_id"],
    ),)
    assert answer.provenance.source == "koha" and answer.provenance.label == "Carte de bibliothèque"


async def test_an_expired_card_is_still_an_answer_that_says_so(town, patrons):
    person, row = _patron_person(town, patrons,
                                 lambda p, r: _by_birth_name(p, r) and r["expiry_date"] < TODAY.isoformat())
    async with koha() as backend:
        answer = await backend.fetch("library_card", subject_of(person))
    assert answer.provenance.status is Status.OK
    assert answer.first(LibraryCard).expiry < TODAY
    assert "expirée le" in answer.provenance.message


async def test_a_card_under_the_usage_name_is_found_after_the_birth_name(town, patrons):
    person, row = _patron_person(town, patrons, lambda p, r: p["usage_name"] and r["surname"] == p["usage_name"])
    async with koha() as backend:
        answer = await backend.fetch("library_card", subject_of(person))
    assert answer.provenance.status is Status.OK
    assert answer.first(LibraryCard).patron_id == row["patron_id"]


async def test_a_partial_birth_date_matches_on_year_and_month(town, patrons):
    person, row = _patron_person(town, patrons, _by_birth_name)
    identity = identity_of(person)
    partial = replace(identity, birth=BirthDate(identity.birth.year, identity.birth.month))
    async with koha() as backend:
        found = await backend.fetch("library_card", subject_of(person, partial))
        wrong_month = replace(identity, birth=BirthDate(identity.birth.year, identity.birth.month % 12 + 1))
        missed = await backend.fetch("library_card", subject_of(person, wrong_month))
    assert [f.patron_id for f in found.facts] == [row["patron_id"]]
    assert missed.provenance.status is Status.NOT_FOUND


async def test_nobody_or_another_birth_date_is_not_found(town, patrons):
    outsider = next(p for p in town.persons.values() if p["id"] not in patrons.patron_of)
    person, _ = _patron_person(town, patrons, _by_birth_name)
    identity = identity_of(person)
    other_day = replace(identity, birth=BirthDate.of(identity.birth.earliest().replace(year=identity.birth.year - 1)))
    async with koha() as backend:
        for subject in (subject_of(outsider), subject_of(person, other_day)):
            answer = await backend.fetch("library_card", subject)
            assert answer.provenance.status is Status.NOT_FOUND
            assert answer.provenance.message == "Pas de carte à ce nom."
            assert answer.facts == ()


async def test_the_emulator_filters_as_koha_documents(patrons):
    row = patrons.rows[0]
    auth = {"Authorization": "Basic " + base64.b64encode(b"counter:x").decode()}
    async with httpx.AsyncClient(transport=emulated_transport("koha"), base_url="http://koha") as client:
        exact = await client.get("/api/v1/patrons", headers=auth,
                                 params={"surname": row["surname"].lower(), "_match": "exact", "_per_page": -1})
        contains = await client.get("/api/v1/patrons", headers=auth,
                                    params={"surname": row["surname"][1:-1], "_per_page": 5, "_page": 1})
        anonymous = await client.get("/api/v1/patrons")
    assert row["patron_id"] in [p["patron_id"] for p in exact.json()]
    assert all(p["surname"].lower() == row["surname"].lower() for p in exact.json())
    assert "checkouts_count" not in exact.json()[0]  # only when embedded
    assert len(contains.json()) <= 5 and int(contains.headers["X-Total-Count"]) >= len(exact.json())
    assert anonymous.status_code == 401 and set(anonymous.json()) == {"error", "error_code"}


# -- creating a patron ----------------------------------------------------------------------


def _payload(person: dict, **extra) -> dict:
    given = split_given_names(person["given_names"])
    payload = {"surname": person["birth_name"], "firstname": given[0],
               "date_of_birth": BirthDate(person["birth_year"], person["birth_month"], person["birth_day"]).earliest(),
               "library_id": "BEL-CTR", "category_id": "ENFANT", "street_number": "3", "address": "rue des Lilas",
               "postal_code": "45999", "city": "Bellerive-sur-Loire", "email": None, "phone": "06 00 00 00 00"}
    return payload | extra


async def test_save_card_then_the_card_is_found_and_a_retry_makes_no_second_one(town, patrons):
    child = next(p for p in town.persons.values() if p["id"] not in patrons.patron_of and p["birth_year"] == 2016
                 and p["birth_day"] and _unique(town, p))
    guarantor = patrons.rows[0]["patron_id"]
    payload = _payload(child, guarantor_id=guarantor, relationship_type="mère")
    async with koha() as backend:
        created = await backend.save_card(payload, "visit-1/card")
        again = await backend.save_card(payload, "visit-1/card")
        answer = await backend.fetch("library_card", subject_of(child))
    assert created["surname"] == child["birth_name"] and created["guarantor_id"] == guarantor
    assert created["cardnumber"] and created["expiry_date"]
    assert again["patron_id"] == created["patron_id"]
    assert answer.provenance.status is Status.OK
    assert [c.patron_id for c in answer.facts] == [created["patron_id"]]


def _usage_name_card(person, row):
    """A married reader whose card carries the usage name: found by the second name tried."""
    return (person["birth_day"] is not None and person["usage_name"] and row["surname"] == person["usage_name"]
            and person["usage_name"] != person["birth_name"])


async def test_renewing_a_card_updates_koha_s_record_once_and_never_makes_a_second(town, patrons):
    person, row = _patron_person(town, patrons, lambda p, r: _usage_name_card(p, r)
                                 and date.fromisoformat(r["expiry_date"]) < TODAY)
    until = date(2027, 11, 25)
    payload = _payload(person, surname=person["usage_name"], category_id="ADULTE", expiry_date=until)
    async with koha() as backend:
        renewed = await backend.save_card(payload, "k-1", reader=identity_of(person), today=TODAY)
        again = await backend.save_card(payload, "k-1", reader=identity_of(person), today=TODAY)
        answer = await backend.fetch("library_card", subject_of(person))
    assert renewed["patron_id"] == again["patron_id"] == row["patron_id"]  # the same record, not a new one
    assert (renewed["expiry_date"], renewed["date_renewed"]) == ("2027-11-25", "2026-11-25")
    assert renewed["category_id"] == "ADULTE" and renewed["cardnumber"] == row["cardnumber"]
    assert renewed["address"] == row["address"]  # Koha's PUT keeps what it is not given
    [card] = answer.facts
    assert card.expiry == until and "expirée" not in answer.provenance.message
    assert row["expiry_date"] < "2026-11-25"  # the town's shared data is untouched


async def test_renewing_never_shortens_a_card(town, patrons):
    person, row = _patron_person(town, patrons, lambda p, r: _by_birth_name(p, r)
                                 and date.fromisoformat(r["expiry_date"]) > TODAY)
    payload = _payload(person, category_id=row["category_id"], expiry_date=TODAY)
    async with koha() as backend:
        kept = await backend.save_card(payload, "k", reader=identity_of(person), today=TODAY)
    assert kept["expiry_date"] == row["expiry_date"] and kept.get("date_renewed") == row["date_renewed"]


async def test_a_child_s_new_card_is_linked_to_the_guarantor_s_record(town, patrons):
    parent, parent_row = _patron_person(town, patrons, _by_birth_name)
    child = next(p for p in town.persons.values() if p["id"] not in patrons.patron_of and p["birth_year"] == 2017
                 and p["birth_day"] and _unique(town, p))
    stranger = next(p for p in town.persons.values() if p["id"] not in patrons.patron_of and p["birth_day"]
                    and p["birth_year"] < 1990 and _unique(town, p))
    note = {"staff_notes": NO_GUARANTOR_NOTE}
    async with koha() as backend:
        linked = await backend.save_card(_payload(child, **note), "k1", reader=identity_of(child),
                                         guarantor=identity_of(parent), relationship="mère")
        unknown_child = next(p for p in town.persons.values() if p["id"] not in patrons.patron_of
                             and p["birth_year"] == 2018 and p["birth_day"] and _unique(town, p))
        unlinked = await backend.save_card(_payload(unknown_child, **note), "k2", reader=identity_of(unknown_child),
                                           guarantor=identity_of(stranger), relationship="père")
    assert (linked["guarantor_id"], linked["relationship_type"]) == (parent_row["patron_id"], "mère")
    assert linked["staff_notes"] is None
    assert unlinked["guarantor_id"] is None and unlinked["staff_notes"] == NO_GUARANTOR_NOTE


@pytest.mark.parametrize(("extra", "status", "words"), [
    ({"favourite_colour": "bleu"}, 400, "favourite_colour"),
    ({"category_id": None}, 400, "category_id"),
    # Koha's own reason, not just "données invalides" (issue 11, point 5).
    ({"library_id": "ANNEXE"}, 400, "« Given library_id does not exist. »"),
    ({"firstname": 12}, 400, "firstname"),
    ({"cardnumber": "2045900000001"}, 409, "doublon"),
])
async def test_save_card_refusals_are_french_agency_errors(town, patrons, extra, status, words):
    person = next(p for p in town.persons.values() if p["id"] not in patrons.patron_of and p["birth_day"])
    async with koha() as backend:
        with pytest.raises(AgencyError) as refused:
            await backend.save_card(_payload(person, **extra), "k")
    assert refused.value.http_status == status
    assert refused.value.status is Status.BAD_RESPONSE
    assert words in refused.value.message and refused.value.message.startswith("Koha")


async def test_save_card_is_bounded_by_the_deadline():
    async with koha(knobs=EmulatorKnobs(latency_ms=5000), timeout=0.1) as backend:
        with pytest.raises(AgencyError) as late:
            await backend.save_card({"surname": "X", "library_id": "BEL-CTR", "category_id": "ADULTE"}, "k")
    assert late.value.status is Status.TIMEOUT


# -- the libraries (Koha's branches) -------------------------------------------------------------


BRANCHES = [("BEL-CTR", "Médiathèque Jacques-Prévert (centre-ville)"), ("BEL-LOI", "Bibliothèque des Bords-de-Loire")]
AUTH = {"Authorization": "Basic " + base64.b64encode(b"counter:x").decode()}


class Counting(httpx.AsyncBaseTransport):
    """The real transport, counting the requests per path (how often Koha is asked)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner, self.paths = inner, []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        return await self.inner.handle_async_request(request)


def koha_with(town, *codes: str) -> tuple[KohaApp, httpx.AsyncBaseTransport]:
    """A Koha of the town that has only the libraries ``codes`` (all of the town's without)."""
    app = KohaApp(EmulatorContext(town=town))
    if codes:
        app.libraries = {code: row for code, row in app.libraries.items() if code in codes}
    return app, in_process_transport(app.asgi(), None, koha_error_body)


async def test_the_emulator_lists_its_libraries_and_refuses_an_unknown_one_as_koha_does(town, patrons):
    person = next(p for p in town.persons.values() if p["id"] not in patrons.patron_of and p["birth_day"])
    new = {"surname": person["birth_name"], "category_id": "ADULTE"}
    async with httpx.AsyncClient(transport=emulated_transport("koha"), base_url="http://koha") as client:
        listed = await client.get("/api/v1/libraries", headers=AUTH)
        page = await client.get("/api/v1/libraries", headers=AUTH, params={"_per_page": 1, "_page": 2})
        one = await client.get("/api/v1/libraries/BEL-LOI", headers=AUTH)
        missing = await client.get("/api/v1/libraries/NOPE", headers=AUTH)
        anonymous = await client.get("/api/v1/libraries")
        empty = await client.post("/api/v1/patrons", headers=AUTH, json={**new, "library_id": ""})
        unknown = await client.post("/api/v1/patrons", headers=AUTH, json={**new, "library_id": "ANNEXE"})
    assert listed.status_code == 200
    assert [(lib["library_id"], lib["name"]) for lib in listed.json()] == BRANCHES
    assert listed.json()[0]["city"] == "Bellerive-sur-Loire" and listed.json()[0]["pickup_location"] is True
    assert [lib["library_id"] for lib in page.json()] == ["BEL-LOI"] and page.headers["X-Total-Count"] == "2"
    assert one.json()["name"] == BRANCHES[1][1]
    assert missing.status_code == 404 and missing.json()["error"] == "Library not found"
    assert anonymous.status_code == 401
    for refused in (empty, unknown):
        assert refused.status_code == 400
        assert refused.json() == {"error": "Given library_id does not exist.", "error_code": "bad_request"}


async def test_koha_s_libraries_are_read_once_an_hour(town):
    clock = Clock()
    counting = Counting(emulated_transport("koha"))
    async with koha(transport=counting, clock=clock) as backend:
        first = await backend.libraries()
        again = await backend.libraries()
        clock.advance(3601)
        later = await backend.libraries()
    assert [(lib.library_id, lib.name) for lib in first] == BRANCHES
    assert again == later == first
    assert counting.paths == ["/api/v1/libraries", "/api/v1/libraries"]  # not once per card


async def test_the_library_list_is_read_page_by_page(town):
    app, transport = koha_with(town)
    app.libraries.update({f"ANX{n:02d}": {"code": f"ANX{n:02d}", "name": f"Annexe {n}", "address_id": None}
                          for n in range(1, 131)})  # more than one page of 100
    async with koha(transport=transport) as backend:
        libraries = await backend.libraries()
    assert len(libraries) == 132 and libraries[-1].library_id == "ANX130"


async def test_a_new_card_goes_to_the_configured_library(town, patrons):
    reader = next(p for p in town.persons.values() if p["id"] not in patrons.patron_of and p["birth_day"]
                  and _unique(town, p))
    app, transport = koha_with(town)
    payload = {k: v for k, v in _payload(reader).items() if k != "library_id"}
    async with koha(transport=transport, library_id="BEL-LOI") as backend:
        created = await backend.save_card(payload, "k")
    assert created["library_id"] == "BEL-LOI"
    assert [p["library_id"] for p in app.created] == ["BEL-LOI"]


async def test_without_a_configured_library_koha_s_only_one_is_used(town, patrons):
    reader = next(p for p in town.persons.values() if p["id"] not in patrons.patron_of and p["birth_day"]
                  and _unique(town, p))
    app, transport = koha_with(town, "BEL-LOI")
    # A message confirmed before the fix carries an empty library: it is filled in too.
    async with koha(transport=transport) as backend:
        created = await backend.save_card(_payload(reader, library_id=""), "k")
    assert created["library_id"] == "BEL-LOI"


async def test_several_libraries_and_none_configured_is_said_not_guessed(town, patrons):
    reader = next(p for p in town.persons.values() if p["id"] not in patrons.patron_of and p["birth_day"]
                  and _unique(town, p))
    app, transport = koha_with(town)
    async with koha(transport=transport) as backend:
        with pytest.raises(AgencyError) as waiting:
            await backend.save_card(_payload(reader, library_id=None), "k")
    assert waiting.value.status is Status.UNAVAILABLE and not hasattr(waiting.value, "http_status")
    assert waiting.value.message == (
        "Koha gère 2 bibliothèques (BEL-CTR, BEL-LOI) : l'administrateur doit choisir celle des nouvelles "
        "cartes (library_id dans [backends.koha]).")
    assert app.created == []


async def test_a_koha_refusing_the_library_list_names_the_permission(town):
    async with koha(knobs=EmulatorKnobs(error_status=403)) as backend:
        with pytest.raises(AgencyError) as refused:
            await backend.libraries()
    assert refused.value.status is Status.UNAUTHORIZED and "catalogue" in refused.value.message


@pytest.mark.parametrize("content", [
    pytest.param(b'{"library_id": "BEL-CTR"}', id="not-a-list"),
    pytest.param(b'[{"name": "Sans code"}]', id="no-library-id"),
    pytest.param(b'[{"library_id": 12, "name": "x"}]', id="id-not-a-string"),
])
async def test_an_unreadable_library_list_is_a_bad_response(content):
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=content))
    async with koha(transport=transport) as backend:
        with pytest.raises(AgencyError) as unreadable:
            await backend.libraries()
    assert unreadable.value.status is Status.BAD_RESPONSE


# -- credentials and faults ---------------------------------------------------------------------


async def test_basic_auth_password_must_be_the_token_when_one_is_set(town, patrons):
    person, _ = _patron_person(town, patrons, _by_birth_name)
    refused, health, accepted = await token_answers("koha", "library_card", subject_of(person))
    assert refused.provenance.status is Status.UNAUTHORIZED and "Koha refuse l'accès" in refused.provenance.message
    assert health.status is Status.UNAUTHORIZED
    assert accepted.provenance.status is Status.OK


@pytest.mark.parametrize(("knobs", "timeout", "status", "words", "health_too"),
                         fault_matrix(missing="category_id", mistyped="patron_id"))
async def test_faults_become_statuses(town, patrons, knobs, timeout, status, words, health_too):
    """The whole fault matrix, produced by the Koha emulator's knobs, for a reader Koha knows."""
    reader, _ = _patron_person(town, patrons, _by_birth_name)
    async with koha(knobs=knobs, timeout=timeout) as backend:
        answer = await backend.fetch("library_card", subject_of(reader))
        health = await backend.health()
    assert answer.provenance.status is status, answer.provenance.message
    assert words in answer.provenance.message and answer.facts == ()
    assert health.status is (status if health_too else Status.OK)


async def test_a_404_on_the_patrons_search_is_a_wrong_address_not_an_unknown_reader(town, patrons):
    reader, _ = _patron_person(town, patrons, _by_birth_name)
    async with koha(knobs=EmulatorKnobs(error_status=404)) as backend:
        answer = await backend.fetch("library_card", subject_of(reader))
    assert answer.provenance.status is Status.UNAVAILABLE
    assert answer.provenance.message == ("Koha ne répond pas à l'adresse configurée (erreur 404) : "
                                         "prévenir l'administrateur.")


async def test_koha_maintenance_is_named():
    async with koha(knobs=EmulatorKnobs(error_status=503)) as backend:
        answer = await backend.fetch("library_card", subject_of(town_data().persons[1]))
    assert answer.provenance.message == "Koha est en maintenance."


def _patron_json(**changes) -> dict:
    patron = {"patron_id": 7, "cardnumber": "2045900000007", "surname": "KEITA", "firstname": "Binta",
              "date_of_birth": "1989-04-05", "category_id": "ADULTE", "library_id": "BEL-CTR",
              "expiry_date": "2027-01-01", "restricted": False, "checkouts_count": 2, "overdues_count": 0}
    return patron | changes


# Shapes the knobs do not make (they drop or retype a field everywhere): MockTransport.
@pytest.mark.parametrize("content", [
    pytest.param(b'{"patron_id": 7}', id="not-a-list"),
    pytest.param(httpx.Response(200, json=[_patron_json(checkouts_count="2")]).content, id="count-as-text"),
    pytest.param(httpx.Response(200, json=[_patron_json(expiry_date="bientôt")]).content, id="date-not-a-date"),
    pytest.param(httpx.Response(200, json=[_patron_json(restricted="no")]).content, id="flag-as-text"),
    pytest.param(httpx.Response(200, json=[_patron_json(category_id=None)]).content, id="category-null"),
])
async def test_unreadable_bodies_are_bad_responses(town, content):
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=content))
    async with koha(transport=transport) as backend:
        answer = await backend.fetch("library_card", subject_of(town.persons[1]))
    assert answer.provenance.status is Status.BAD_RESPONSE
    assert answer.provenance.message.startswith("Réponse")


async def test_the_request_is_what_koha_documents(town):
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=[_patron_json()])

    async with koha(transport=httpx.MockTransport(answer)) as backend:
        result = await backend.fetch("library_card", subject_of(town.persons[1]))
    assert result.provenance.status is Status.OK
    request = seen[0]
    assert request.url.path == "/api/v1/patrons"
    assert dict(request.url.params) == {"surname": "KEITA", "firstname": "Binta", "date_of_birth": "1989-04-05",
                                        "_match": "exact", "_per_page": "50"}
    assert request.headers["x-koha-embed"] == "checkouts+count,overdues+count"
    assert request.headers["authorization"] == "Basic " + base64.b64encode(b"counter:training").decode()
