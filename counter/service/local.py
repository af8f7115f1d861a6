"""A service in this process, for the terminal's own use (training without a
configuration, tests, replays): the same socket, HTTP and handlers as
``counter serve``, in a thread."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from counter.runtime import Runtime


def private_socket_path(data_dir: Path) -> Path:
    """A socket path no other account can reach: in a fresh 0700 directory.

    (A Unix socket path is at most 107 bytes: a deep data directory would not
    fit, so the directory is made under the system's temporary directory.)
    """
    folder = Path(tempfile.mkdtemp(prefix="counter-"))
    os.chmod(folder, 0o700)
    return folder / "counter.sock"


def start_local_service(runtime: Runtime, *, store=None, backends=None, identify=None,
                        background: bool = True, socket_path: Path | None = None, opener=None):
    from counter.service.server import Service, ServiceThread

    path = socket_path or private_socket_path(runtime.data_dir)
    if identify is None and runtime.agent_login:
        from counter.peers import login_of

        # The socket is 0600 in a 0700 directory: only this account connects; it is
        # the runtime's agent (a replay plays as « formation », tests as their agent).
        own = os.getuid()

        def identify(uid: int) -> str | None:
            return runtime.agent_login if uid == own else login_of(uid)
    service = Service(runtime, path, mode=0o600, identify=identify, store=store, backends=backends, opener=opener)
    service.core.background = background
    return ServiceThread(service).start()
