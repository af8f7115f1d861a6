"""`counter credentials`: secrets go to the keyring, never to the screen or the files."""

from __future__ import annotations

import io

import keyring
import pytest

from counter.cli import main
from tests.memory_keyring import MemoryKeyring


@pytest.fixture
def memory_keyring():
    previous = keyring.get_keyring()
    store = MemoryKeyring()
    keyring.set_keyring(store)
    yield store
    keyring.set_keyring(previous)


def config(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "p.db"}"\n'
        '[backends.caf]\nkind = "api_particulier"\nbase_url = "http://127.0.0.1:9"\nrecipient = "21459999900015"\n',
        encoding="utf-8",
    )
    return str(path)


def test_set_reads_the_secret_from_stdin_and_never_prints_it(tmp_path, capsys, monkeypatch, memory_keyring):
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-token\n"))
    assert main(["--config", config(tmp_path), "credentials", "set", "caf"]) == 0
    assert memory_keyring.secrets[("counter", "caf")] == "s3cret-token"
    out, err = capsys.readouterr()
    assert "s3cret-token" not in out + err
    assert not any("s3cret" in p.read_text(errors="ignore") for p in tmp_path.rglob("*") if p.is_file())


def test_set_refuses_an_unknown_backend_and_a_blank_secret(tmp_path, capsys, monkeypatch, memory_keyring):
    assert main(["--config", config(tmp_path), "credentials", "set", "nope"]) == 1
    assert "no backend named 'nope' (configured: caf)" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))
    assert main(["--config", config(tmp_path), "credentials", "set", "caf"]) == 1
    assert "refused" in capsys.readouterr().err
    assert memory_keyring.secrets == {}


class Endless(io.TextIOBase):
    """`counter credentials set caf < /dev/zero`: a standard input without end."""

    def readable(self) -> bool:
        return True

    def readline(self, size: int = -1) -> str:
        if size is None or size < 0:
            raise AssertionError("standard input read without a limit")
        return "\0" * size


def test_a_secret_from_an_endless_input_is_read_up_to_a_limit(tmp_path, capsys, monkeypatch, memory_keyring):
    monkeypatch.setattr("sys.stdin", Endless())
    assert main(["--config", config(tmp_path), "credentials", "set", "caf"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "counter: the secret is longer than 4096 characters: nothing stored"]
    assert memory_keyring.secrets == {}


def test_without_a_usable_keyring_the_options_are_explained(tmp_path, capsys):
    from keyring.backends.fail import Keyring as NoKeyring

    previous = keyring.get_keyring()
    keyring.set_keyring(NoKeyring())
    try:
        assert main(["--config", config(tmp_path), "credentials", "set", "caf"]) == 1
    finally:
        keyring.set_keyring(previous)
    err = capsys.readouterr().err
    assert "Secret Service" in err and "PYTHON_KEYRING_BACKEND" in err and "keyrings.cryptfile" in err


def test_check_reports_a_missing_secret_and_an_unreachable_agency(tmp_path, capsys, memory_keyring):
    assert main(["--config", config(tmp_path), "credentials", "check"]) == 1
    out = capsys.readouterr().out
    assert "backend caf" in out and "unauthorized" in out and "counter credentials set caf" in out
    memory_keyring.secrets[("counter", "caf")] = "tok"
    assert main(["--config", config(tmp_path), "credentials", "check"]) == 1
    out = capsys.readouterr().out
    assert "secret stored" in out and "unavailable" in out and "tok" not in out


# -- a keyring that fails: an encrypted file asking for its own password, a backend not installed ----------

REPO = __import__("pathlib").Path(__file__).resolve().parents[2]


def counter_process(tmp_path, *args, stdin: str = "", **env):
    """`counter` in a process of its own, with no controlling terminal (like a service or a pipe)."""
    import os
    import subprocess
    import sys

    environment = dict(os.environ, PYTHONPATH=str(REPO), COUNTER_HOME=str(tmp_path / "home"),
                       PYTHON_KEYRING_BACKEND="tests.prompting_keyring.PromptingKeyring",
                       COUNTER_TEST_KEYRING_PROMPT="getpass", COUNTER_TEST_KEYRING_FILE=str(tmp_path / "k.json"))
    environment.pop("COUNTER_TEST_KEYRING_PASSWORD", None)
    environment.update(env)
    return subprocess.run([sys.executable, "-m", "counter", "--config", config(tmp_path), *args], env=environment,
                          input=stdin, capture_output=True, text=True, timeout=60, start_new_session=True)


def test_a_keyring_asking_for_its_own_password_is_explained_not_a_traceback(tmp_path):
    done = counter_process(tmp_path, "credentials", "set", "caf", stdin="s3cret-token\n")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "s3cret-token" not in done.stdout + done.stderr
    assert "refused to store it" in done.stderr and "KEYRING_CRYPTFILE_PASSWORD" in done.stderr
    # Given its password in the environment, the same keyring stores the secret without asking.
    done = counter_process(tmp_path, "credentials", "set", "caf", stdin="s3cret-token\n",
                           COUNTER_TEST_KEYRING_PASSWORD="pw")
    assert done.returncode == 0, done.stderr
    assert "s3cret-token" in (tmp_path / "k.json").read_text()


def test_a_keyring_backend_that_cannot_be_loaded_is_explained(tmp_path):
    for command in (["credentials", "set", "caf"], ["credentials", "check"], ["doctor"]):
        done = counter_process(tmp_path, *command, stdin="s3cret-token\n",
                               PYTHON_KEYRING_BACKEND="no_such_module.Keyring")
        assert done.returncode == 1, command
        assert "Traceback" not in done.stderr, command
        assert "cannot be loaded" in done.stdout + done.stderr, command


@pytest.fixture
def locked_keyring():
    from tests.prompting_keyring import PromptingKeyring

    previous = keyring.get_keyring()
    locked = PromptingKeyring()
    keyring.set_keyring(locked)
    yield locked
    keyring.set_keyring(previous)


def test_check_says_the_keyring_itself_is_unusable(tmp_path, capsys, locked_keyring):
    assert main(["--config", config(tmp_path), "credentials", "check"]) == 1
    out = capsys.readouterr().out
    keyring_line = next(line for line in out.splitlines() if line.startswith("keyring "))
    assert "[FAIL]" in keyring_line and "unusable" in keyring_line and "EOFError" in keyring_line
    assert "KEYRING_CRYPTFILE_PASSWORD" in keyring_line
    backend_line = next(line for line in out.splitlines() if line.startswith("backend caf"))
    assert "secret unreadable" in backend_line and "NO SECRET" not in backend_line
    assert locked_keyring.prompts == 1  # asked once, not once per backend and again per check


def test_doctor_says_it_too(tmp_path, capsys, locked_keyring):
    assert main(["--config", config(tmp_path), "doctor"]) == 1
    out = capsys.readouterr().out
    assert [line for line in out.splitlines() if line.startswith("keyring ")] == [
        next(line for line in out.splitlines() if "unusable" in line)]
