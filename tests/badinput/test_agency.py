"""Malformed and hostile agency answers: each ends in a status and a French message,
hostile text arrives as it was sent (shown safely), nothing raises."""

from __future__ import annotations

import copy
import json

import httpx
import pytest

from counter.backend import Identity, Status, Subject
from counter.domain.dates import BirthDate
from counter.domain.text import printable, shown
from tests.backends.helpers import RECIPIENT, make_backend
from tests.badinput.corpus import params
from tests.conftest import TODAY

PARENT = Identity("GIRAUD", ("Anne",), "F", BirthDate(1988, 12, 1), birth_insee_code="13002",
                  france_travail_id="1234567A")
SUBJECTS = {
    "adult": Subject(1, PARENT, TODAY, role="parent", members=(("parent", PARENT),)),
    "pupil": Subject(2, Identity("GIRAUD", ("Léa",), "F", BirthDate(2021, 3, 2)), TODAY, role="child",
                     members=(("parent", PARENT),)),
    "baby": Subject(3, Identity("GIRAUD", ("Thi",), "F", BirthDate(2026, 6, 1)), TODAY, role="child",
                    members=(("parent", PARENT),)),
}
ADULT = {"nom_naissance": "GIRAUD", "nom_usage": None, "prenoms": "ANNE", "date_naissance": "1988-12-01", "sexe": "F"}
TEMPLATES = {
    "qf": {"data": {
        "allocataires": [ADULT],
        "enfants": [{"nom_naissance": "GIRAUD", "nom_usage": None, "prenoms": "INES",
                     "date_naissance": "2004-03-30", "sexe": "F"}],
        "adresse": {"destinataire": "Madame GIRAUD ANNE", "complement_information": None,
                    "complement_information_geographique": None, "numero_libelle_voie": "8 BOULEVARD JEAN JAURÈS",
                    "lieu_dit": None, "code_postal_ville": "13400 AUBAGNE", "pays": "FRANCE"},
        "quotient_familial": {"fournisseur": "CNAF", "valeur": 1200, "annee": 2023, "mois": 6},
    }, "links": {}, "meta": {}},
    "c2s": {"data": {"est_beneficiaire": True, "avec_participation": False, "date_debut_droit": "2024-01-01"}},
    "eaje": {"data": {"allocataires": [ADULT], "enfants": [], "adresse": None,
                      "parametres_calcul_participation_familiale": {
                          "nombre_enfants_a_charge": 2, "nombre_enfants_beneficiaire_aeeh": 0,
                          "base_ressources_annuelles": {"valeur": 32000, "annee_calcul": 2024}}}},
    "france_travail": {"data": {"inscription": {"date_debut": "2025-01-06", "date_fin": None,
                                                "categorie": {"libelle": "Catégorie 1"}}}},
    "scolarite": {"data": {"est_scolarise": True, "annee_scolaire": "2026",
                           "etablissement": {"nom": "École Jules-Ferry", "code_uai": "0451234A"},
                           "module_elementaire_formation": {"libelle": "MS"}, "est_boursier": False}},
    "koha_patrons": [{"patron_id": 12, "cardnumber": "B0001234", "category_id": "ADULTE",
                      "expiry_date": "2027-06-30", "date_of_birth": "1988-12-01", "library_id": "MED",
                      "restricted": False, "checkouts_count": 2, "overdues_count": 0,
                      "surname": "GIRAUD", "firstname": "Anne"}],
    "city_people": {"people": [{"id": "P-1", "sex": "F"}]},
    "city_school": {"as_of": "2026-11-01", "current": {
        "school_year": 2026, "state": "enrolled", "school_name": "École Jules-Ferry", "uai": "0459999A",
        "level": "MS", "canteen_days": ["mon"], "after_school_days": []}, "next": None},
    "city_creche_placed": {"as_of": "2026-11-01", "state": "placed",
                           "placement": {"creche_name": "Les Lucioles", "since": "2026-09-01"}},
    "city_creche_waiting": {"as_of": "2026-11-01", "state": "waiting", "application": {
        "applied_on": "2026-07-01", "rank": 3, "wished_creches": [{"name": "Les Lucioles"}],
        "wished_start": "2027-01-04"}},
    "city_capacities": {"schools": [{"uai": "0459999A", "levels": [{"level": "CP", "capacity": 25, "enrolled": 20}]}],
                        "creches": [{"code": "CR-LUC", "capacity": 40}]},
}
PATRON = {"surname": "GIRAUD", "firstname": "Anne", "date_of_birth": "1988-12-01", "category_id": "ADULTE",
          "library_id": "MED"}
