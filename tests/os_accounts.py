"""Running the real `counter` command as another operating-system account.

Needs root (as in CI): a throwaway account is created with ``useradd`` and
removed afterwards; the command runs under ``setpriv`` with that account's real
and effective ids. The interpreter may live under a directory other accounts
cannot enter (``/root/.pyenv``): the account is given CAP_DAC_READ_SEARCH,
which lets it read and traverse, never write, what is not its own.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

TOOLS = ("useradd", "userdel", "setpriv")


def require_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("runs the command as a throwaway OS account: needs root (CI runs as root)")
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (util-linux, passwd) to run as another account")


@contextmanager
def throwaway_account() -> Iterator[pwd.struct_passwd]:
    """A new system account without a home; removed on exit."""
    require_root()
    name = f"ctr{uuid.uuid4().hex[:10]}"
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
                   check=True, capture_output=True)
    try:
        yield pwd.getpwnam(name)
    finally:
        subprocess.run(["userdel", name], check=False, capture_output=True)


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
