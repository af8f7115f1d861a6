"""The real `counter serve` and `counter`, started with umask 0: the data directory,
the SQLite database (with its -wal and -shm while the service runs), the logs and
the exports are not readable by other accounts."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys

from bench.pty_runner import PtySession
from counter.runtime import os_login
from tests.unit.test_file_modes import mode, too_open


def _env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COUNTER_", "TEXTUAL_"))}
    env.update(COUNTER_HOME=str(tmp_path / "data"), TERM="xterm-256color", LANG="C.UTF-8")
    return env


def _umask0(*argv: str) -> list[str]:
    """``counter ARGV`` started with umask 0."""
    command = " ".join(shlex.quote(a) for a in (sys.executable, "-m", "counter", *argv))
    return ["sh", "-c", f"umask 0 && exec {command}"]


def test_a_counter_started_with_umask_0_writes_nothing_others_can_read(tmp_path):
    data = tmp_path / "data"
    config = tmp_path / "counter.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{data / "counter.db"}"\n'
                      f'[service]\nsocket = "{tmp_path / "counter.sock"}"\nmode = 0o600\n', encoding="utf-8")
    env = _env(tmp_path)

    def counter(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run(_umask0("--config", str(config), *argv), env=env, capture_output=True, text=True,
                              timeout=120)

    assert counter("db", "upgrade").returncode == 0
    assert counter("agents", "add", os_login(), "--role", "supervisor").returncode == 0
    service = subprocess.Popen(_umask0("--config", str(config), "serve"), env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        session = PtySession(_umask0("--config", str(config)), env, size=(80, 24))
        try:
            session.read_until("Choisissez votre code personnel", timeout=60)  # first use: the PIN
            names = {p.name for p in data.iterdir()}
            assert {"counter.db", "counter.db-wal", "counter.db-shm", "logs"} <= names, names
            assert (data / "logs" / "service.log").exists()
            assert too_open(data) == {}
        finally:
            session.close()
    finally:
        service.terminate()
        service.wait(timeout=30)
    done = counter("export", "registrations", "--since", "2020-01-01", "--output", str(data / "inscriptions.csv"))
    assert done.returncode == 0, done.stderr
    done = counter("audit", "export", "--since", "2020-01-01", "--out", str(data / "audit.csv"))
    assert done.returncode == 0, done.stderr
    assert too_open(data) == {}
    assert mode(data) == 0o750 and mode(data / "counter.db") == 0o640
    done = counter("doctor")
    assert "file modes" in done.stdout and "[  ok]" in next(
        line for line in done.stdout.splitlines() if line.startswith("file modes")), done.stdout
