"""Every shipped API Particulier staging payload, replayed verbatim to the adapter.

An ``httpx.MockTransport`` serves one payload file's status and body as the
real staging server would; the adapter must turn each 200 into the right
facts and each error into the right status. Also here: bodies that break the
contract (missing or mistyped fields, too big, not UTF-8) and the error
bodies of the OpenAPI description that no payload file carries.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import httpx
import pytest
import yaml

from backends.api_particulier import parsing
from backends.api_particulier.errors import agency_error
from backends.http import MAX_BODY_BYTES, HttpResponse
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
from counter.domain.facts_text import status_line
from tests.backends.helpers import STATUS_OF_HTTP, TODAY, api_particulier
PAYLOADS = Path(__file__).resolve().parents[2] / "fixtures" / "data" / "api_particulier_staging" / "payloads"
SECTION_OF_FOLDER = {
    "api_particulier_v3_cnav_quotient_familial_with_civility": "quotient_familial",
    "api_particulier_v3_cnav_complementaire_sante_solidaire_with_civility": "c2s",
    "api_particulier_v3_cnav_participation_familiale_eaje_with_civility": "eaje",
    "api_particulier_v3_france_travail_statut_with_identifiant": "france_travail",
    "api_particulier_v3_men_scolarites_with_civility": "scolarite",
}
FILES = sorted(str(p.relative_to(PAYLOADS)) for folder in SECTION_OF_FOLDER for p in (PAYLOADS / folder).glob("*.y*ml"))

# Someone every section asks about: an adult of the household, 16 years old
# (schooling applies), with a France Travail identifier.
SUBJECT = Subject(
    person_id=1,
    identity=Identity("TESTEUR", ("Camille",), "F", BirthDate(2010, 5, 4), france_travail_id="000000X"),
    today=TODAY,
    role="parent",
)


def _load(file: str) -> dict:
    return yaml.safe_load((PAYLOADS / file).read_text(encoding="utf-8"))


def _replay(status: int, body: bytes, headers: dict | None = None) -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: httpx.Response(status, content=body, headers=headers))


async def _fetch_payload(file: str):
    document = _load(file)
    backend = api_particulier(_replay(document["status"], document["payload"].encode("utf-8")))
    try:
        return document, await backend.fetch(SECTION_OF_FOLDER[file.split("/")[0]], SUBJECT)
    finally:
        await backend.aclose()


def test_every_payload_folder_is_covered():
    assert len(FILES) == 128
    assert {f.split("/")[0] for f in FILES} == set(SECTION_OF_FOLDER)


@pytest.mark.parametrize("file", FILES)
async def test_each_staging_payload_gives_its_status_and_facts(file):
    document, answer = await _fetch_payload(file)
    expected = STATUS_OF_HTTP[document["status"]]
    assert answer.provenance.status is expected, answer.provenance.message
    assert answer.provenance.message or expected is Status.OK  # every failure says something to the agent
    if expected is not Status.OK:
        assert answer.facts == ()
        return
    data = json.loads(document["payload"])["data"]
    section = SECTION_OF_FOLDER[file.split("/")[0]]
    if section == "quotient_familial":
        qf = answer.first(QuotientFamilial)
        assert (qf.value, qf.provider, qf.year, qf.month) == (
            data["quotient_familial"]["valeur"], data["quotient_familial"]["fournisseur"],
            data["quotient_familial"]["annee"], data["quotient_familial"]["mois"])
        assert answer.provenance.as_of == date(qf.year, qf.month, 1)
        family = answer.first(Family)
        assert len(family.adults) == len(data["allocataires"]) and len(family.children) == len(data["enfants"])
        assert family.address.street_line == data["adresse"]["numero_libelle_voie"]
    elif section == "c2s":
        cover = answer.first(HealthCover)
        assert cover.beneficiary is data["est_beneficiaire"]
        assert cover.with_participation is data["avec_participation"]
        assert (cover.since.isoformat() if cover.since else None) == data["date_debut_droit"]
    elif section == "eaje":
        inputs = answer.first(EajeInputs)
        params = data["parametres_calcul_participation_familiale"]
        assert inputs.children_in_charge == params["nombre_enfants_a_charge"]
        assert answer.first(Family) is not None
    elif section == "france_travail":
        seeker = answer.first(JobSeeker)
        assert seeker.since.isoformat() == data["inscription"]["date_debut"]
        assert seeker.registered is (data["inscription"]["date_fin"] is None)  # every end date is past
    else:
        schooling = answer.first(Schooling)
        assert schooling.enrolled is data["est_scolarise"]
        assert schooling.scholarship is data["est_boursier"]
        assert schooling.scholarship_level == data["echelon_bourse"]
        assert schooling.uai == data["etablissement"]["code_uai"]
        assert len(schooling.school_year) == 9  # "2025" is shown as "2025-2026"


# -- named cases, value by value -------------------------------------------------------


async def test_roux_jeanne_msa_150_may_2023():
    _, answer = await _fetch_payload(
        "api_particulier_v3_cnav_quotient_familial_with_civility/200-couple-2_enfants-qf_msa_150_mai23.yaml")
    assert answer.first(QuotientFamilial) == QuotientFamilial(150, "MSA", 2023, 5)
    assert answer.provenance.as_of == date(2023, 5, 1)
    family = answer.first(Family)
    assert [a.given_names for a in family.adults] == ["JEANNE STEPHANIE", "LOIC NATHAN"]
    assert family.adults[0].birth_date == date(1987, 6, 27)
    assert len(family.children) == 2
    assert (family.address.street_line, family.address.postal_code, family.address.city) == (
        "1 RUE MONTORGUEIL", "75002", "PARIS")


async def test_giraud_anne_cnaf_1200_three_children():
    _, answer = await _fetch_payload(
        "api_particulier_v3_cnav_quotient_familial_with_civility/200-giraud-anne-3_enfants.yaml")
    assert answer.first(QuotientFamilial) == QuotientFamilial(1200, "CNAF", 2023, 6)
    family = answer.first(Family)
    assert len(family.children) == 3
    assert (family.address.postal_code, family.address.city) == ("13400", "AUBAGNE")


@pytest.mark.parametrize(("name", "expected"), [
    ("200-beneficiaire_avec_participation-feminin.yaml", HealthCover(True, True, date(2023, 6, 1))),
    ("200-beneficiaire_sans_participation-masculin-pays_etranger.yaml", HealthCover(True, False, date(2023, 2, 1))),
    ("non_beneficiaire_200.yaml", HealthCover(False, False, None)),
])
async def test_c2s_with_and_without_participation(name, expected):
    _, answer = await _fetch_payload(f"api_particulier_v3_cnav_complementaire_sante_solidaire_with_civility/{name}")
    assert answer.facts == (expected,)


async def test_eaje_lefebvre_one_child_one_aeeh_40923_in_2023():
    _, answer = await _fetch_payload(
        "api_particulier_v3_cnav_participation_familiale_eaje_with_civility/200-identite-cas-nominal.yaml")
    assert answer.first(EajeInputs) == EajeInputs(children_in_charge=1, aeeh_children=1, annual_resources=40923,
                                                  resources_year=2023)
    assert answer.provenance.as_of == date(2023, 1, 1)
    address = answer.first(Family).address
    assert (address.street_line, address.postal_code, address.city) == ("1 RUE DE LA GARE", "75002", "")


async def test_france_travail_registered_and_deregistered():
    folder = "api_particulier_v3_france_travail_statut_with_identifiant"
    _, default = await _fetch_payload(f"{folder}/200.yaml")
    seeker = default.first(JobSeeker)
    assert (seeker.registered, seeker.since, seeker.until) == (True, date(2020, 1, 1), None)
    assert seeker.category == "PERSONNE SANS EMPLOI DISPONIBLE DUREE INDETERMINEE PLEIN TPS"
    assert (seeker.address.street_line, seeker.address.postal_code, seeker.address.city) == (
        "42 RUE DE LA PAIX", "75007", "PARIS")
    _, courtet = await _fetch_payload(f"{folder}/id_123456A_inscrit_toulouse.yaml")
    assert courtet.first(JobSeeker).registered and courtet.first(JobSeeker).since == date(2024, 1, 1)
    _, left = await _fetch_payload(f"{folder}/id_123461A_desinscrit_toulouse_2025.yaml")
    assert (left.first(JobSeeker).registered, left.first(JobSeeker).until) == (False, date(2025, 9, 1))


async def test_scolarite_benali_amine_scholarship_level_1():
    _, answer = await _fetch_payload(
        "api_particulier_v3_men_scolarites_with_civility/200-eleve-boursier-amine-benali.yaml")
    assert answer.first(Schooling) == Schooling(
        enrolled=True, school_name="Collège André Malraux", uai="0132634T", school_year="2025-2026",
        level="1CAP1 STAFFEUR ORNEMANISTE", status="Scolaire", scholarship=True, scholarship_level=1)


async def test_scolarite_short_school_year_and_pupil_out_of_school():
    folder = "api_particulier_v3_men_scolarites_with_civility"
    _, answer = await _fetch_payload(f"{folder}/boursier_lyceen_echelon6_dupre.yaml")
    schooling = answer.first(Schooling)
    assert (schooling.school_year, schooling.scholarship_level, schooling.school_name) == ("2025-2026", 6, None)
    _, out = await _fetch_payload(f"{folder}/200-eleve-non-boursier-non-scolarise-elise-ferrand.yaml")
    assert (out.first(Schooling).enrolled, out.first(Schooling).status) == (False, "Non scolarisé")


async def test_rate_limited_without_hint_waits_a_minute():
    _, answer = await _fetch_payload("api_particulier_v3_cnav_quotient_familial_with_civility/429.yaml")
    assert answer.provenance.retry_in == 60.0
    assert status_line(answer.provenance).endswith("réessayer dans 60 s")


# -- bodies that break the contract ---------------------------------------------------------

QF_FILE = "api_particulier_v3_cnav_quotient_familial_with_civility/200-giraud-anne-3_enfants.yaml"


def _qf_body() -> dict:
    return json.loads(_load(QF_FILE)["payload"])


def _broken(path: tuple, value) -> dict:
    body = _qf_body()
    target = body
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return body


@pytest.mark.parametrize(("path", "value"), [
    (("data", "quotient_familial", "valeur"), KeyError),
    (("data", "quotient_familial", "valeur"), "1200"),
    (("data", "quotient_familial", "valeur"), True),
    (("data", "quotient_familial", "mois"), 13),
    (("data", "quotient_familial", "fournisseur"), 7),
    (("data", "allocataires"), {"nom_naissance": "X"}),
    (("data", "enfants", 0, "prenoms"), None),
    (("data",), []),
])
async def test_missing_or_mistyped_fields_are_bad_responses(path, value):
    backend = api_particulier(_replay(200, json.dumps(_broken(path, value)).encode()))
    answer = await backend.fetch("quotient_familial", SUBJECT)
    await backend.aclose()
    assert answer.provenance.status is Status.BAD_RESPONSE
    assert answer.provenance.message.startswith("Réponse illisible")
    assert answer.facts == ()


@pytest.mark.parametrize(("parse", "body"), [
    (parsing.c2s, {"data": {"est_beneficiaire": "oui"}}),
    (parsing.eaje, {"data": {"parametres_calcul_participation_familiale": {"nombre_enfants_a_charge": 1.5}}}),
    (lambda body: parsing.france_travail(body, TODAY), {"data": {"inscription": {"date_debut": "hier"}}}),
    (parsing.scolarite, {"data": {"est_scolarise": True, "annee_scolaire": "25/26"}}),
    (parsing.scolarite, {"data": {"est_scolarise": True, "annee_scolaire": "2025", "echelon_bourse": "1"}}),
])
def test_each_section_refuses_mistyped_fields(parse, body):
    with pytest.raises(parsing.Malformed):
        parse(body)


async def test_a_body_beyond_the_cap_is_refused():
    backend = api_particulier(_replay(200, b" " * (MAX_BODY_BYTES + 1)))
    answer = await backend.fetch("c2s", SUBJECT)
    await backend.aclose()
    assert answer.provenance.status is Status.BAD_RESPONSE


async def test_a_body_not_in_utf8_is_refused():
    backend = api_particulier(_replay(200, '{"data": {"est_beneficiaire": "é"}}'.encode("latin-1")))
    answer = await backend.fetch("c2s", SUBJECT)
    await backend.aclose()
    assert answer.provenance.status is Status.BAD_RESPONSE
    assert "UTF-8" in answer.provenance.message


# -- error bodies of the OpenAPI description that no payload file carries -----------------------


def _error(status: int, code: str, meta: dict | None = None, headers: dict | None = None) -> HttpResponse:
    body = {"errors": [{"code": code, "title": "t", "detail": "d", "source": None, "meta": meta or {}}]}
    return HttpResponse(status, httpx.Headers(headers or {}), json.dumps(body).encode())


@pytest.mark.parametrize(("response", "status", "words"), [
    (_error(401, "00101"), Status.UNAUTHORIZED, "invalide"),
    (_error(401, "00103"), Status.UNAUTHORIZED, "expiré"),
    (_error(401, "00105"), Status.UNAUTHORIZED, "révoqué"),
    (_error(403, "00100"), Status.UNAUTHORIZED, "Droits insuffisants"),
    (_error(404, "23003", {"provider": "CNAF"}), Status.NOT_FOUND, "Aucun dossier"),
    (_error(404, "10003", {"provider": "MSA"}), Status.NOT_FOUND, "Aucun dossier"),
    (_error(404, "35003", {"provider": "CNAF & MSA"}), Status.NOT_FOUND, "Aucun dossier"),
    (_error(409, "00015"), Status.UNAVAILABLE, "déjà en cours"),
    (_error(422, "00366"), Status.BAD_RESPONSE, "incomplète"),
    (_error(400, "00400"), Status.BAD_RESPONSE, "code HTTP 400"),
    (_error(500, "00500"), Status.UNAVAILABLE, "indisponible"),
    (_error(503, "37999"), Status.UNAVAILABLE, "indisponible"),
    (_error(502, "37999", {"provider": "CNAV"}), Status.UNAVAILABLE, "(CNAV) a renvoyé une erreur"),
    (_error(504, "37001", {"provider": "CNAV"}), Status.TIMEOUT, "(CNAV) n'a pas répondu"),
    (_error(504, "30002", {"provider": "MEN"}), Status.TIMEOUT, "(Éducation nationale) n'a pas répondu"),
    (_error(504, "37002", {"provider": "Inconnu"}), Status.TIMEOUT, "(CAF/MSA) n'a pas répondu"),
    (HttpResponse(502, httpx.Headers(), b"<html>Bad gateway</html>"), Status.UNAVAILABLE, "réessayer plus tard"),
])
def test_documented_errors_map_to_statuses(response, status, words):
    error = agency_error(response, "CAF/MSA", "Aucun dossier allocataire CAF ou MSA pour cette identité.")
    assert error.status is status
    assert words in error.message


def test_network_error_and_rate_limit_hints_give_the_wait():
    network = agency_error(_error(504, "00501", {"retry_in": 10}), "CAF/MSA", "")
    assert (network.status, network.retry_in) == (Status.TIMEOUT, 10.0)
    assert "réessayer dans 10 s" in network.message
    limited = agency_error(_error(429, "00429", headers={"RateLimit-Reset": "42"}), "CAF/MSA", "")
    assert (limited.status, limited.retry_in) == (Status.RATE_LIMITED, 42.0)
    retry_in = agency_error(_error(429, "00429", {"retry_in": 7}, {"RateLimit-Reset": "42"}), "CAF/MSA", "")
    assert retry_in.retry_in == 7.0  # the body's own hint comes first
