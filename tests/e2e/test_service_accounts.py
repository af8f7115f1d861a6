"""Issue 12's done-when, with real operating-system accounts (root, as in CI).

A service account runs `counter serve` on a production configuration it owns
(SQLite, an agency credential in its own file keyring); an agent's account and a
supervisor's account are in the socket's group; a fourth account is not. The
agent cannot open the database or the credential, and cannot act as the
supervisor through LOGNAME, USER, arguments or a hand-written request on the
socket: each refusal that reaches the service is audited under the agent's own
login. The supervisor can. The account outside the group cannot connect.
Every account and group is removed afterwards, even on failure.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import tempfile
from contextlib import ExitStack
from pathlib import Path

import pytest
from sqlalchemy import text

from counter.store.engine import Store
from tests.os_accounts import as_account, python_for, require_root, throwaway_account, throwaway_group
from tests.service_processes import Notified

SECRET = "jeton-api-particulier-de-la-mairie"
KEYRING = "tests.file_keyring.FileKeyring"

# Run as the agent: what its own permissions let it open.
TRY_TO_READ = """
import json, sys
found = {}
for name in sys.argv[1:]:
    try:
        with open(name, "rb") as handle:
            found[name] = "read " + str(len(handle.read(64)))
    except OSError as exc:
        found[name] = type(exc).__name__
print(json.dumps(found))
"""

# Run as the agent: a request written by hand, every header and field naming the supervisor.
FORGED_REQUEST = """
import json, socket, sys
path, supervisor = sys.argv[1], sys.argv[2]
body = json.dumps({"login": "intrus", "role": "supervisor", "display_name": "",
                   "agent": supervisor, "by": supervisor, "actor": supervisor}).encode()
head = (f"POST /v1/agents.add HTTP/1.1\\r\\nHost: counter\\r\\nContent-Type: application/json\\r\\n"
        f"X-Counter-Agent: {supervisor}\\r\\nX-Remote-User: {supervisor}\\r\\nX-Forwarded-User: {supervisor}\\r\\n"
        f"Content-Length: {len(body)}\\r\\nConnection: close\\r\\n\\r\\n").encode()
with socket.socket(socket.AF_UNIX) as raw:
    raw.settimeout(60)
    raw.connect(path)
    raw.sendall(head + body)
    answer = b""
    while chunk := raw.recv(65536):
        answer += chunk
