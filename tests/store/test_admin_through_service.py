"""The supervisors' commands through the counter service, on SQLite and PostgreSQL.

The real service (ServiceThread: its socket, HTTP, codec and handlers) and the
real `counter` command with ``--connect``; only the uid → login mapping is the
test's (``as_login``), as the kernel's would be in production. Each command
prints, exits and audits as it does on the database directly (``--config``).
"""

from __future__ import annotations

import json
import os
import socket
import stat

import pytest
from sqlalchemy import text

from counter.cli import main
from counter.runtime import resolve
from counter.service.server import Service, ServiceThread
from tests.store.test_receipts_and_export import registrations  # noqa: F401 (a fixture)

SUPERVISOR, AGENT = "chef", "mdupont"


@pytest.fixture
def site(store, database_url, tmp_path):
    """A production site: its configuration (for the direct commands), a supervisor
    and an agent, and its service; ``site.as_login`` says who the peer is."""
    config = tmp_path / "counter.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\n[database]\nurl = "{database_url}"\n'
                      f'[audit]\nanchor = "{tmp_path / "anchor.log"}"\n', encoding="utf-8")
    assert main(["--config", str(config), "agents", "add", SUPERVISOR, "--role", "supervisor"],
                agent_login=SUPERVISOR) == 0
    assert main(["--config", str(config), "agents", "add", AGENT, "--role", "agent"], agent_login=SUPERVISOR) == 0
    peer = {"login": SUPERVISOR}
    sock = tmp_path / "counter.sock"
    service = ServiceThread(Service(resolve(str(config)), sock, identify=lambda _uid: peer["login"])).start()

    class Site:
        path = str(config)
        socket = str(sock)

        @staticmethod
        def as_login(login: str) -> None:
            peer["login"] = login

        @staticmethod
        def run(*argv: str) -> int:
            return main(["--connect", str(sock), *argv])

        @staticmethod
        def direct(*argv: str) -> int:
            return main(["--config", str(config), *argv], agent_login=SUPERVISOR)

    yield Site
    service.stop()


def _forbidden(store) -> dict[str, int]:
    with store.engine.connect() as connection:
        rows = connection.execute(text("SELECT agent, count(*) FROM audit_entry WHERE action = 'forbidden' "
                                       "GROUP BY agent")).all()
    return dict(rows)


def test_a_supervisor_manages_agents_through_the_service(site, store, capsys):
    capsys.readouterr()
    assert site.run("agents", "add", "pmartin", "--role", "agent", "--name", "Paul Martin") == 0
    assert capsys.readouterr().out == "agent pmartin added (agent)\n"
    assert site.run("agents", "disable", "pmartin") == 0
    assert site.run("agents", "enable", "pmartin") == 0
    assert site.run("agents", "reset-pin", AGENT) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == ["agent pmartin disabled", "agent pmartin enabled (agent)",
                                f"PIN of {AGENT} cleared: they choose a new one at their next start"]
    assert site.run("agents", "list") == 0
    listed = capsys.readouterr().out
    assert site.direct("agents", "list") == 0
    assert capsys.readouterr().out == listed
    assert "pmartin              agent       active    Paul Martin" in listed
    with store.engine.connect() as connection:
        who = connection.execute(text("SELECT agent FROM audit_entry WHERE action = 'agent.add' "
                                      "AND target_id = 'pmartin'")).scalar_one()
    assert who == SUPERVISOR


def test_refusals_read_as_the_direct_commands(site, capsys):
    capsys.readouterr()
    assert site.run("agents", "add", AGENT, "--role", "agent") == 1
    assert capsys.readouterr().err == f"counter: agent '{AGENT}' already exists\n"
    assert site.run("agents", "reset-pin", "ghost") == 1
    assert capsys.readouterr().err == "counter: no agent 'ghost'\n"
    assert site.run("agents", "add", "bad login", "--role", "agent") == 1
    assert "invalid login" in capsys.readouterr().err
    assert site.run("purge", "--older-than", "forever") == 2
    assert "invalid duration" in capsys.readouterr().err
    assert site.run("outbox", "retry") == 1
    assert capsys.readouterr().err == "counter: outbox retry: give message ids or --refused\n"


SUPERVISORS_ONLY = (
    ["agents", "add", "intrus", "--role", "supervisor"],
    ["agents", "list"],
    ["agents", "reset-pin", SUPERVISOR],
    ["audit", "verify"],
    ["audit", "export", "--since", "2020-01-01"],
    ["purge", "--older-than", "1y"],
    ["export", "registrations", "--since", "2020-01-01"],
    ["outbox", "list"],
    ["outbox", "deliver"],
)


def test_an_agent_is_refused_every_supervisors_command_and_each_is_audited_as_them(site, store, capsys):
    site.as_login(AGENT)
    capsys.readouterr()
    for argv in SUPERVISORS_ONLY:
        assert site.run(*argv) == 2, argv
        captured = capsys.readouterr()
        assert captured.err.startswith(f"counter: refused: '{AGENT}' (role agent) may not do "), argv
        assert captured.out == ""  # not even a CSV header
    assert _forbidden(store) == {AGENT: len(SUPERVISORS_ONLY)}
    with store.engine.connect() as connection:
        agents = connection.execute(text("SELECT login FROM agent ORDER BY login")).scalars().all()
    assert agents == [SUPERVISOR, AGENT]


