"""`counter queue display` against a running `counter serve`: the waiting room's TV
shows the number just called and where to go — never a login, a reason or a need."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from counter.cli import main
from counter.client.api import CounterClient
from counter.domain.front_desk import big_number
from counter.runtime import os_login
from counter.store.engine import Store
from fixtures.agents import ensure_agent
from tests.service_processes import notify  # noqa: F401 — fixture
from tests.service_processes import REPO, serve


@pytest.fixture
def production(tmp_path):
    """A production database with a queue; this test's own login is an agent whom the
    site's [queue] desks do not name (another agent's desk is)."""
    config = tmp_path / "counter.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\n[database]\nurl = "sqlite:///{tmp_path / "counter.db"}"\n'
                      f'[audit]\nanchor = "{tmp_path / "anchor.log"}"\n'
                      f'[service]\nsocket = "{tmp_path / "counter.sock"}"\nsite = "mairie"\n'
                      '[queue]\nenabled = true\ndesks = { "mdupont" = "Guichet 2" }\n', encoding="utf-8")
    assert main(["--config", str(config), "db", "upgrade"]) == 0
    store = Store(f"sqlite:///{tmp_path / 'counter.db'}")
    try:
        ensure_agent(store, os_login(), "agent")
    finally:
        store.dispose()
    return config


def display_once(sock) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "counter", "--connect", str(sock), "queue", "display", "--once"],
                          env=dict(os.environ, PYTHONPATH=str(REPO)), capture_output=True, text=True, timeout=120,
                          cwd="/", stdin=subprocess.DEVNULL)


def test_the_display_shows_the_called_number_and_a_neutral_desk(production, notify, tmp_path):
    sock = tmp_path / "counter.sock"
    process = serve(["--config", str(production), "serve"], dict(os.environ), notify)
    try:
        notify.wait_ready(process)
        empty = display_once(sock)
        assert empty.returncode == 0, empty.stderr
        assert "Aucun ticket appelé pour le moment." in empty.stdout
        client = CounterClient.at(sock)
        try:
            for _ in range(3):
                client.issue_ticket(("caf", "qf"), "interprete", False)
            assert client.call_ticket().ticket.number == 1  # the agent serves ticket 1; 2 and 3 wait
        finally:
            client.close()
        shown = display_once(sock)
    finally:
        process.terminate()
        process.communicate(timeout=60)
    assert shown.returncode == 0 and shown.stderr == "", shown.stderr
    out = shown.stdout
    lines = out.splitlines()
    assert len(lines) == 24 and all(len(line) <= 80 for line in lines)  # not a terminal: 80x24, printed once
    assert "\x1b" not in out
    assert [row.strip() for row in big_number(1)] == [line.strip() for line in lines[2:7]]
    assert "Ticket 1 → Guichet" in out and lines[-1] == "2 personnes attendent."
    # Numbers and desks only: no login (this agent's desk is not named), no reason, no need.
    words = set(re.findall(r"\w+", out))
    assert os_login() not in words and "Guichet 2" not in out
    assert not {"CAF", "Quotient", "Interprète", "interprete", "caf", "qf"} & words
