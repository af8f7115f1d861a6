"""A scenario's agencies: per-route knobs on API Particulier, the town's crèche waiting list."""

from __future__ import annotations

import httpx
import pytest

from fixtures.emulators.plugin import emulated_transport
from fixtures.scenarios import load

AUTH = {"authorization": "Bearer formation"}
QF = "/v3/dss/quotient_familial/identite?recipient=21459999900015&nomNaissance=X"
C2S = "/v3/dss/complementaire_sante_solidaire/identite?recipient=21459999900015&nomNaissance=X"
FT = "/v3/france_travail/statut/identifiant?recipient=21459999900015&identifiant=123456A"


async def get(transport, path: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=transport, base_url="http://emulated") as client:
        return await client.get(path, headers=AUTH)


async def test_caf_down_takes_only_the_caf_routes_down():
    transport = emulated_transport("api_particulier", scenario=load("caf-en-panne"))
    with pytest.raises(httpx.ConnectError):
        await get(transport, QF)
    assert (await get(transport, FT)).status_code == 200  # France Travail still answers
    assert (await get(transport, C2S)).status_code != 503  # so does the C2S (whatever it says of X)


async def test_route_knobs_and_the_configurations_knobs_together():
    from counter.settings import EmulatorKnobs

    # The configuration's backend-wide knob wins over everything: the whole API is down.
    transport = emulated_transport("api_particulier", EmulatorKnobs(down=True), scenario=load("france-travail-lent"))
    with pytest.raises(httpx.ConnectError):
        await get(transport, FT)


async def test_an_error_status_on_one_route(tmp_path):
    from fixtures.scenarios import load_file

    path = tmp_path / "s.toml"
    path.write_text('title = "T"\ndescription = "D"\ndate = 2026-11-25\n'
                    "[agencies.france_travail]\nerror_status = 503\n", encoding="utf-8")
    transport = emulated_transport("api_particulier", scenario=load_file(path))
    assert (await get(transport, FT)).status_code == 503
    assert (await get(transport, QF)).status_code != 503


async def capacities_waiting_list(scenario=None) -> int:
    transport = emulated_transport("city", scenario=scenario)
    response = await get(transport, "/v1/capacities?school_year=2027")
    assert response.status_code == 200
    return {c["waiting_list"]["length"] for c in response.json()["creches"]}.pop()


async def test_the_crèche_scenario_makes_the_towns_waiting_list_longer():
    own = await capacities_waiting_list()
    assert own < 600
    assert await capacities_waiting_list(load("creche-complete")) == 600
