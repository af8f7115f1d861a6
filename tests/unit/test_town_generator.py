"""The fictional town: reproducible, realistic, and home to every staging identity."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import pytest
import yaml

from counter.domain.dates import BirthDate
from counter.domain.names import split_given_names
from counter.domain.nir import NirCheck, check_nir
from fixtures.town.generator import (
    TownSpec,
    generate_facilities,
    iter_households,
    persons_target_households,
)
from fixtures.town.staging import PAYLOAD_DIR, SKIPPED, VARIANTS
from fixtures.town.writer import SCHEMA, read_rows, write_town

SHIPPED = Path(__file__).resolve().parents[2] / "fixtures" / "data" / "town"
REFERENCE = date(2026, 9, 1)


@pytest.fixture(scope="module")
def town(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("town")
    write_town(directory)
    return directory


@pytest.fixture(scope="module")
def rows(town):
    return {name: list(read_rows(town, name)) for name in SCHEMA}


@pytest.fixture(scope="module")
def persons(rows) -> dict[int, dict]:
    return {p["id"]: p for p in rows["persons"]}


@pytest.fixture(scope="module")
def households(rows) -> dict[int, list[dict]]:
    members = defaultdict(list)
    for m in rows["household_members"]:
        members[m["household_id"]].append(m)
    return members


@pytest.fixture(scope="module")
def staged_ids(rows) -> set[int]:
    return {r["person_id"] for r in rows["staging_identities"]}


def birth(person: dict) -> BirthDate:
    return BirthDate(person["birth_year"], person["birth_month"], person["birth_day"])


# -- reproducibility and size ---------------------------------------------------


def test_regenerating_gives_the_shipped_files_byte_for_byte(town):
    shipped = sorted(p.name for p in SHIPPED.iterdir())
    assert shipped == sorted(p.name for p in town.iterdir())
    for name in shipped:
        assert (town / name).read_bytes() == (SHIPPED / name).read_bytes(), name


def test_town_toml_counts_match_the_files(town, rows):
    import tomllib

    toml = tomllib.loads((town / "town.toml").read_text(encoding="utf-8"))
    assert toml["name"] == "Bellerive-sur-Loire"
    assert (toml["insee_code"], toml["postal_code"]) == ("45999", "45999")
    assert toml["reference_date"] == REFERENCE
    assert toml["counts"] == {name: len(r) for name, r in rows.items()}


def test_default_town_has_about_8000_households_and_20000_persons(rows):
    assert len(rows["households"]) == 8000
    assert 19_000 <= len(rows["persons"]) <= 21_000
    assert persons_target_households(20_000) == pytest.approx(8000, rel=0.05)


def test_csv_format_is_plain_utf8_with_lf_and_typed_rows(town, rows):
    raw = (town / "persons.csv").read_bytes()
    assert b"\r" not in raw
    assert raw.decode("utf-8").splitlines()[0] == ",".join(c for c, _ in SCHEMA["persons"])
    person = rows["persons"][0]
    assert isinstance(person["id"], int) and isinstance(person["birth_year"], int)
    assert all(v is None or v != "" for r in rows["persons"] for v in r.values())
    assert all(isinstance(h["caf_number"], (str, type(None))) for h in rows["households"])


def test_ids_are_sequential_and_references_resolve(rows, persons):
    for name in SCHEMA:
        if name != "staging_identities":
            assert [r["id"] for r in rows[name]] == list(range(1, len(rows[name]) + 1)), name
    addresses = {a["id"] for a in rows["addresses"]}
    streets = {s["id"] for s in rows["streets"]}
    assert all(h["address_id"] in addresses for h in rows["households"])
    assert all(m["person_id"] in persons for m in rows["household_members"])
    assert all(m["address_id"] is None or m["address_id"] in addresses for m in rows["household_members"])
    assert Counter(m["person_id"] for m in rows["household_members"]).most_common(1)[0][1] == 1
    for a in rows["addresses"]:
        if a["street_id"] is not None:  # in the town
            assert a["street_id"] in streets and a["line"] is None and a["postal_code"] == "45999"
        else:
            assert a["line"] and a["number"] is None


# -- facilities --------------------------------------------------------------------


def test_streets_schools_creches_libraries(rows):
    assert 120 <= len(rows["streets"]) <= 200
    assert len({s["name"] for s in rows["streets"]}) == len(rows["streets"])
    assert 4 <= len(rows["creches"]) <= 6 and all(c["capacity"] > 0 for c in rows["creches"])
    assert 2 <= len(rows["library_branches"]) <= 3
    assert "BEL-CTR" in {b["code"] for b in rows["library_branches"]}
    uais = [s["uai"] for s in rows["schools"]]
    assert len(set(uais)) == len(uais)
    letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
    assert all(len(u) == 8 and u[:7].isdigit() and u[7] == letters[int(u[:7]) % 23] for u in uais)
    kinds = {s["id"]: s["kind"] for s in rows["schools"]}
    assert 8 <= len(rows["school_sectors"]) <= 12
    for sector in rows["school_sectors"]:
        mat, elem = sector["maternelle_id"], sector["elementaire_id"]
        if mat == elem:
            assert kinds[mat] == "primaire"
        else:
            assert (kinds[mat], kinds[elem]) == ("maternelle", "elementaire")


def test_sector_rules_cover_every_number_of_every_street_exactly_once(rows):
    by_street = defaultdict(list)
    for rule in rows["sector_rules"]:
        by_street[rule["street_id"]].append(rule)
    assert set(by_street) == {s["id"] for s in rows["streets"]}
    sectors = {s["id"] for s in rows["school_sectors"]}
    assert {r["sector_id"] for r in rows["sector_rules"]} == sectors
    split = 0
    for street_rules in by_street.values():
        split += len({r["sector_id"] for r in street_rules}) > 1
        for parity in ("odd", "even"):
            spans = sorted(
                (r["number_from"], r["number_to"]) for r in street_rules if r["parity"] in ("all", parity)
            )
            assert spans[0][0] == 0 and spans[-1][1] == 9999
            assert all(b[0] == a[1] + 1 for a, b in zip(spans, spans[1:])), spans
    assert split >= 5  # some streets are shared between two sectors


# -- population ------------------------------------------------------------------


def test_names_carry_accents_particles_and_compounds(rows):
    people = rows["persons"]
    given = [g for p in people for g in split_given_names(p["given_names"])]
    for name in ("Hélène", "Françoise", "Zoé", "Anaïs", "Léa", "Noël", "Éloïse"):
        assert name in given, name
    assert any("-" in g for g in given)  # Jean-Philippe, Marie-Claire
    names = {p["birth_name"] for p in people}
    assert all(n == n.upper() for n in names)
    expected = {"LE GALL", "N'DIAYE", "DE LA FONTAINE", "DA SILVA", "SAINT-MARTIN", "BEN AHMED", "NGUYEN"}
    assert expected <= names
    assert sum("'" in n for n in names) >= 2
    assert sum("-" in n for n in names) >= 3 and sum(" " in n for n in names) >= 10
    assert sum(len(split_given_names(p["given_names"])) >= 3 for p in people) > 1000


def test_usage_names_mostly_married_women_some_men_some_double(rows):
    used = [p for p in rows["persons"] if p["usage_name"]]
    birth_names = {p["birth_name"] for p in rows["persons"]}
    assert len(used) > 1500
    assert sum(p["sex"] == "M" for p in used) >= 10
    doubles = [p["usage_name"] for p in used if "-" in p["usage_name"] and p["usage_name"] not in birth_names]
    assert len(doubles) > 20  # DUPONT-MARTIN    assert all(p["usage_name"] != p["birth_name"] for p in used)


def test_at_least_a_dozen_homonyms(rows):
    dates = defaultdict(set)
    for p in rows["persons"]:
        first = split_given_names(p["given_names"])[0]
        dates[(p["birth_name"], first)].add((p["birth_year"], p["birth_month"], p["birth_day"]))
    homonyms = [key for key, born in dates.items() if len(born) > 1]
    assert len(homonyms) >= 12
    assert len(dates[("MARTIN", "Pierre")]) >= 3


def test_family_situations_are_all_present(rows, persons, households):
    twins = separated = single = large = guardians = newborns = 0
    for members in households.values():
        parents = [m for m in members if m["role"] == "parent"]
        children = [persons[m["person_id"]] for m in members if m["role"] == "child"]
        born = Counter((c["birth_year"], c["birth_month"], c["birth_day"]) for c in children)
        twins += any(n >= 2 for n in born.values())
        separated += any(m["address_id"] is not None for m in parents)
        single += len(parents) == 1 and len(children) >= 1 and len(members) == 1 + len(children)
        large += len(children) >= 5
        guardians += any(m["role"] == "other_guardian" for m in members)
        newborns += sum(
            birth(c).complete and 0 <= (REFERENCE - birth(c).earliest()).days < 365 for c in children
        )
    assert twins >= 20
    assert separated >= 100
    assert single >= 300
    assert large >= 10
    assert guardians >= 30
    assert newborns >= 50
    alone = sum(len(m) == 1 for m in households.values())
    elderly_couples = sum(
        len(m) == 2 and all(birth(persons[x["person_id"]]).age_on(REFERENCE) >= 65 for x in m)
        for m in households.values()
    )
    assert alone >= 1500 and elderly_couples >= 300


def test_parents_are_older_than_their_children(persons, households, staged_ids):
    for members in households.values():
        parents = [persons[m["person_id"]] for m in members if m["role"] == "parent"]
        children = [persons[m["person_id"]] for m in members if m["role"] == "child"]
        generated = not any(m["person_id"] in staged_ids for m in members)
        for parent in parents:
            for child in children:
                years = (birth(child).earliest() - birth(parent).earliest()).days / 365.25
                assert years > 0
                if generated:  # the staging data have their own (teenage) parents
                    assert 18 <= years <= 50, (parent, child)


def test_birth_places_and_partial_dates(rows):
    people = rows["persons"]
    communes = Counter(p["birth_insee_code"] for p in people)
    countries = Counter(p["birth_country_code"] for p in people)
    assert communes["45999"] > 100 and communes["45234"] > 1000  # the town, Orléans
    assert sum(n for c, n in communes.items() if c and c.startswith("751")) > 100  # Paris
    assert sum(n for c, n in communes.items() if c and c[:2] in ("2A", "2B")) >= 10
    assert sum(n for c, n in communes.items() if c and c.startswith("97")) >= 50
    for code in ("99352", "99350", "99351", "99139", "99134", "99127", "99341", "99208", "99216", "99243"):
        assert countries[code] > 0, code
    for p in people:
        if p["birth_country_code"] == "99100":
            continue
        if p["birth_insee_code"] is not None:  # only staging params carry both
            assert p["nir"] is None
    partial = [p for p in people if p["birth_day"] is None]
    assert len(partial) >= 10 and any(p["birth_month"] is None for p in partial)
    assert sum(p["birth_country_code"] != "99100" for p in partial) >= 5
    for p in partial:
        birth(p)  # valid partial dates
        if p["birth_month"] is None:
            assert p["nir"] is None


def test_every_nir_is_valid_unique_and_consistent(rows):
    people = rows["persons"]
    nirs = [p["nir"] for p in people if p["nir"]]
    assert 0.7 <= len(nirs) / len(people) <= 0.8
    assert len(set(nirs)) == len(nirs)
    corsica = 0
    for p in people:
        nir = p["nir"]
        if not nir:
            continue
        assert check_nir(nir) is NirCheck.VALID, nir
        assert nir[0] == ("1" if p["sex"] == "M" else "2")
        assert nir[1:3] == f"{p['birth_year'] % 100:02d}" and nir[3:5] == f"{p['birth_month']:02d}"
        if p["birth_country_code"] == "99100":
            assert nir[5:10] == p["birth_insee_code"]
        else:
            assert nir[5:10] == "99" + p["birth_country_code"][2:]
        corsica += nir[5:7] in ("2A", "2B")
    assert corsica >= 5


def test_contacts_caf_and_france_travail_numbers(rows, persons, households):
    adults = [p for p in rows["persons"] if birth(p).age_on(REFERENCE) >= 18]
    assert sum(p["phone"] is not None for p in adults) / len(adults) > 0.7
    assert all(p["phone"].startswith(("06 ", "07 ")) for p in rows["persons"] if p["phone"])
    emails = [p["email"] for p in rows["persons"] if p["email"]]
    domains = {"exemple.fr", "example.com", "example.org", "example.net"}
    assert all(e.isascii() and e.split("@")[1] in domains for e in emails)
    generated_ft = [f for p in adults if (f := p["france_travail_id"]) and len(f) == 8]
    assert 0.04 <= len(generated_ft) / len(adults) <= 0.08
    assert all(f[:7].isdigit() and f[7].isalpha() for f in generated_ft)
    assert len(set(generated_ft)) == len(generated_ft)
    cafs = [h["caf_number"] for h in rows["households"] if h["caf_number"]]
    assert len(set(cafs)) == len(cafs) and all(c.isdigit() and 1 <= len(c) <= 7 for c in cafs)
    with_children = [
        m for m in households.values()
        if any(x["role"] == "child" and birth(persons[x["person_id"]]).age_on(REFERENCE) < 18 for x in m)
    ]
    caf_households = {h["id"] for h in rows["households"] if h["caf_number"]}
    share = sum(m[0]["household_id"] in caf_households for m in with_children) / len(with_children)
    assert 0.7 <= share <= 0.9


# -- staging identities ---------------------------------------------------------------


def _payload_files() -> dict[str, dict]:
    files = {}
    for path in sorted(PAYLOAD_DIR.glob("*/*.y*ml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        if document.get("params"):
            files[f"{path.parent.name}/{path.name}"] = document
    return files


def _identity_params(params: dict) -> dict:
    """The birth data a request carries, with the staging quirks read as meant."""
    return {
        "nom": params["nomNaissance"],
        "usage": params.get("nomUsage"),
        "prenoms": params["prenoms"],
        "sexe": params.get("sexeEtatCivil") or params.get("sexe"),
        "annee": params.get("anneeDateNaissance") or params.get("anneeNateNaissance"),
        "mois": params.get("moisDateNaissance"),
        "jour": params.get("jourDateNaissance"),
        "commune": params.get("codeCogInseeCommuneNaissance"),
        "pays": params.get("codeCogInseePaysNaissance"),
    }


def test_every_payload_with_params_maps_to_a_town_person(rows):
    files = _payload_files()
    mapped = [r["payload_file"] for r in rows["staging_identities"]]
    assert len(mapped) == len(set(mapped))
    assert set(SKIPPED) <= set(files)
    assert set(mapped) == set(files) - set(SKIPPED)
    assert len(SKIPPED) == 3  # two LEFEBVRE "00404" probes without given names, France Travail "not_found"
    for row in rows["staging_identities"]:
        document = files[row["payload_file"]]
        assert json.loads(row["params_json"]) == document["params"]
        assert row["params_json"] == json.dumps(document["params"], sort_keys=True, ensure_ascii=False)
        assert row["status"] == document["status"]
        assert row["endpoint"].startswith("/v3/")


def test_staged_persons_give_back_exactly_the_params(rows, persons):
    for row in rows["staging_identities"]:
        person = persons[row["person_id"]]
        params = json.loads(row["params_json"])
        if row["payload_file"] in VARIANTS:
            continue
        if "identifiant" in params:  # France Travail: keyed on the identifier
            assert person["france_travail_id"] == params["identifiant"]
            continue
        expected = _identity_params(params)
        # Upper-casing keeps accents: no accent is added or lost.
        assert person["birth_name"] == expected["nom"].upper()
        assert (person["usage_name"] or None) == (expected["usage"].upper() if expected["usage"] else None)
        given = [g.upper() for g in split_given_names(person["given_names"])]
        assert given == [p.upper() for p in expected["prenoms"]]
        assert person["sex"] == expected["sexe"]
        assert person["birth_year"] == expected["annee"]
        assert person["birth_month"] == expected["mois"]
        assert person["birth_day"] == expected["jour"]
        assert person["birth_insee_code"] == expected["commune"]
        assert person["birth_country_code"] == (expected["pays"] or "99100")


def test_staging_variants_point_to_the_same_person(rows, persons):
    by_file = {r["payload_file"]: r["person_id"] for r in rows["staging_identities"]}
    params_of = {r["payload_file"]: json.loads(r["params_json"]) for r in rows["staging_identities"]}
    for variant, nominal in VARIANTS.items():
        assert by_file[variant] == by_file[nominal]
        person = persons[by_file[variant]]
        params = params_of[variant]
        assert person["sex"] == params["sexeEtatCivil"]
        if "anneeDateNaissance" in params:
            assert person["birth_year"] == params["anneeDateNaissance"]
    lefebvre = persons[by_file[next(iter(VARIANTS.values()))]]
    assert lefebvre["given_names"] == "Alexis, Gérôme, Jean-Philippe"


def test_homonyms_of_the_staging_data_stay_distinct(rows, persons):
    people = {}
    for row in rows["staging_identities"]:
        p = persons[row["person_id"]]
        people[p["id"]] = p
    martins = {
        (p["birth_year"], p["birth_month"], p["birth_day"])
        for p in people.values()
        if p["birth_name"] == "MARTIN" and p["given_names"] == "Pierre"
    }
    assert martins == {(1987, 6, 12), (1985, 6, 12), (1987, 6, 27)}
    lefebvres = {p["given_names"] for p in people.values() if p["birth_name"] == "LEFEBVRE"}
    assert lefebvres == {"Alexis", "Alexis, Gérôme, Jean-Philippe"}


def test_staging_families_live_together(rows, persons, households, staged_ids):
    household_of = {m["person_id"]: m for m in rows["household_members"]}
    caf = {h["id"]: h["caf_number"] for h in rows["households"]}

    def members_of(birth_name: str, given: str) -> list[dict]:
        ids = [
            i for i in sorted(staged_ids)
            if persons[i]["birth_name"] == birth_name and persons[i]["given_names"] == given
        ]
        return [household_of[i] for i in ids]

    (jeanne,) = members_of("ROUX", "Jeanne, Stephanie")
    family = {persons[m["person_id"]]["given_names"]: m["role"] for m in households[jeanne["household_id"]]}
    assert family == {
        "Jeanne, Stephanie": "parent",
        "Loïc, Nathan": "parent",
        "Fleur, Edith": "child",
        "Alexis, Vincent": "child",
    }
    assert caf[jeanne["household_id"]]
    (david,) = members_of("ROUX", "David")
    assert david["role"] == "other_guardian"
    names = {persons[m["person_id"]]["birth_name"] for m in households[david["household_id"]]}
    assert names == {"ROUX", "ROLLAND", "LECLERC", "SAYDOU"}
    (nicolas,) = members_of("GARNIER", "Nicolas")
    garniers = {persons[m["person_id"]]["given_names"] for m in households[nicolas["household_id"]]}
    assert garniers == {"Nicolas", "Leo", "Nolan"}
    (lucas,) = members_of("DURAND", "Lucas")
    durands = {persons[m["person_id"]]["given_names"] for m in households[lucas["household_id"]]}
    assert durands == {"Lucas", "Alexis, Vincent"}
    # QF-keyed allocataires all have a CAF number; the payloads' addresses are elsewhere.
    qf = {r["person_id"] for r in rows["staging_identities"] if "quotient_familial" in r["endpoint"]}
    assert all(caf[household_of[i]["household_id"]] for i in qf)
    # Spread among the generated households, not bunched at the start.
    staged_households = sorted({household_of[i]["household_id"] for i in staged_ids})
    assert staged_households[0] < 1000 and staged_households[-1] > 7000


# -- streaming -------------------------------------------------------------------------


def test_streaming_forty_thousand_households_gives_about_100k_persons():
    spec = TownSpec(households=40_000, seed=7)
    facilities = generate_facilities(spec)
    next_person = 1
    households = 0
    for bundle in iter_households(spec, facilities):
        households += 1
        for person in bundle.persons:
            assert person["id"] == next_person
            next_person += 1
    assert households == 40_000
    assert 95_000 <= next_person - 1 <= 105_000
    assert persons_target_households(100_000) == pytest.approx(40_000, rel=0.05)


def test_without_staging_the_generated_population_is_unchanged():
    spec = TownSpec(households=300)
    facilities = generate_facilities(spec)
    plain = [b for b in iter_households(TownSpec(households=300, include_staging=False), facilities)]
    staged = [b for b in iter_households(spec, facilities) if not b.staging]
    assert not any(b.staging for b in plain)
    first = [(p["birth_name"], p["given_names"]) for b in plain for p in b.persons]
    generated = [(p["birth_name"], p["given_names"]) for b in staged for p in b.persons]
    assert generated == first[: len(generated)]


def test_a_different_seed_gives_a_different_town():
    spec_a, spec_b = TownSpec(households=50), TownSpec(households=50, seed=1)
    a = [p["birth_name"] for b in iter_households(spec_a, generate_facilities(spec_a)) for p in b.persons]
    b = [p["birth_name"] for b in iter_households(spec_b, generate_facilities(spec_b)) for p in b.persons]
    assert a != b
