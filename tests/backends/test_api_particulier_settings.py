"""API Particulier: settings, the parameters sent, the answer cache, import cost."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime

import pydantic
import pytest

from backends.api_particulier import plugin
from backends.api_particulier.adapter import current_school_year, identity_params, section_request
from backends.api_particulier.cache import AnswerCache
from counter import registry
from counter.backend import Identity, Provenance, SectionAnswer, Status, Subject
from counter.domain.dates import BirthDate


def test_the_plugins_are_registered():
    assert registry.load("api_particulier") is plugin
    assert registry.load("api_particulier", registry.EMULATORS).kind == "api_particulier"
    backend_class = plugin.adapter.partition(":")[2]
    assert plugin.label == "API Particulier" and backend_class == "ApiParticulierBackend"


def test_recipient_is_a_valid_siret():
    settings = plugin.Settings(kind="api_particulier", recipient="214 599 999 00015")
    assert settings.recipient == "21459999900015"
    with pytest.raises(pydantic.ValidationError, match="14 digits"):
        plugin.Settings(kind="api_particulier", recipient="2145999990001")
    with pytest.raises(pydantic.ValidationError, match="not a valid SIRET"):
        plugin.Settings(kind="api_particulier", recipient="21459999900016")
    with pytest.raises(pydantic.ValidationError, match="recipient"):
        plugin.Settings(kind="api_particulier")
    with pytest.raises(pydantic.ValidationError, match="Extra inputs"):
        plugin.Settings(kind="api_particulier", recipient="21459999900015", token="x")


def test_importing_the_plugin_does_not_import_httpx():
    script = "import sys, backends.api_particulier; print('httpx' in sys.modules, 'yaml' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.split() == ["False", "False"]


def test_importing_the_emulator_loads_no_payload_nor_starlette():
    script = ("import sys, fixtures.emulators.api_particulier as e; "
              "print(e.emulator.kind, 'starlette' in sys.modules, "
              "'fixtures.emulators.api_particulier.staging' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.split() == ["api_particulier", "False", "False"]


LEFEBVRE = Identity("Lefebvre", ("Alexis", "Gérôme", "Jean-Philippe", "Marie"), "F", BirthDate(1982, 12, 27),
                    usage_name="Dupont  Lefebvre", birth_insee_code="08480")


def test_identity_params_send_what_is_known_upper_cased():
    assert identity_params(LEFEBVRE) == [
        ("nomNaissance", "LEFEBVRE"), ("prenoms[]", "ALEXIS"), ("prenoms[]", "GÉRÔME"),
        ("prenoms[]", "JEAN-PHILIPPE"),  # three at most: the API refuses more
        ("sexeEtatCivil", "F"), ("anneeDateNaissance", "1982"), ("moisDateNaissance", "12"),
        ("jourDateNaissance", "27"), ("codeCogInseeCommuneNaissance", "08480"),
        ("codeCogInseePaysNaissance", "99100"), ("nomUsage", "DUPONT LEFEBVRE"),
    ]
    abroad = Identity("Keita", ("Binta",), "F", BirthDate(1989), birth_country_code="99326")
    assert identity_params(abroad) == [
        ("nomNaissance", "KEITA"), ("prenoms[]", "BINTA"), ("sexeEtatCivil", "F"), ("anneeDateNaissance", "1989"),
        ("codeCogInseePaysNaissance", "99326"),
    ]


@pytest.mark.parametrize(("today", "year"), [
    (date(2026, 8, 31), 2025), (date(2026, 9, 1), 2026), (date(2027, 1, 15), 2026),
])
def test_school_year_switches_on_the_first_of_september(today, year):
    assert current_school_year(today) == year


def test_scolarite_request_has_no_birth_place_and_no_school():
    pupil = Subject(1, Identity("Benali", ("Amine",), "M", BirthDate(2015, 12, 11), birth_insee_code="45234"),
                    date(2026, 11, 25), "child")
    path, params = section_request("scolarite", pupil)
    assert path == "/v3/men/scolarites/identite"
    names = [name for name, _ in params]
    assert ("anneeScolaire", "2026") in params
    assert not {"codeEtablissement", "codeCogInseePaysNaissance", "codeCogInseeCommuneNaissance"} & set(names)
    adult = Subject(1, pupil.identity, date(2036, 12, 11), "child")
    assert section_request("scolarite", adult) == "Sans objet à partir de 21 ans."


def _answer(minute: int) -> SectionAnswer:
    return SectionAnswer(Provenance("api_particulier", "c2s", "C2S", Status.OK,
                                    datetime(2026, 11, 25, 10, minute, tzinfo=UTC)))


def test_the_cache_forgets_after_an_hour_and_stays_bounded():
    now = [0.0]
    cache = AnswerCache(ttl=3600, max_entries=2, clock=lambda: now[0])
    cache.put("a", _answer(1))
    now[0] = 3599.0
    assert cache.get("a") == _answer(1)
    now[0] = 3600.0
    assert cache.get("a") is None and len(cache) == 0
    for key in "abc":
        cache.put(key, _answer(2))
    assert len(cache) == 2 and cache.get("a") is None and cache.get("c") is not None
