"""Finding the counter service (counter.client.locate): where a terminal and the
administrators' commands connect, in the documented order, without starting
anything (the e2e tests start private services)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest

from counter.client import locate


@pytest.fixture
def no_site_service(monkeypatch, tmp_path):
    monkeypatch.setattr(locate, "SYSTEM_SOCKET", tmp_path / "run-counter" / "counter.sock")
    return locate.SYSTEM_SOCKET


def _config(tmp_path, text: str):
    path = tmp_path / "counter.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_connect_then_the_environment_then_the_configuration(tmp_path, no_site_service):
    config = _config(tmp_path, '[database]\nurl = "sqlite:////x.db"\n[service]\nsocket = "/srv/counter/c.sock"\n')
    env = {"COUNTER_SOCKET": "/elsewhere/env.sock", "COUNTER_CONFIG": str(config)}
    assert locate.find_service("/given.sock", env=env) == locate.Path("/given.sock")
    assert locate.find_service(env=env) == locate.Path("/elsewhere/env.sock")
    assert locate.find_service(env={"COUNTER_CONFIG": str(config)}) == locate.Path("/srv/counter/c.sock")
    assert locate.find_service(config=str(config), env={}) == locate.Path("/srv/counter/c.sock")


def test_a_production_configuration_without_a_service_table_means_the_site_default(tmp_path, no_site_service):
    config = _config(tmp_path, '[database]\nurl = "sqlite:////x.db"\n')
    assert locate.find_service(config=config, env={}) == no_site_service  # never a private service


def test_without_configuration_the_site_service_then_a_private_one(tmp_path, no_site_service):
    home = tmp_path / "home"
    env = {"COUNTER_HOME": str(home)}
    assert locate.find_service(env=env, start=False) == home / "run" / "counter.sock"
    no_site_service.parent.mkdir()
    with socket.socket(socket.AF_UNIX) as listening:
        listening.bind(str(no_site_service))
        assert locate.find_service(env=env, start=False) == no_site_service
    # A trainer's scenario always gets a private service, even beside a room's.
    by_scenario = locate.find_service(env=env, scenario="creche-complete", start=False)
    assert by_scenario.parent == home / "run" and by_scenario.name.startswith("train-")
    assert by_scenario != locate.find_service(env=env, scenario="agences-lentes", start=False)


def test_a_training_configuration_gets_a_private_service_under_its_data_directory(tmp_path, no_site_service):
    config = _config(tmp_path, f'mode = "training"\ndata_dir = "{tmp_path / "data"}"\n')
    found = locate.find_service(config=config, env={}, start=False)
    assert found.parent == tmp_path / "data" / "run" and found.name.startswith("config-")
    assert locate.find_service(config=config, env={"COUNTER_HOME": str(tmp_path / "h")}, start=False).parent \
        == tmp_path / "h" / "run"


@pytest.mark.parametrize(("text", "said"), [
    ("[service]\nsocket = 7\n", "key 'service.socket': wrong type"),
    ("mode = [\n", "invalid TOML"),
])
def test_a_configuration_that_cannot_say_where_is_refused(tmp_path, text, said):
    with pytest.raises(locate.LocateConfigError) as refused:
        locate.find_service(config=_config(tmp_path, text), env={})
    assert said in str(refused.value)
    with pytest.raises(locate.LocateConfigError) as refused:
        locate.find_service(config=tmp_path / "missing.toml", env={})
    assert "cannot read the configuration file" in str(refused.value)


def test_why_nothing_answers(tmp_path):
    missing = tmp_path / "missing.sock"
    assert locate.why_unreachable(missing).startswith(f"no counter service at {missing}")
    stale = tmp_path / "stale.sock"
    with socket.socket(socket.AF_UNIX) as left:
        left.bind(str(stale))  # bound, never listening: a service that was killed
    assert locate.why_unreachable(stale) == \
        f"the counter service at {stale} is not running (the socket is left from a stopped service)"
    assert not locate.answers(stale)


def test_finding_the_service_stays_light(isolated_environment):
    """The terminal calls it before anything else: no pydantic, SQLAlchemy or HTTP stack."""
    code = ("import sys, json\nfrom counter.client.locate import find_service\n"
            "find_service(start=False)\n"
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    loaded = set(json.loads(done.stdout))
    assert not loaded & {"pydantic", "sqlalchemy", "sqlmodel", "httpx", "starlette", "uvicorn", "keyring"}
