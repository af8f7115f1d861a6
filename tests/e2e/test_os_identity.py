"""Who is acting comes from the kernel (the process's real uid), never from
LOGNAME/USER: the real `counter` command run by other operating-system accounts."""

from __future__ import annotations

import os
import pwd

from sqlalchemy import text

from counter.cli import main
from counter.store.engine import Store
from tests.os_accounts import as_uid, give_to, require_root, throwaway_account

# What the non-agent account ran as "root", all accepted before.
SUPERVISOR_COMMANDS = (
    ["agents", "add", "intrus", "--role", "supervisor"],
    ["agents", "reset-pin", "root"],
    ["purge", "--older-than", "1y"],
    ["export", "registrations", "--since", "2020-01-01"],
    ["audit", "verify"],
)


def _site(tmp_path):
    """A production configuration and its migrated database; this process's login is
    the supervisor."""
    site = tmp_path / "site"
    site.mkdir()
    config = site / "counter.toml"
    config.write_text(f'data_dir = "{site / "data"}"\n[database]\nurl = "sqlite:///{site / "counter.db"}"\n',
                      encoding="utf-8")
    me = pwd.getpwuid(os.getuid()).pw_name
    assert main(["--config", str(config), "db", "upgrade"]) == 0
    assert main(["--config", str(config), "agents", "add", me, "--role", "supervisor"]) == 0
    return site, config, me


def _env(site, login: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COUNTER_")}
    # Every variable a program might take a login from says "root".
    env.update(LOGNAME=login, USER=login, LNAME=login, USERNAME=login, HOME=str(site), LANG="C.UTF-8")
    return env


def test_the_login_is_the_real_uid_whatever_the_environment_says(monkeypatch):
    from counter.runtime import resolve

    real = pwd.getpwuid(os.getuid()).pw_name
    for variable in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        monkeypatch.setenv(variable, "usurpateur")
    assert resolve().agent_login == real
    # Code (replays, tests) may still name the agent explicitly.
    assert resolve(agent_login="formation").agent_login == "formation"


def test_a_non_agent_account_claiming_to_be_root_is_refused_and_audited_as_itself(tmp_path, capsys):
    require_root()
    site, config, me = _site(tmp_path)
    assert me == "root"
    with throwaway_account() as account:
        give_to(site, account.pw_uid, account.pw_gid)
        for argv in SUPERVISOR_COMMANDS:
            done = as_uid(account.pw_uid, account.pw_gid, "--config", str(config), *argv, env=_env(site, "root"))
            assert done.returncode == 2, (argv, done.stdout, done.stderr)
            assert f"refused: '{account.pw_name}' (role none: not a registered agent)" in done.stderr, done.stderr
            assert "Traceback" not in done.stderr
        store = Store(f"sqlite:///{site / 'counter.db'}")
        try:
            with store.engine.connect() as connection:
                agents = connection.execute(text("SELECT login FROM agent ORDER BY login")).scalars().all()
                by = connection.execute(text(
                    "SELECT agent, count(*) FROM audit_entry WHERE action = 'forbidden' GROUP BY agent")).all()
        finally:
            store.dispose()
    assert agents == ["root"]
    assert dict(by) == {account.pw_name: len(SUPERVISOR_COMMANDS)}


def test_an_account_without_a_name_is_refused_in_one_line(tmp_path):
    require_root()
    site, config, _ = _site(tmp_path)
    uid = 54321
    while True:  # a uid the system does not know
        try:
            pwd.getpwuid(uid)
            uid += 1
        except KeyError:
            break
    give_to(site, uid, uid)
    env = _env(site, "root")
    done = as_uid(uid, uid, "--config", str(config), "agents", "add", "intrus", "--role", "supervisor", env=env)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"counter: refused: this account (uid {uid}) has no name in the system's user database; "
        "the counter acts as a named login (ask the administrator)"]
    done = as_uid(uid, uid, "--config", str(config), env=env)
    assert done.returncode == 1
    assert len(done.stderr.splitlines()) == 1 and f"uid {uid}" in done.stderr
    assert "Le guichet refuse de démarrer" in done.stderr


def test_agents_act_as_their_own_login(tmp_path):
    """The normal case: a registered agent's own account, whatever LOGNAME says, is that agent."""
    require_root()
    site, config, _ = _site(tmp_path)
    with throwaway_account() as account:
        assert main(["--config", str(config), "agents", "add", account.pw_name, "--role", "supervisor"]) == 0
        give_to(site, account.pw_uid, account.pw_gid)
        done = as_uid(account.pw_uid, account.pw_gid, "--config", str(config),
                      "agents", "add", "mdupont", "--role", "agent", env=_env(site, "nobody"))
        assert done.returncode == 0, done.stderr
        store = Store(f"sqlite:///{site / 'counter.db'}")
        try:
            with store.engine.connect() as connection:
                who = connection.execute(text(
                    "SELECT agent FROM audit_entry WHERE action = 'agent.add' AND target_id = 'mdupont'")).scalar()
        finally:
            store.dispose()
        assert who == account.pw_name
