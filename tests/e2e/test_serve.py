"""`counter serve` as a process: it says when it is ready, serves its socket with
the mode and group asked, stops cleanly on SIGTERM and SIGINT (socket removed),
refuses what it cannot do in one line; and the private training service a
terminal without configuration starts, once, for every terminal of the account."""

from __future__ import annotations

import grp
import os
import shutil
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from counter.cli import main
from counter.client import locate
from counter.client.api import CounterClient
from counter.runtime import os_login
from tests.service_processes import notify  # noqa: F401 — fixture
from tests.service_processes import REPO, peer_pid, serve, wait_gone


@pytest.fixture
def production(tmp_path):
    """A migrated production database whose supervisor is this test's own login."""
    config = tmp_path / "counter.toml"
    group = grp.getgrgid(os.getgid()).gr_name
    config.write_text(f'data_dir = "{tmp_path / "data"}"\n[database]\nurl = "sqlite:///{tmp_path / "counter.db"}"\n'
                      f'[audit]\nanchor = "{tmp_path / "anchor.log"}"\n'
                      f'[service]\nsocket = "{tmp_path / "counter.sock"}"\ngroup = "{group}"\n', encoding="utf-8")
    assert main(["--config", str(config), "db", "upgrade"]) == 0
    assert main(["--config", str(config), "agents", "add", os_login(), "--role", "supervisor"]) == 0
    return config


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_production_service_serves_its_socket_and_stops_cleanly(production, notify, tmp_path, stop, capsys,
                                                                   isolated_environment):
    process = serve(["--config", str(production), "serve"], dict(os.environ), notify)
    try:
        notify.wait_ready(process)
        sock = tmp_path / "counter.sock"
        info = os.lstat(sock)
        assert stat.S_ISSOCK(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o660
        assert info.st_gid == os.getgid()
        capsys.readouterr()
        assert main(["--connect", str(sock), "agents", "list"]) == 0
        assert capsys.readouterr().out.split()[:2] == [os_login(), "supervisor"]
        process.send_signal(stop)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert not sock.exists()
    log = (isolated_environment / "logs" / "service.log").read_text(encoding="utf-8")  # COUNTER_HOME wins
    assert f"counter service (production) listening on {sock}" in log
    assert f"the counter service stopped ({stop.name})" in log
    assert "Traceback" not in err


def test_a_second_service_on_a_live_socket_is_refused_and_a_stale_one_replaced(production, notify, tmp_path):
    sock = tmp_path / "counter.sock"
    first = serve(["--config", str(production), "serve"], dict(os.environ), notify)
    try:
        notify.wait_ready(first)
        second = subprocess.run([sys.executable, "-m", "counter", "--config", str(production), "serve"],
                                capture_output=True, text=True, timeout=60, cwd="/")
        assert second.returncode == 1
        assert second.stderr.strip().splitlines()[-1] == f"counter serve: a counter service already answers on {sock}"
        first.kill()  # as kill -9: the socket file stays behind
        first.wait(timeout=30)
        assert stat.S_ISSOCK(os.lstat(sock).st_mode)
        again = serve(["--config", str(production), "serve"], dict(os.environ), notify)
        notify.wait_ready(again)
        again.send_signal(signal.SIGTERM)
        assert again.wait(timeout=60) == 0
    finally:
        for process in (first, locals().get("again")):
            if process is not None and process.poll() is None:
                process.kill()


def test_a_database_behind_the_code_stops_the_start_in_one_line(tmp_path):
    config = tmp_path / "counter.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\n[database]\nurl = "sqlite:///{tmp_path / "new.db"}"\n'
                      f'[service]\nsocket = "{tmp_path / "counter.sock"}"\n', encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "counter", "--config", str(config), "serve"],
                          capture_output=True, text=True, timeout=60, cwd="/")
    assert done.returncode == 1
    assert done.stderr == "counter: the database schema is not current: run 'counter db upgrade' first\n"
    assert not (tmp_path / "counter.sock").exists()


@pytest.mark.parametrize(("argv", "said"), [
    (["serve"], "counter serve: give the site's configuration (--config PATH or COUNTER_CONFIG) for a "
                "production service, or --training for a training room"),
    (["serve", "--training", "--socket", ""], "counter serve: --socket needs a value"),
])
def test_serve_usage_errors(argv, said, capsys):
    assert main(argv) == 2
    assert capsys.readouterr().err.strip() == said


def test_training_options_are_refused_with_a_production_configuration(production, capsys):
    assert main(["--config", str(production), "serve", "--training"]) == 2
    assert "is a production one" in capsys.readouterr().err


def test_a_room_service_with_an_unknown_scenario_says_so(capsys):
    assert main(["serve", "--training", "--scenario", "pas-un-scenario"]) == 2
    assert "Scénario inconnu : « pas-un-scenario »" in capsys.readouterr().err