def test_an_account_that_is_not_an_agent_is_refused(site, capsys):
    site.as_login("inconnu")
    capsys.readouterr()
    assert site.run("agents", "list") == 2
    assert capsys.readouterr().err == "counter: refused: this account is not an active agent of the counter\n"


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_exports_through_the_service_are_the_direct_exports(site, store, registrations, tmp_path, fmt,  # noqa: F811
                                                            capsys):
    capsys.readouterr()
    assert site.direct("export", "registrations", "--since", "2026-01-01", "--format", fmt) == 0
    direct = capsys.readouterr().out
    assert site.run("export", "registrations", "--since", "2026-01-01", "--format", fmt) == 0
    assert capsys.readouterr().out == direct
    assert len(json.loads(direct)) == 4 if fmt == "json" else direct.count("\n") == 5
    # The file is written by the command's own process, private, whole.
    target = tmp_path / f"audit.{fmt}"
    assert site.run("audit", "export", "--since", "2020-01-01", "--format", fmt, "--out", str(target)) == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    served = target.read_text(encoding="utf-8")
    assert site.direct("audit", "export", "--since", "2020-01-01", "--format", fmt) == 0
    assert capsys.readouterr().out.replace("\r\n", "\n") == served.replace("\r\n", "\n")
    with store.engine.connect() as connection:
        exports = connection.execute(text("SELECT agent, details FROM audit_entry "
                                          "WHERE action = 'registrations.export' ORDER BY seq")).all()
    assert [(agent, json.loads(details)["count"]) for agent, details in exports] == [(SUPERVISOR, 4)] * 2


def test_an_export_to_a_fifo_is_refused_before_asking_the_service(site, store, tmp_path, capsys):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    capsys.readouterr()
    assert site.run("export", "registrations", "--since", "2020-01-01", "--output", str(fifo)) == 1
    assert capsys.readouterr().err == f"counter: cannot write {fifo}: a FIFO, not a regular file " \
                                      "(refused: nothing written)\n"
    with store.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM audit_entry "
                                       "WHERE action = 'registrations.export'")).scalar_one() == 0


def test_audit_verify_and_purge_through_the_service(site, store, tmp_path, capsys, monkeypatch):
    from counter.cli import trust as cli_trust

    monkeypatch.setattr(cli_trust, "HEADS_PER_REQUEST", 1)  # the heads go in several requests
    capsys.readouterr()
    assert site.run("audit", "verify") == 0
    assert capsys.readouterr().out == "chain intact: 2 entries\n"
    anchor = tmp_path / "anchor.log"
    assert site.run("audit", "verify", "--anchor", str(anchor)) == 0
    published = anchor.read_text().splitlines()
    assert f"it holds the {len(published) - 1} head(s) published in {anchor} (up to entry 2)" \
        in capsys.readouterr().out  # the last line was published by this verify
    database = next(word for word in published[0].split() if word.startswith("db="))
    forged = tmp_path / "forged.log"
    forged.write_text("\n".join([*published, f"counter-audit-head {database} seq=1 hash={'0' * 64}"]) + "\n")
    assert site.run("audit", "verify", "--anchor", str(forged)) == 1
    assert "chain disagrees with" in capsys.readouterr().err
    # The anchor is read by the command's own account: one it cannot read is said, exit 2, as directly.
    assert site.run("audit", "verify", "--anchor", str(tmp_path / "missing.log")) == 2
    assert capsys.readouterr().err == f"counter: cannot read the anchor {tmp_path / 'missing.log'}: " \
                                      "No such file or directory\n"
    assert site.run("purge", "--older-than", "1y") == 0
    assert capsys.readouterr().out.startswith("purged: 0 audit entries, 0 draft(s)")
    with store.write() as session:
        session.execute(text("UPDATE audit_entry SET target_id = 'quelqu_un' WHERE seq = 2"))
    assert site.run("audit", "verify") == 1
    assert "chain broken at entry 2" in capsys.readouterr().err


def test_outbox_through_the_service(site, capsys):
    capsys.readouterr()
    assert site.run("outbox", "list") == 0
    assert capsys.readouterr().out == "the outbox is empty\n"
    assert site.run("outbox", "retry", "--refused") == 0
    assert capsys.readouterr().out == "0 message(s) due now\n"
    assert site.run("outbox", "deliver") == 0
    assert capsys.readouterr().out == "delivered 0, to retry later 0, refused 0\n"


def test_a_hand_written_request_naming_the_supervisor_is_still_the_agent(site, store):
    """Headers and body are the client's to write; the peer is the kernel's word."""
    site.as_login(AGENT)
    body = json.dumps({"login": "intrus", "role": "supervisor", "agent": SUPERVISOR, "by": SUPERVISOR}).encode()
    request = (f"POST /v1/agents.add HTTP/1.1\r\nHost: counter\r\nContent-Type: application/json\r\n"
               f"X-Counter-Agent: {SUPERVISOR}\r\nX-Remote-User: {SUPERVISOR}\r\nAuthorization: Basic Y2hlZjo=\r\n"
               f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body
    with socket.socket(socket.AF_UNIX) as raw:
        raw.settimeout(30)
        raw.connect(site.socket)
        raw.sendall(request)
        answer = b""
        while chunk := raw.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 403 ")
    assert f"refused: '{AGENT}' (role agent)".encode() in answer
    assert _forbidden(store) == {AGENT: 1}
