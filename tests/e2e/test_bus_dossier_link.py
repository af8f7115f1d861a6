"""The roaming bus's dossier while its 4G link fails (issue 15): the emulated agencies
served over real HTTP (`counter fixtures serve`), reached through a loopback proxy
the test cuts and restores. Whatever the link does, the consultation ends in
bounded time without an error, the sections it could not reach say « indisponible
hors ligne », and once the link is back the same consultation answers again."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

import pytest

from counter.backend import Status
from counter.clock import SystemClock
from counter.credentials import KeyringRead
from counter.domain.facts_text import status_line
from counter.services.dossier import DossierService
from counter.store.engine import Store
from tests.e2e.test_served_agencies import TOKEN, _free_port_block, _wait_listening, env  # noqa: F401 — fixture
from tests.factories import add_household, person
from tests.link_proxy import LinkProxy


@pytest.fixture
def agencies(env):  # noqa: F811
    port = _free_port_block(3)
    process = subprocess.Popen([sys.executable, "-m", "counter", "fixtures", "serve", "--port", str(port),
                                "--token", TOKEN], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    try:
        for offset in range(3):
            _wait_listening(port + offset, process)
        with LinkProxy(("127.0.0.1", port)) as particulier, LinkProxy(("127.0.0.1", port + 1)) as koha:
            yield particulier, koha
    finally:
        process.terminate()
        process.wait(timeout=10)


def _backends(tmp_path, particulier: LinkProxy, koha: LinkProxy):
    from counter.runtime import resolve
    from counter.service.composition import build_backends

    config = tmp_path / "bus.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "replica.sqlite3"}"\n'
        f'[backends.api_particulier]\nkind = "api_particulier"\nbase_url = "http://127.0.0.1:{particulier.port}"\n'
        'recipient = "21459999900015"\ntimeout = 2\n'
        f'[backends.koha]\nkind = "koha"\nbase_url = "http://127.0.0.1:{koha.port}"\nlibrary_id = "BEL-LOI"\n'
        'timeout = 2\n'
        '[mobile]\nbus = "bus-1"\ncentral_url = "postgresql://counter@127.0.0.1:9/town"\n', encoding="utf-8")
    runtime = resolve(str(config))
    return build_backends(runtime, KeyringRead({"api_particulier": TOKEN, "koha": TOKEN}))


def test_a_dossier_on_the_bus_while_the_link_drops_holds_and_comes_back(tmp_path, agencies):
    particulier, koha = agencies
    store = Store(f"sqlite:///{tmp_path / 'replica.sqlite3'}")
    from counter.store import migrate

    migrate.upgrade(store)
    add_household(store, "rue des Sablons", 86, [
        (person("GIRAUD", "Anne", (1988, 12, 1), birth_insee_code="13002"), "parent")])
    links = (particulier, koha)
    link_down = {"value": False}

    async def consult(refresh: bool = False):
        service = DossierService(store, _backends(tmp_path, particulier, koha), SystemClock(),
                                 offline=lambda: link_down["value"])
        started = time.monotonic()
        try:
            answers = {a.provenance.section: a.provenance async for a in service.consult(service.subject(1),
                                                                                         refresh=refresh)}
        finally:
            await service.aclose()
        return answers, time.monotonic() - started

    seen, _ = asyncio.run(consult())
    assert seen["quotient_familial"].status is Status.OK and not seen["quotient_familial"].offline

    # Out of coverage: refused at once; then a link that holds everything: cut at the deadline.
    for cut in ("down", "blackhole"):
        for link in links:
            getattr(link, cut)()
        link_down["value"] = True  # what the bus's link monitor says meanwhile
        seen, took = asyncio.run(consult(refresh=True))
        assert took < 10, (cut, took)  # the backends' deadlines, never for ever
        qf = seen["quotient_familial"]
        assert qf.status is not Status.OK and qf.offline, (cut, qf)
        assert "indisponible hors ligne" in status_line(qf)
        for link in links:
            link.up()
        link_down["value"] = False
        seen, _ = asyncio.run(consult(refresh=True))
        assert seen["quotient_familial"].status is Status.OK, cut
    store.dispose()
