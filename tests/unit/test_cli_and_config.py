"""The `counter` command and its configuration, as administrators and agents meet them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import keyring
import pytest

from counter import __version__
from counter.cli import main
from counter.runtime import os_login
from counter.store import migrate


def write_config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "counter.toml"
    path.write_text(body, encoding="utf-8")
    return path


def production_config(tmp_path: Path, extra: str = "") -> Path:
    return write_config(tmp_path, f'[database]\nurl = "sqlite:///{tmp_path / "prod.sqlite3"}"\n{extra}')


@pytest.mark.parametrize(
    "body, message",
    [
        ('[database]\nurl = "sqlite:////tmp/x.db"\nurll = 1\n', "unknown key 'database.urll'"),
        ('colour = "red"\n[database]\nurl = "sqlite:////tmp/x.db"\n', "unknown key 'colour'"),
        ('[database]\nurl = "sqlite:////tmp/x.db"\n[ui]\ntheme = 3\n', "key 'ui.theme'"),
        ('[database]\nurl = "sqlite:////tmp/x.db"\n[ui]\ntheme = "pink"\n', "key 'ui.theme': must be one of"),
        ('[database]\nurl = 5432\n', "key 'database.url': wrong type"),
        ('[database]\nurl = "mysql://db/counter"\n', "key 'database.url': not a usable database URL"),
        ('[database]\nurl = "not a url"\n', "key 'database.url'"),
        ('[database]\nurl = "sqlite://"\n', "key 'database.url': a SQLite URL needs a file path"),
        ("[ui]\ntheme = 'auto'\n", "missing key 'database'"),
        ('[database\nurl = "x"\n', "invalid TOML"),
        ('database = "sqlite:////tmp/x.db"\n', "key 'database'"),
    ],
)
def test_bad_configuration_is_refused_naming_key_and_file(tmp_path, capsys, body, message):
    path = write_config(tmp_path, body)
    assert main(["--config", str(path), "doctor"]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert str(path) in err
    assert "Traceback" not in err


def test_missing_configuration_file(tmp_path, capsys):
    assert main(["--config", str(tmp_path / "nope.toml"), "doctor"]) == 2
    assert "cannot read the configuration file" in capsys.readouterr().err


def test_counter_config_environment_variable_selects_production(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COUNTER_CONFIG", str(production_config(tmp_path)))
    main(["doctor"])
    assert "production" in capsys.readouterr().out


def test_a_real_process_exits_2_without_traceback(tmp_path):
    path = write_config(tmp_path, "[database]\nurl = 3\n")
    done = subprocess.run([sys.executable, "-m", "counter", "--config", str(path), "doctor"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "key 'database.url'" in done.stderr and "Traceback" not in done.stderr


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"counter {__version__}"


def test_doctor_in_training_mode_passes_without_a_keyring(capsys, isolated_environment):
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "training" in out and "(none: training mode)" in out
    assert str(isolated_environment) in out
    assert "created on first start" in out


def test_doctor_fails_on_an_unreachable_production_database(tmp_path, capsys):
    path = write_config(tmp_path, '[database]\nurl = "postgresql://nobody@127.0.0.1:1/counter"\n')
    assert main(["--config", str(path), "doctor"]) == 1
    out = capsys.readouterr().out
    assert "unreachable" in out and "FAIL" in out


def test_doctor_production_flow(tmp_path, capsys, monkeypatch):
    from tests.memory_keyring import MemoryKeyring

    path = production_config(tmp_path)
    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    try:
        assert main(["--config", str(path), "doctor"]) == 1  # not migrated yet
        assert "run 'counter db upgrade'" in capsys.readouterr().out
        assert main(["--config", str(path), "db", "upgrade"]) == 0
        assert f"revision none -> {migrate.HEAD}" in capsys.readouterr().out
        assert main(["--config", str(path), "db", "status"]) == 0
        assert main(["--config", str(path), "doctor"]) == 0
        assert f"revision {migrate.HEAD} (current)" in capsys.readouterr().out
    finally:
        keyring.set_keyring(previous)


def test_doctor_production_requires_a_keyring(tmp_path, capsys):
    from keyring.backends.fail import Keyring as NoKeyring

    path = production_config(tmp_path)
    main(["--config", str(path), "db", "upgrade"])
    previous = keyring.get_keyring()
    keyring.set_keyring(NoKeyring())
    try:
        assert main(["--config", str(path), "doctor"]) == 1
        assert "no usable keyring" in capsys.readouterr().out
    finally:
        keyring.set_keyring(previous)


def test_agents_commands(tmp_path, capsys):
    path = str(production_config(tmp_path))
    assert main(["--config", path, "agents", "list"]) == 1  # schema missing
    assert "counter db upgrade" in capsys.readouterr().err
    main(["--config", path, "db", "upgrade"])
    # No supervisor yet: only adding one is allowed, and it says how.
    assert main(["--config", path, "agents", "add", "mdupont", "--role", "agent"]) == 2
    assert "no supervisor yet" in capsys.readouterr().err
    assert main(["--config", path, "agents", "add", os_login(), "--role", "supervisor"]) == 0
    assert main(["--config", path, "agents", "add", "mdupont", "--role", "agent", "--name", "Marie Dupont"]) == 0
    assert main(["--config", path, "agents", "add", "mdupont", "--role", "agent"]) == 1
    assert "already exists" in capsys.readouterr().err
    assert main(["--config", path, "agents", "disable", "mdupont"]) == 0
    capsys.readouterr()
    assert main(["--config", path, "agents", "list"]) == 0
    assert "mdupont" in (out := capsys.readouterr().out) and "disabled" in out
    with pytest.raises(SystemExit) as exit_info:
        main(["--config", path, "agents", "add", "x", "--role", "mayor"])
    assert exit_info.value.code == 2


def test_production_refuses_an_unknown_or_disabled_agent_in_french(tmp_path, capsys):
    """The service serves the town's agents only: anyone else is told why, in French."""
    from counter.client.errors import Refused
    from tests.serving import serving

    path = str(production_config(tmp_path))
    main(["--config", path, "db", "upgrade"])
    main(["--config", path, "agents", "add", os_login(), "--role", "supervisor"])
    with serving(path, "inconnu", tmp_path) as client, pytest.raises(Refused) as refused:
        client.session()
    assert refused.value.code == "unknown_agent"
    assert "Accès refusé : l'identifiant « inconnu » est inconnu" in refused.value.problem.message
    assert "counter agents add inconnu --role agent" in refused.value.problem.message
    # A supervisor (this process's login) adds and disables the agent.
    main(["--config", path, "agents", "add", "inconnu", "--role", "agent"])
    with serving(path, "inconnu", tmp_path) as client:
        assert client.session().role == "agent"
    main(["--config", path, "agents", "disable", "inconnu"])
    with serving(path, "inconnu", tmp_path) as client, pytest.raises(Refused) as refused:
        client.session()
    assert "est désactivé" in refused.value.problem.message


