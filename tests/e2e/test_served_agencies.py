"""End to end: `counter fixtures serve`, a production configuration pointing at
it, credentials set with `counter credentials set`, a dossier over real HTTP."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from counter.backend import Status

REPO = Path(__file__).resolve().parents[2]
TOKEN = "jeton-de-formation"


def _free_port_block(count: int) -> int:
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            first = probe.getsockname()[1]
        if first + count > 65535:
            continue
        sockets = []
        try:
            for port in range(first, first + count):
                s = socket.socket()
                s.bind(("127.0.0.1", port))
                sockets.append(s)
            return first
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError("no free ports")


def _wait_listening(port: int, process: subprocess.Popen, deadline: float = 30.0) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if process.poll() is not None:
            raise AssertionError(f"fixtures serve exited: {process.stdout.read()}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)  # polling a port that is not open yet; the deadline only bounds a hang
    raise AssertionError(f"nothing listens on {port}")


@pytest.fixture
def env(tmp_path):
    environment = dict(os.environ)
    environment.update(
        PYTHONPATH=str(REPO),
        PYTHON_KEYRING_BACKEND="tests.file_keyring.FileKeyring",
        COUNTER_TEST_KEYRING_FILE=str(tmp_path / "keyring.json"),
        COUNTER_HOME=str(tmp_path / "home"),
    )
    return environment


def counter(env, *args, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "counter", *args], env=env, input=stdin,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def served(env):
    port = _free_port_block(3)
    process = subprocess.Popen(
        [sys.executable, "-m", "counter", "fixtures", "serve", "--port", str(port), "--token", TOKEN],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        for offset in range(3):
            _wait_listening(port + offset, process)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_production_configuration_against_the_served_agencies(tmp_path, env, served, monkeypatch):
    port = served
    config = tmp_path / "counter.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "prod.sqlite3"}"\n'
        f'[backends.api_particulier]\nkind = "api_particulier"\nbase_url = "http://127.0.0.1:{port}"\n'
        'recipient = "21459999900015"\n'
        f'[backends.koha]\nkind = "koha"\nbase_url = "http://127.0.0.1:{port + 1}"\n'
        f'[backends.city]\nkind = "city"\nbase_url = "http://127.0.0.1:{port + 2}"\n',
        encoding="utf-8",
    )
    assert counter(env, "--config", str(config), "db", "upgrade").returncode == 0
    check = counter(env, "--config", str(config), "credentials", "check")
    assert check.returncode == 1 and "NO SECRET" in check.stdout
    for name in ("api_particulier", "koha", "city"):
        done = counter(env, "--config", str(config), "credentials", "set", name, stdin=TOKEN + "\n")
        assert done.returncode == 0, done.stderr
    check = counter(env, "--config", str(config), "credentials", "check")
    assert check.returncode == 0, check.stdout
    assert TOKEN not in check.stdout + check.stderr

    # Koha has two libraries: the administrator must say which one new cards belong to (issue 11).
    doctor = counter(env, "--config", str(config), "doctor")
    assert doctor.returncode == 1, doctor.stdout
    assert ("[FAIL]  Koha has 2 libraries (BEL-CTR, BEL-LOI): set library_id in [backends.koha] to the one new "
            "cards belong to") in doctor.stdout
    koha_url = f'base_url = "http://127.0.0.1:{port + 1}"\n'
    config.write_text(config.read_text().replace(koha_url, koha_url + 'library_id = "BEL-LOI"\n'), encoding="utf-8")
    doctor = counter(env, "--config", str(config), "doctor")
    assert doctor.returncode == 0, doctor.stdout
    assert "[  ok]  new cards go to BEL-LOI (Bibliothèque des Bords-de-Loire), set by library_id" in doctor.stdout

    # The production database is the town's own: put GIRAUD Anne in it, then ask.
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    import keyring

    from counter.service.composition import build_backends
    from counter.runtime import resolve
    from counter.services.dossier import DossierService
    from counter.store.engine import Store
    from tests.factories import add_household, person
    from tests.file_keyring import FileKeyring

    monkeypatch.setattr(keyring, "get_keyring", lambda: FileKeyring())
    store = Store(f"sqlite:///{tmp_path / 'prod.sqlite3'}")
    add_household(store, "rue des Sablons", 86, [
        (person("GIRAUD", "Anne", (1988, 12, 1), birth_insee_code="13002"), "parent")])
    runtime = resolve(str(config))
    assert runtime.mode == "production"

    async def consult():
        service = DossierService(store, build_backends(runtime), runtime.clock)
        subject = service.subject(1)
        answers = {a.provenance.section: a async for a in service.consult(subject)}
        await service.aclose()
        return answers

    answers = asyncio.run(consult())
    qf = answers["quotient_familial"]
    assert qf.provenance.status is Status.OK
    assert qf.facts[0].value == 1200 and qf.facts[0].provider == "CNAF"
    assert answers["library_card"].provenance.status in (Status.OK, Status.NOT_FOUND)

    # A wrong credential is refused by the agency, in words.
    counter(env, "--config", str(config), "credentials", "set", "api_particulier", stdin="mauvais\n")
    answers = asyncio.run(consult())
    assert answers["quotient_familial"].provenance.status is Status.UNAUTHORIZED
    store.dispose()