# -- the private training service -------------------------------------------------------------------


@pytest.fixture
def private_home(isolated_environment, town_database, monkeypatch):
    """A data directory holding the fictional town already (the service opens it
    at once instead of building it); no site service on this machine."""
    home = isolated_environment
    (home / "training").mkdir(parents=True)
    shutil.copyfile(town_database, home / "training" / "counter.sqlite3")
    monkeypatch.setattr(locate, "SYSTEM_SOCKET", home / "no-site-service.sock")
    yield home
    for sock in (home / "run").glob("*.sock"):
        try:
            pid = peer_pid(sock)
        except OSError:
            continue
        os.kill(pid, signal.SIGTERM)  # the private service these tests started, by its id
        wait_gone(pid)


def test_two_terminals_started_at_once_share_one_private_service(private_home):
    """Each 'terminal' is a process of its own finding the service at the same moment."""
    find = "from counter.client.locate import find_service; print(find_service())"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    terminals = [subprocess.Popen([sys.executable, "-c", find], env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(3)]
    found = [terminal.communicate(timeout=120) for terminal in terminals]
    sock = private_home / "run" / "counter.sock"
    assert [out.strip() for out, _ in found] == [str(sock)] * 3, found
    log = (private_home / "logs" / "service.log").read_text(encoding="utf-8")
    assert log.count("listening on") == 1, log
    assert stat.S_IMODE(os.lstat(private_home / "run").st_mode) == 0o700
    assert stat.S_IMODE(os.lstat(sock).st_mode) == 0o600
    # Detached: its own session, no terminal; still there after the terminals left.
    pid = peer_pid(sock)
    assert os.getsid(pid) == pid
    client = CounterClient.at(locate.find_service())
    try:
        session = client.session()
    finally:
        client.close()
    assert (session.login, session.role, session.training) == (os_login(), "trainer", True)
    assert log.count("listening on") == 1


def test_a_private_service_that_cannot_start_says_why_in_french(private_home):
    with pytest.raises(locate.ServiceNotStarted) as refused:
        locate.find_service(scenario="pas-un-scenario")
    assert refused.value.exit_status == 2
    assert "Scénario inconnu : « pas-un-scenario »" in str(refused.value)
    assert "pas-un-scenario" in refused.value.english


def test_a_scenario_gets_a_private_service_of_its_own(private_home):
    plain = locate.find_service()
    scenario = locate.find_service(scenario="creche-complete")
    assert scenario.parent == private_home / "run" and scenario.name.startswith("train-")
    assert peer_pid(plain) != peer_pid(scenario)
    client = CounterClient.at(scenario)
    try:
        session = client.session()
    finally:
        client.close()
    assert session.scenario is not None and session.scenario.name == "creche-complete"


def test_a_private_service_stops_cleanly_and_is_started_again(private_home):
    sock = locate.find_service()
    pid = peer_pid(sock)
    os.kill(pid, signal.SIGTERM)
    assert wait_gone(pid)
    assert not sock.exists()
    assert locate.find_service() == sock
    assert peer_pid(sock) != pid


def test_the_admin_commands_without_configuration_use_the_private_service(private_home, capsys):
    """`counter agents list` on a training machine: through the private service, as a trainer."""
    capsys.readouterr()
    assert main(["agents", "list"]) == 0
    assert capsys.readouterr().err == ""
    assert (private_home / "run" / "counter.sock").exists()


def test_a_data_directory_too_deep_for_a_socket_is_said(isolated_environment, monkeypatch):
    deep = isolated_environment / ("d" * 100)
    monkeypatch.setenv("COUNTER_HOME", str(deep))
    monkeypatch.setattr(locate, "SYSTEM_SOCKET", Path("/nonexistent/counter.sock"))
    with pytest.raises(locate.ServiceNotStarted) as refused:
        locate.find_service()
    assert "trop long pour une socket" in str(refused.value)


def test_a_killed_private_service_is_replaced_by_the_next_terminal(private_home):
    """kill -9 leaves its socket file behind: the next terminal starts a new service there."""
    sock = locate.find_service()
    pid = peer_pid(sock)
    os.kill(pid, signal.SIGKILL)
    assert wait_gone(pid)
    assert sock.exists()  # left behind
    assert locate.find_service() == sock
    assert peer_pid(sock) != pid


def test_train_reset_stops_the_private_services_holding_the_old_town(private_home, capsys):
    sock = locate.find_service()
    pid = peer_pid(sock)
    assert main(["train", "--reset"]) == 0
    assert "Service de formation de ce poste arrêté" in capsys.readouterr().out
    assert wait_gone(pid, timeout=0)  # gone already: reset waited for it
    assert not sock.exists()
    assert locate.find_service() == sock and peer_pid(sock) != pid