def test_a_service_on_an_unreachable_database_says_so_in_one_line(tmp_path, capsys):
    path = write_config(tmp_path, '[database]\nurl = "postgresql://nobody@127.0.0.1:1/counter"\n'
                                  f'[service]\nsocket = "{tmp_path / "s.sock"}"\n')
    assert main(["--config", str(path), "serve"]) == 1
    err = capsys.readouterr().err
    assert "database error" in err and "Connection refused" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_data_directory_follows_counter_home_then_config(tmp_path, monkeypatch):
    from counter.runtime import resolve

    monkeypatch.setenv("COUNTER_HOME", str(tmp_path / "home"))
    assert resolve().data_dir == tmp_path / "home"
    assert resolve().database_url == f"sqlite:///{tmp_path / 'home' / 'training' / 'counter.sqlite3'}"
    path = production_config(tmp_path, extra="")
    path.write_text(f'data_dir = "{tmp_path / "srv"}"\n' + path.read_text())
    assert resolve(str(path)).data_dir == tmp_path / "home"  # COUNTER_HOME wins
    monkeypatch.delenv("COUNTER_HOME")
    assert resolve(str(path)).data_dir == tmp_path / "srv"


def test_generate_command_writes_a_small_town(tmp_path, capsys):
    assert main(["fixtures", "generate", "--out", str(tmp_path / "t"), "--households", "50", "--seed", "7"]) == 0
    assert (tmp_path / "t" / "persons.csv").exists()
    with pytest.raises(SystemExit):
        main(["fixtures", "generate", "--out", str(tmp_path / "t"), "--persons", "-3"])


def test_agents_enable_brings_a_disabled_agent_back_with_their_role(tmp_path, capsys, monkeypatch):
    path = str(production_config(tmp_path))
    main(["--config", path, "db", "upgrade"])
    # Agents are managed by a supervisor: whoever runs the command (the OS login) is the first.
    main(["--config", path, "agents", "add", os_login(), "--role", "supervisor"])
    main(["--config", path, "agents", "add", "lgarnier", "--role", "supervisor"])
    main(["--config", path, "agents", "disable", "lgarnier"])
    capsys.readouterr()
    assert main(["--config", path, "agents", "enable", "lgarnier"]) == 0
    assert "agent lgarnier enabled (supervisor)" in capsys.readouterr().out
    main(["--config", path, "agents", "list"])
    assert "lgarnier" in (out := capsys.readouterr().out) and "active" in out and "disabled" not in out
    assert main(["--config", path, "agents", "enable", "personne"]) == 1
    assert "no agent 'personne'" in capsys.readouterr().err


def _unusable_homes(tmp_path):
    a_file = tmp_path / "a-file"
    a_file.write_text("not a directory")
    return {"under /proc": "/proc/counter-home", "a file's path": str(a_file)}


@pytest.mark.parametrize("case", ["under /proc", "a file's path"])
def test_an_unusable_data_directory_is_a_message_not_a_traceback(tmp_path, capsys, monkeypatch, case):
    home = _unusable_homes(tmp_path)[case]
    monkeypatch.setenv("COUNTER_HOME", home)
    monkeypatch.delenv("COUNTER_CONFIG", raising=False)
    assert main(["doctor"]) == 1
    captured = capsys.readouterr()
    assert "data directory" in captured.out and "cannot create" in captured.out
    assert "FAIL" in captured.out and "Traceback" not in captured.out + captured.err
    assert main(["db", "upgrade"]) == 1
    err = capsys.readouterr().err
    assert "cannot create the database's directory" in err and "Traceback" not in err
    import counter.terminal

    monkeypatch.setattr(counter.terminal, "has_terminal", lambda: True)
    assert main([]) == 1  # the counter itself, before taking the terminal: French
    err = capsys.readouterr().err
    assert "le dossier de données" in err and home in err and "Traceback" not in err


def test_an_unusable_data_directory_through_the_real_command(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "COUNTER_CONFIG"}
    env["COUNTER_HOME"] = "/proc/counter-home"
    for command in (["doctor"], ["db", "upgrade"], ["agents", "list"]):
        done = subprocess.run([sys.executable, "-m", "counter", *command], env=env,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 1, command
        assert "Traceback" not in done.stdout + done.stderr, command
        assert "/proc/counter-home" in done.stdout + done.stderr, command
