"""Who is at the other end of a Unix socket: the peer's user id, as the kernel
reports it. The service names its agents so; a terminal checks that a private
service it would stop runs as its own account.

Nothing a client sends (a header, a body, its environment) names the agent:
only the account the connecting process runs under.
"""

from __future__ import annotations

import pwd
import socket
import struct
from dataclasses import dataclass

_UCRED = struct.Struct("3i")  # struct ucred: pid, uid, gid


@dataclass(frozen=True, slots=True)
class Peer:
    pid: int
    uid: int
    gid: int


def peer_of(sock: socket.socket) -> Peer:
    """The credentials of the process at the other end of a Unix socket (SO_PEERCRED)."""
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size)
    return Peer(*_UCRED.unpack(raw))


def login_of(uid: int) -> str | None:
    """The account name of ``uid`` in the system's user database; None without one."""
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return None
