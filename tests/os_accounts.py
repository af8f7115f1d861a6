"""Running the real `counter` command as another operating-system account.

Needs root (as in CI): a throwaway account is created with ``useradd`` and
removed afterwards; the command runs under ``setpriv`` with that account's real
and effective ids. The interpreter may live under a directory other accounts
cannot enter (``/root/.pyenv``): the account is given CAP_DAC_READ_SEARCH,
which lets it read and traverse, never write, what is not its own.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from tests.requirements import missing

TOOLS = ("useradd", "userdel", "setpriv")


def require_root() -> None:
    if os.geteuid() != 0:
        missing("runs the command as a throwaway OS account: needs root (CI runs as root)")
    absent = [tool for tool in TOOLS if shutil.which(tool) is None]
    if absent:
        missing(f"needs {', '.join(absent)} (util-linux, passwd) to run as another account")


@contextmanager
def throwaway_account(groups: Sequence[str] = ()) -> Iterator[pwd.struct_passwd]:
    """A new system account without a home (member of ``groups`` too); removed on exit."""
    require_root()
    name = f"ctr{uuid.uuid4().hex[:10]}"
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                    *(["--groups", ",".join(groups)] if groups else []), name],
                   check=True, capture_output=True)
    try:
        yield pwd.getpwnam(name)
    finally:
        subprocess.run(["userdel", name], check=False, capture_output=True)


@contextmanager
def throwaway_group() -> Iterator[grp.struct_group]:
    """A new system group; removed on exit (after the accounts in it)."""
    require_root()
    if shutil.which("groupadd") is None:
        missing("needs groupadd (passwd) to create a throwaway group")
    name = f"ctg{uuid.uuid4().hex[:10]}"
    subprocess.run(["groupadd", "--system", name], check=True, capture_output=True)
    try:
        yield grp.getgrnam(name)
    finally:
        subprocess.run(["groupdel", name], check=False, capture_output=True)


def as_account(account: pwd.struct_passwd, argv: Sequence[str], *, env: dict[str, str]) -> list[str]:
    """``argv`` run as ``account`` with its groups from the system (setpriv
    --init-groups) and NO capability: what it can open is what its permissions give."""
    return ["setpriv", f"--reuid={account.pw_uid}", f"--regid={account.pw_gid}", "--init-groups", "--",
            *argv]


def python_for(account: pwd.struct_passwd) -> tuple[list[str], dict[str, str]]:
    """An interpreter ``account`` can run WITHOUT capabilities, and the environment
    that finds this checkout and its packages: this one if the account can reach it,
    else the system's python of the same version (the packages are read from the
    virtual environment). Skips when none can be found."""
    import sysconfig

    repo = str(Path(__file__).resolve().parents[1])
    packages = list(dict.fromkeys((sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"])))
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [(sys.executable, [repo]),
                  *((f"{prefix}/bin/python{version}", [repo, *packages]) for prefix in ("/usr", "/usr/local"))]
    probe = "import counter.cli, counter.client.api, tests.file_keyring, msgspec, httpx, pydantic, sqlalchemy"
    tried, found = [], None
    for python, path in candidates:
        if not os.path.exists(python):
            continue
        env = {"PYTHONPATH": os.pathsep.join(path), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
        done = subprocess.run(as_account(account, [python, "-c", probe], env=env), env=env, capture_output=True,
                              text=True, timeout=60, cwd="/")
        if done.returncode == 0:
            found = [python], env
            break
        tried.append(f"{python}: {(done.stderr.strip().splitlines() or ['?'])[-1]}")
    if found is None:
        missing("no Python interpreter another account may run without capabilities "
                f"(this one lives under a private directory): {'; '.join(tried)}")
    return found


def as_uid(uid: int, gid: int, *argv: str, env: dict[str, str], timeout: float = 120,
           stdin: str | None = None) -> subprocess.CompletedProcess:
    """``python -m counter ARGV`` with real and effective ids ``uid``/``gid`` (which need
    no passwd entry), no supplementary group."""
    command = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups",
               "--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search", "--",
               sys.executable, "-m", "counter", *argv]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout, input=stdin,
                          cwd="/")


def give_to(path: Path, uid: int, gid: int) -> None:
    """``chown -R`` to an account (its database, its data directory)."""
    for root, dirs, files in os.walk(path):
        for name in (root, *(os.path.join(root, n) for n in (*dirs, *files))):
            os.chown(name, uid, gid)