SETTINGS = {"api_particulier": {"recipient": RECIPIENT}, "koha": {}, "city": {}}


def _path(path: str) -> list:
    return [int(part) if part.isdigit() else part for part in path.split(".")]


def _set(document, path: str, value) -> None:
    *parents, last = _path(path)
    for key in parents:
        document = document[key]
    document[last] = value


def _drop(document, path: str) -> None:
    *parents, last = _path(path)
    for key in parents:
        document = document[key]
    del document[last]


def body_of(reply: dict) -> bytes:
    if "body_hex" in reply:
        return bytes.fromhex(reply["body_hex"])
    if "body" in reply:
        return reply["body"].encode()
    special = reply.get("body_special")
    if special == "deep":
        return b"[" * 100_000 + b"]" * 100_000
    if special == "huge":
        return b'{"data": "' + b"x" * 3_000_000 + b'"}'
    if special == "thousand-koha-fields":
        return json.dumps({"errors": [{"path": f"/body/f{n}"} for n in range(1000)]}).encode()
    if special == "long-koha-reason":
        return json.dumps({"error": "Given library_id does not exist. " + "x" * 10_000}).encode()
    if special == "thousand-city-fields":
        return json.dumps({"error": {"code": "invalid", "details": [{"field": f"f{n}"} for n in range(1000)]}}).encode()
    document = copy.deepcopy(TEMPLATES[reply["template"]])
    for path, value in reply.get("patch", {}).items():
        _set(document, path, value)
    for path, (piece, times) in reply.get("patch_repeat", {}).items():
        _set(document, path, piece * times)
    for path in reply.get("drop", []):
        _drop(document, path)
    return json.dumps(document).encode()  # NaN and Infinity are written as Python writes them


def transport(replies: list[dict]) -> httpx.MockTransport:
    asked = []

    def answer(request: httpx.Request) -> httpx.Response:
        reply = replies[min(len(asked), len(replies) - 1)]
        asked.append(request)
        headers = {"content-type": "application/json", **reply.get("headers", {})}
        return httpx.Response(reply.get("http", 200), headers=headers, content=body_of(reply))

    return httpx.MockTransport(answer)


async def outcome(case: dict) -> tuple[Status, str, bool]:
    """(status, what the agent reads, whether a person must act) for one case."""
    from backends.http import AgencyError, Rejected
    from counter.domain.facts_text import describe, status_line

    backend = make_backend(case["agency"], transport(case["reply"]), secret="s3cret", training=False,
                           **SETTINGS[case["agency"]])
    ask = case["ask"]
    try:
        if ask == "health":
            health = await backend.health()
            return health.status, health.message, False
        if ask in ("save_card", "submit_registration", "capacities"):
            try:
                if ask == "save_card":
                    await backend.save_card(PATRON, "RCP-0000-0000:1")
                elif ask == "submit_registration":
                    await backend.submit_registration({"kind": "school"}, "RCP-0000-0000:1")
                else:
                    await backend.capacities(2027)
            except AgencyError as exc:
                assert printable(exc.message) == exc.message, "the refusal is stored and printed as it is"
                assert len(exc.message) <= 300
                return exc.status, exc.message, isinstance(exc, Rejected)
            pytest.fail("the agency's answer was accepted")
        answer = await backend.fetch(ask, SUBJECTS[case.get("subject", "adult")])
        provenance = answer.provenance
        # The agent reads the section's status line (where a wait is given) and its message.
        lines = [status_line(provenance), provenance.message,
                 *(line for fact in answer.facts for line in describe(fact, TODAY))]
        if provenance.status is not Status.OK:
            assert answer.facts == ()
            assert provenance.message and len(provenance.message) <= 300
        return provenance.status, "\n".join(shown(line) for line in lines), False
    finally:
        await backend.aclose()


@pytest.mark.parametrize("case", params("agency"))
async def test_an_agency_answer_ends_in_a_status_and_a_french_message(case):
    status, said, refused = await outcome(case)
    assert status is Status(case["status"])
    assert case["says"] in said
    assert refused == case.get("refused", False)
