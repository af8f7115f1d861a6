"""A full disk: the real `counter` writing its output to /dev/full says so in one
English line and exits 1, never a traceback; an export to a full file system names
the file and leaves nothing behind."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid

import pytest
from sqlalchemy import text

from counter.cli import main
from counter.runtime import os_login
from counter.store.engine import Store
from tests.requirements import missing

FULL = "counter: cannot write to standard output: No space left on device"


@pytest.fixture
def production(tmp_path):
    db = tmp_path / "counter.db"
    config = tmp_path / "counter.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\n[database]\nurl = "sqlite:///{db}"\n', encoding="utf-8")
    assert main(["--config", str(config), "db", "upgrade"]) == 0
    assert main(["--config", str(config), "agents", "add", os_login(), "--role", "supervisor"]) == 0
    assert main(["--config", str(config), "agents", "add", "mdupont", "--role", "agent"]) == 0
    store = Store(f"sqlite:///{db}")
    yield str(config), store
    store.dispose()


def to_dev_full(*argv: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COUNTER_")}
    with open("/dev/full", "w") as full:
        return subprocess.run([sys.executable, "-m", "counter", *argv], env=env, stdout=full,
                              stderr=subprocess.PIPE, text=True, timeout=120)


@pytest.mark.parametrize("argv", [
    ["outbox", "list"],
    ["agents", "list"],
    ["audit", "verify"],
    ["audit", "export", "--since", "2020-01-01"],
    ["export", "registrations", "--since", "2020-01-01"],
    ["db", "status"],
], ids=lambda argv: "-".join(a for a in argv if not a.startswith(("-", "2"))))
def test_output_to_a_full_disk_is_one_line_and_exit_1(production, argv):
    config, _ = production
    done = to_dev_full("--config", config, *argv)
    assert (done.returncode, done.stderr.splitlines()) == (1, [FULL])


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["fixtures", "generate", "--help"]])
def test_help_to_a_full_disk_is_one_line_and_exit_1(argv):
    done = to_dev_full(*argv)
    assert (done.returncode, done.stderr.splitlines()) == (1, [FULL])


@pytest.fixture
def full_filesystem(tmp_path):
    """A tiny tmpfs, filled to the last block (needs root, as in CI)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        missing("mounting a small tmpfs needs root (CI runs as root)")
    where = tmp_path / f"full-{uuid.uuid4().hex[:6]}"
    where.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(where)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        missing(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        with open(where / "filler", "wb", buffering=0) as filler:
            try:
                while True:
                    filler.write(b"\0" * 4096)
            except OSError:
                pass
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=False)


@pytest.mark.parametrize("command", [["export", "registrations", "--since", "2020-01-01", "--output"],
                                     ["audit", "export", "--since", "2020-01-01", "--out"]],
                         ids=["export-output", "audit-export-out"])
def test_an_export_to_a_full_disk_names_the_file_and_leaves_nothing(production, full_filesystem, capsys, command):
    config, store = production
    target = full_filesystem / "export.csv"
    capsys.readouterr()
    assert main(["--config", config, *command, str(target)]) == 1
    assert capsys.readouterr().err.splitlines() == [f"counter: cannot write {target}: No space left on device"]
    assert sorted(os.listdir(full_filesystem)) == ["filler"]
    with store.engine.connect() as connection:
        assert connection.execute(text(
            "SELECT count(*) FROM audit_entry WHERE action = 'registrations.export'")).scalar_one() == 0


def test_a_closed_standard_output_is_one_line_and_exit_1(production):
    config, _ = production
    env = {k: v for k, v in os.environ.items() if not k.startswith("COUNTER_")}
    done = subprocess.run([sys.executable, "-m", "counter", "--config", config, "agents", "list"], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=120,
                          preexec_fn=lambda: os.close(1))
    assert (done.returncode, done.stderr.splitlines()) == (
        1, ["counter: cannot write to standard output: it is closed"])


def test_a_reader_that_leaves_early_gets_no_message(production, tmp_path):
    """`counter agents list | head -1`: the rest has no reader; exit 1, nothing on stderr."""
    from counter.store.models import Agent

    config, store = production
    with store.write() as session:  # more lines than a pipe's buffer holds
        session.add_all(Agent(login=f"agent{number}", role="agent") for number in range(3000))
    env = {k: v for k, v in os.environ.items() if not k.startswith("COUNTER_")}
    process = subprocess.Popen([sys.executable, "-m", "counter", "--config", config, "agents", "list"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout.readline()
    process.stdout.close()  # the reader leaves
    err = process.stderr.read()
    assert process.wait(timeout=120) == 1
    assert err == b""
