"""Connections to the counter service over its Unix socket: HTTP/1.1, kept alive.

The standard library's HTTP client (http.client): a terminal sends a request per
keystroke of a search, and httpx cost about 2 ms of processor per request here,
sent a request's headers and body in two writes (two wake-ups of the service),
and weighed on the terminal's start-up. Each thread takes a connection of its own
from a small pool; one the service closed while it was idle is never reused.
"""

from __future__ import annotations

import http.client
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from counter.client.errors import Refused, ServiceUnavailable
from counter.wire import codec
from counter.wire.endpoints import Endpoint, NoArgs
from counter.wire.problems import Problem

__all__ = ["Connection", "Refused", "ServiceUnavailable"]

JSON = "application/json"
CONNECT_TIMEOUT = 2.0
READ_TIMEOUT = 60.0  # a confirmation waits for the database lock; a dossier streams for seconds
MAX_IDLE = 8  # connections kept open for the next requests


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, socket_path: str, timeout: float) -> None:
        super().__init__("counter", timeout=timeout)
        self._socket_path = socket_path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(CONNECT_TIMEOUT)
            sock.connect(self._socket_path)
            sock.settimeout(self.timeout)
        except BaseException:
            sock.close()
            raise
        self.sock = sock

    def still_open(self) -> bool:
        """Idle and not closed by the service: nothing (not even an end of file) to read."""
        if self.sock is None:
            return False
        poller = select.poll()
        poller.register(self.sock, select.POLLIN | select.POLLHUP | select.POLLERR)
        return not poller.poll(0)


class Connection:
    def __init__(self, socket_path: str | Path, *, read_timeout: float = READ_TIMEOUT) -> None:
        self.socket_path = Path(socket_path)
        self._read_timeout = read_timeout
        self._idle: list[_UnixHTTPConnection] = []
        self._closed = False
        self._lock = threading.Lock()
        self.down_since: float | None = None  # monotonic time of the first failure, None when up
        self._listeners: list[Callable[[bool], None]] = []

    # -- the connection's state, for the status line -------------------------------------------

    def on_state(self, listener: Callable[[bool], None]) -> None:
        """``listener(up)`` is called (from the calling thread) when the service goes or comes back."""
        self._listeners.append(listener)

    def _state(self, up: bool) -> None:
        with self._lock:
            changed = (self.down_since is None) != up
            if up:
                self.down_since = None
            elif self.down_since is None:
                self.down_since = time.monotonic()
        if changed:
            for listener in list(self._listeners):
                listener(up)

    @property
    def up(self) -> bool:
        return self.down_since is None

    # -- the pool ----------------------------------------------------------------------------------

    def _take(self) -> _UnixHTTPConnection:
        with self._lock:
            while self._idle:
                connection = self._idle.pop()
                if connection.still_open():
                    return connection
                connection.close()
        return _UnixHTTPConnection(str(self.socket_path), self._read_timeout)

    def _give_back(self, connection: _UnixHTTPConnection, response: http.client.HTTPResponse) -> None:
        if response.will_close or not response.isclosed():
            connection.close()
            return
        with self._lock:
            if not self._closed and len(self._idle) < MAX_IDLE:
                self._idle.append(connection)
                return
        connection.close()

    # -- requests ----------------------------------------------------------------------------------

    def _post(self, endpoint: Endpoint, args: Any) -> tuple[_UnixHTTPConnection, http.client.HTTPResponse]:
        body = codec.encode(args if args is not None else NoArgs())
        connection = self._take()
        try:
            # One write for the headers and the body (http.client joins them when the body is bytes).
            connection.request("POST", endpoint.path, body=body, headers={"content-type": JSON})
            response = connection.getresponse()
        except TimeoutError:
            connection.close()
            self._state(False)
            raise ServiceUnavailable("Le service du guichet ne répond pas à temps",
                                     "the counter service did not answer in time") from None
        except (OSError, http.client.HTTPException):
            connection.close()
            self._state(False)
            raise ServiceUnavailable() from None
        self._state(True)
        return connection, response

    def call(self, endpoint: Endpoint, args: Any = None) -> Any:
        connection, response = self._post(endpoint, args)
        try:
            content = response.read()
        except (OSError, http.client.HTTPException):
            connection.close()
            self._state(False)
            raise ServiceUnavailable() from None
        self._give_back(connection, response)
        if response.status >= 400:
            raise Refused(_problem(content, response.status))
        if endpoint.result is None:
            return None
        return codec.decode(content, endpoint.result)

    def stream(self, endpoint: Endpoint, args: Any = None) -> Iterator[Any]:
        """Each item of a streamed answer, as it arrives."""
        connection, response = self._post(endpoint, args)
        finished = False
        try:
            try:
                if response.status >= 400:
                    content = response.read()
                    finished = True
                    raise Refused(_problem(content, response.status))
                while line := response.readline():
                    line = line.strip()
                    if not line:
                        continue
                    envelope = codec.decode(line, dict)
                    if "problem" in envelope:
                        raise Refused(codec.convert(envelope["problem"], Problem))
                    yield codec.convert(envelope["item"], endpoint.result)
                finished = True
            except (OSError, http.client.HTTPException):
                self._state(False)
                raise ServiceUnavailable() from None
        finally:
            if finished:
                self._give_back(connection, response)
            else:  # abandoned half-way (or failed): the rest of the answer is not wanted
                connection.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()


def _problem(content: bytes, status: int) -> Problem:
    try:
        return codec.decode(content, Problem)
    except codec.WireFormatError:
        return Problem("internal", f"Réponse inattendue du service du guichet (HTTP {status}).",
                       f"unexpected answer from the counter service (HTTP {status})")