print(answer.decode("utf-8", "replace"))
"""


class Site:
    """The set-up: accounts, directories, the configuration, the running service."""

    def __init__(self, stack: ExitStack) -> None:
        self.group = stack.enter_context(throwaway_group())  # the socket's: counter-agents
        self.service = stack.enter_context(throwaway_account([self.group.gr_name]))
        self.agent = stack.enter_context(throwaway_account([self.group.gr_name]))
        self.supervisor = stack.enter_context(throwaway_account([self.group.gr_name]))
        self.outsider = stack.enter_context(throwaway_account())
        # Outside /tmp/pytest-of-root (0700): the accounts must reach the socket's directory.
        self.root = Path(tempfile.mkdtemp(prefix="counter-e2e-", dir="/tmp"))
        stack.callback(shutil.rmtree, self.root, ignore_errors=True)
        os.chmod(self.root, 0o755)
        self.srv = self.root / "srv"  # the service's: /var/lib/counter
        self.run = self.root / "run"  # /run/counter (RuntimeDirectory=)
        for folder, mode in ((self.srv, 0o750), (self.run, 0o755)):
            folder.mkdir(mode=mode)
            os.chown(folder, self.service.pw_uid, self.service.pw_gid)
            os.chmod(folder, mode)
        self.database = self.srv / "counter.db"
        self.keyring = self.srv / "keyring.json"
        self.config = self.srv / "counter.toml"
        self.socket = self.run / "counter.sock"
        self.config.write_text(
            f'data_dir = "{self.srv / "data"}"\n'
            f'[database]\nurl = "sqlite:///{self.database}"\n'
            f'[audit]\nanchor = "{self.srv / "anchor.log"}"\n'
            f'[service]\nsocket = "{self.socket}"\ngroup = "{self.group.gr_name}"\n'
            '[backends.api_particulier]\nkind = "api_particulier"\nbase_url = "http://127.0.0.1:9"\n'
            'recipient = "21459999900015"\n', encoding="utf-8")
        os.chown(self.config, self.service.pw_uid, self.service.pw_gid)
        os.chmod(self.config, 0o640)
        self.python, self.base_env = python_for(self.service)

    def env(self, account, **extra: str) -> dict[str, str]:
        return {**self.base_env, "HOME": "/nonexistent", "LOGNAME": account.pw_name, "USER": account.pw_name,
                **extra}

    def service_env(self, **extra: str) -> dict[str, str]:
        return self.env(self.service, PYTHON_KEYRING_BACKEND=KEYRING, COUNTER_TEST_KEYRING_FILE=str(self.keyring),
                        **extra)

    def counter(self, account, *argv: str, env: dict[str, str], stdin: str | None = None):
        command = as_account(account, [*self.python, "-m", "counter", *argv], env=env)
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, cwd="/", input=stdin)

    def python_as(self, account, code: str, *argv: str):
        env = self.env(account)
        command = as_account(account, [*self.python, "-c", code, *argv], env=env)
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, cwd="/")

    def query(self, sql: str):
        store = Store(f"sqlite:///{self.database}")
        try:
            with store.engine.connect() as connection:
                return connection.execute(text(sql)).all()
        finally:
            store.dispose()


def _ok(done) -> str:
    assert done.returncode == 0, (done.args, done.stdout, done.stderr)
    return done.stdout


@pytest.fixture
def site():
    require_root()
    with ExitStack() as stack:
        site = Site(stack)
        config = str(site.config)
        env = site.service_env()
        # The service's own account prepares its database, the first supervisor and
        # its keyring (with the configuration file: directly on the database).
        _ok(site.counter(site.service, "--config", config, "db", "upgrade", env=env))
        _ok(site.counter(site.service, "--config", config, "agents", "add", site.supervisor.pw_name,
                         "--role", "supervisor", env=env))
        _ok(site.counter(site.service, "--config", config, "credentials", "set", "api_particulier",
                         env=env, stdin=SECRET + "\n"))
        notify = Notified()
        stack.callback(notify.close)
        command = as_account(site.service, [*site.python, "-m", "counter", "--config", config, "serve"], env=env)
        process = subprocess.Popen(command, env={**env, "NOTIFY_SOCKET": notify.address}, cwd="/",
                                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True)

        def stop() -> None:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)  # our child, by its id
                try:
                    process.communicate(timeout=60)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.communicate()

        stack.callback(stop)
        notify.wait_ready(process)
        site.process = process
        # Then the supervisor manages the agents, from their own account, through the service.
        _ok(site.counter(site.supervisor, "agents", "add", site.agent.pw_name, "--role", "agent",
                         env=site.env(site.supervisor, COUNTER_SOCKET=str(site.socket))))
        yield site


def test_the_agent_cannot_reach_the_data_nor_act_as_the_supervisor_who_can(site):
    agent, supervisor = site.agent.pw_name, site.supervisor.pw_name
    # The service's files: the database, its configuration and the credential are the service account's.
    for path in (site.database, site.keyring, site.config):
        info = os.stat(path)
        assert info.st_uid == site.service.pw_uid and not info.st_mode & 0o007, (path, oct(info.st_mode))
    assert json.loads(site.keyring.read_text()) == {"counter/api_particulier": SECRET}

    # 1. Files: the agent's own permissions open none of them.
    done = site.python_as(site.agent, TRY_TO_READ, str(site.database), str(site.keyring), str(site.config))
    assert json.loads(_ok(done)) == {str(site.database): "PermissionError", str(site.keyring): "PermissionError",
                                     str(site.config): "PermissionError"}

    # 2. The environment names the supervisor: refused as the agent, by the service.
    claiming = site.env(site.agent, LOGNAME=supervisor, USER=supervisor, LNAME=supervisor, USERNAME=supervisor,
                        COUNTER_SOCKET=str(site.socket))
    attempts = [["agents", "add", "intrus", "--role", "supervisor"], ["agents", "reset-pin", supervisor],
                ["audit", "export", "--since", "2020-01-01"], ["outbox", "list"]]
    for argv in attempts:
        done = site.counter(site.agent, *argv, env=claiming)
        assert done.returncode == 2, (argv, done.stdout, done.stderr)
        assert done.stderr.startswith(f"counter: refused: '{agent}' (role agent) may not do "), done.stderr
        assert done.stdout == "" and "Traceback" not in done.stderr

    # 3. Arguments: the service's configuration (to act on the database directly) cannot be read.
    done = site.counter(site.agent, "--config", str(site.config), "agents", "add", "intrus", "--role",
                        "supervisor", env=claiming)
    assert done.returncode == 2
    assert f"{site.config}: cannot read the configuration file (Permission denied)" in done.stderr
    done = site.counter(site.agent, "--connect", str(site.socket), "agents", "disable", supervisor, env=claiming)
    assert done.returncode == 2 and f"'{agent}' (role agent)" in done.stderr

    # 4. A request written by hand on the socket, every header and field naming the supervisor.
    answer = _ok(site.python_as(site.agent, FORGED_REQUEST, str(site.socket), supervisor))
    assert answer.startswith("HTTP/1.1 403 "), answer
    assert f"refused: '{agent}' (role agent) may not do 'agents'" in answer

    # Each refusal that reached the service is in the audit trail, under the agent's own login.
    forbidden = site.query("SELECT agent, count(*) FROM audit_entry WHERE action = 'forbidden' GROUP BY agent")
    assert dict(forbidden) == {agent: len(attempts) + 2}
    assert [login for (login,) in site.query("SELECT login FROM agent ORDER BY login")] == \
        sorted([agent, supervisor])
    assert site.query(f"SELECT active FROM agent WHERE login = '{supervisor}'") == [(1,)]

    # 5. The supervisor's account can, through the same socket.
    done = site.counter(site.supervisor, "agents", "add", "mdupont", "--role", "agent",
                        env=site.env(site.supervisor, COUNTER_SOCKET=str(site.socket)))
    assert _ok(done) == "agent mdupont added (agent)\n"
    assert site.query("SELECT agent FROM audit_entry WHERE action = 'agent.add' AND target_id = 'mdupont'") == \
        [(supervisor,)]
    done = site.counter(site.supervisor, "--connect", str(site.socket), "audit", "verify",
                        env=site.env(site.supervisor))
    assert _ok(done).startswith("chain intact: ")


def test_an_account_outside_the_socket_group_cannot_connect(site):
    info = os.lstat(site.socket)
    assert stat.S_IMODE(info.st_mode) == 0o660 and info.st_gid == site.group.gr_gid
    done = site.counter(site.outsider, "--connect", str(site.socket), "agents", "list",
                        env=site.env(site.outsider))
    assert done.returncode == 1
    assert done.stderr == (f"counter: permission denied on {site.socket}: this account may not connect to the "
                           "counter service (is it in the socket's group? see docs/administration.md)\n")


def test_the_service_holds_the_credential_and_stops_cleanly(site):
    """It read its own keyring at start (no warning), and removes its socket on SIGTERM."""
    site.process.send_signal(signal.SIGTERM)
    out, err = site.process.communicate(timeout=60)
    assert site.process.returncode == 0, err
    assert "agency secrets unavailable" not in err
    assert SECRET not in err and SECRET not in out
    assert not site.socket.exists()
    log = (site.srv / "data" / "logs" / "service.log").read_text(encoding="utf-8")
    assert "listening on" in log and SECRET not in log
