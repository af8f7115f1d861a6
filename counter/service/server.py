"""Running the service: the socket (its mode and group), uvicorn, the lifecycle.

The socket is created 0600 and only then given its group and mode (0660 by
default), so no other account can connect in between. A stale socket left by
a killed service is replaced; a live one means a service already runs there.
"""

from __future__ import annotations

import asyncio
import contextlib
import grp
import logging
import os
import socket
import stat
import threading
from collections.abc import Callable
from pathlib import Path

from counter.runtime import Runtime

log = logging.getLogger("counter.service")

SOCKET_MODE = 0o660
IDLE_CHECK_SECONDS = 5.0


class ServiceError(Exception):
    """The service cannot start; the message is for administrators (English)."""


def _live(path: Path) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(1.0)
        probe.connect(str(path))
        return True
    except OSError:
        return False
    finally:
        probe.close()


def bind_socket(path: Path, *, group: str | None = None, mode: int = SOCKET_MODE) -> socket.socket:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        info = None
    if info is not None:
        if not stat.S_ISSOCK(info.st_mode):
            raise ServiceError(f"{path} exists and is not a socket: refusing to replace it")
        if _live(path):
            raise ServiceError(f"a counter service already answers on {path}")
        path.unlink()
    gid = -1
    if group:
        try:
            gid = grp.getgrnam(group).gr_gid
        except KeyError:
            raise ServiceError(f"no group named {group!r} (create it, or change [service] group)") from None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        sock.bind(str(path))
    except OSError as exc:
        sock.close()
        raise ServiceError(f"cannot create the socket {path}: {exc.strerror}") from None
    finally:
        os.umask(old)
    try:
        if gid != -1:
            os.chown(path, -1, gid)
        os.chmod(path, mode)
    except OSError as exc:
        sock.close()
        raise ServiceError(f"cannot set the socket's group or mode: {exc.strerror}") from None
    sock.listen(128)
    return sock


class Service:
    """One service: a core behind an HTTP app on a Unix socket."""

    def __init__(self, runtime: Runtime, socket_path: Path, *, group: str | None = None,
                 mode: int = SOCKET_MODE, idle_exit: float | None = None,
                 identify: Callable[[int], str | None] | None = None, store=None, backends=None,
                 opener=None, search_processes: int = 0) -> None:
        from counter.service.core import ServiceCore

        self.runtime = runtime
        self.socket_path = Path(socket_path)
        self.group, self.mode, self.idle_exit = group, mode, idle_exit
        self.core = ServiceCore(runtime, identify=identify, store=store, backends=backends, opener=opener,
                                search_processes=search_processes)
        self._server = None
        self.started = threading.Event()

    def _uvicorn(self):
        import uvicorn

        from counter.service.http import build_http_app
        from counter.service.peer import PeerCredentialsProtocol

        app = build_http_app(self.core)
        # proxy_headers off: no proxy stands between a Unix socket and its peers.
        config = uvicorn.Config(app, http=PeerCredentialsProtocol, lifespan="off", log_config=None,
                                access_log=False, proxy_headers=False, timeout_keep_alive=300,
                                timeout_graceful_shutdown=5)
        return uvicorn.Server(config)

    async def serve(self) -> None:
        sock = bind_socket(self.socket_path, group=self.group, mode=self.mode)
        self._server = server = self._uvicorn()
        starting = asyncio.create_task(self.core.start(), name="core-start")
        watcher = asyncio.create_task(self._watch_idle(server)) if self.idle_exit else None
        try:
            serving = asyncio.create_task(server.serve(sockets=[sock]))
            while not server.started and not serving.done():
                await asyncio.sleep(0.01)
            self.started.set()
            await serving
        finally:
            for task in (watcher, starting):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
            await self.core.stop()
            sock.close()
            with contextlib.suppress(FileNotFoundError):
                if stat.S_ISSOCK(os.lstat(self.socket_path).st_mode):
                    self.socket_path.unlink()

    async def _watch_idle(self, server) -> None:
        """A private service leaves when no terminal has been connected for ``idle_exit`` seconds."""
        loop = asyncio.get_running_loop()
        quiet_since = loop.time()
        while not server.should_exit:
            await asyncio.sleep(IDLE_CHECK_SECONDS)
            if server.server_state.connections:
                quiet_since = loop.time()
            elif loop.time() - quiet_since >= self.idle_exit:
                log.info("no client for %.0f s: the private service stops", self.idle_exit)
                server.should_exit = True

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True


class ServiceThread:
    """A service in a thread of this process (tests, benchmarks): same socket, same
    identity checks, same handlers as ``counter serve``."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self._thread = threading.Thread(target=self._run, name="counter-service", daemon=True)
        self._error: BaseException | None = None

    def _run(self) -> None:
        try:
            asyncio.run(self.service.serve())
        except BaseException as exc:  # noqa: BLE001 — handed to start()
            self._error = exc
            self.service.started.set()

    def start(self, timeout: float = 30.0) -> ServiceThread:
        self._thread.start()
        if not self.service.started.wait(timeout):
            raise ServiceError("the service did not start in time")
        if self._error is not None:
            raise self._error
        return self

    def stop(self, timeout: float = 30.0) -> None:
        self.service.stop()
        self._thread.join(timeout)
