"""Running `counter serve` as a process in tests, and waiting for it by events
(its READY=1, its exit), never by sleeping."""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


class Notified:
    """A NOTIFY_SOCKET (abstract address) on which `counter serve` says READY=1, as to systemd."""

    def __init__(self) -> None:
        self.name = f"counter-test-{os.getpid()}-{os.urandom(6).hex()}"
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.socket.bind("\0" + self.name)

    @property
    def address(self) -> str:
        return "@" + self.name

    def wait_ready(self, process: subprocess.Popen | None = None, timeout: float = 60.0) -> None:
        """Until READY=1 arrives; fails at once if ``process`` exits first."""
        handles = [self.socket] + ([_exit_handle(process.pid)] if process is not None else [])
        ready, _, _ = select.select(handles, [], [], timeout)
        if self.socket in ready:
            assert self.socket.recv(256) == b"READY=1"
            return
        said = process.communicate(timeout=10)[1] if process is not None and process.poll() is not None else ""
        raise AssertionError(f"the service never said READY=1: {said}")

    def close(self) -> None:
        self.socket.close()


def _exit_handle(pid: int) -> int:
    return os.pidfd_open(pid)


def wait_gone(pid: int, timeout: float = 60.0) -> bool:
    """Until process ``pid`` (not necessarily our child) has exited."""
    try:
        handle = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        ready, _, _ = select.select([handle], [], [], timeout)
        return bool(ready)
    finally:
        os.close(handle)


def serve(argv: Sequence[str], env: dict[str, str], notify: Notified) -> subprocess.Popen:
    environment = dict(env, NOTIFY_SOCKET=notify.address, PYTHONPATH=str(REPO))
    return subprocess.Popen([sys.executable, "-m", "counter", *argv], env=environment, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd="/")


def peer_pid(path: Path) -> int:
    """The pid of the process serving ``path`` (its socket's peer credentials)."""
    from counter.peers import peer_of

    with socket.socket(socket.AF_UNIX) as probe:
        probe.connect(os.fsencode(path))
        return peer_of(probe).pid


@pytest.fixture
def notify():
    """A NOTIFY_SOCKET for one test (import this fixture into the test module)."""
    notified = Notified()
    yield notified
    notified.close()
