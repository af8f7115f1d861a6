"""One connection to the counter service over its Unix socket."""

from __future__ import annotations

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



class Connection:
    def __init__(self, socket_path: str | Path, *, read_timeout: float = READ_TIMEOUT) -> None:
        import httpx

        self.socket_path = Path(socket_path)
        self._httpx = httpx
        # verify=False: plain HTTP on a Unix socket; no certificate store to load.
        transport = httpx.HTTPTransport(uds=str(self.socket_path), verify=False, retries=0)
        self._http = httpx.Client(transport=transport, base_url="http://counter", verify=False,
                                  timeout=httpx.Timeout(read_timeout, connect=CONNECT_TIMEOUT))
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

    # -- requests ----------------------------------------------------------------------------------

    def _post(self, endpoint: Endpoint, args: Any, stream: bool):
        body = codec.encode(args if args is not None else NoArgs())
        request = self._http.build_request("POST", endpoint.path, content=body, headers={"content-type": JSON})
        try:
            response = self._http.send(request, stream=stream)
        except self._httpx.TimeoutException:
            self._state(False)
            raise ServiceUnavailable("Le service du guichet ne répond pas à temps",
                                     "the counter service did not answer in time") from None
        except (self._httpx.TransportError, OSError):
            self._state(False)
            raise ServiceUnavailable() from None
        self._state(True)
        return response

    def call(self, endpoint: Endpoint, args: Any = None) -> Any:
        response = self._post(endpoint, args, stream=False)
        if response.status_code >= 400:
            raise Refused(_problem(response.content, response.status_code))
        if endpoint.result is None:
            return None
        return codec.decode(response.content, endpoint.result)

    def stream(self, endpoint: Endpoint, args: Any = None) -> Iterator[Any]:
        """Each item of a streamed answer, as it arrives."""
        response = self._post(endpoint, args, stream=True)
        try:
            if response.status_code >= 400:
                response.read()
                raise Refused(_problem(response.content, response.status_code))
            try:
                for line in response.iter_lines():
                    if not line:
                        continue
                    envelope = codec.decode(line, dict)
                    if "problem" in envelope:
                        raise Refused(codec.convert(envelope["problem"], Problem))
                    yield codec.convert(envelope["item"], endpoint.result)
            except (self._httpx.TransportError, OSError):
                self._state(False)
                raise ServiceUnavailable() from None
        finally:
            response.close()

    def close(self) -> None:
        self._http.close()


def _problem(content: bytes, status: int) -> Problem:
    try:
        return codec.decode(content, Problem)
    except codec.WireFormatError:
        return Problem("internal", f"Réponse inattendue du service du guichet (HTTP {status}).",
                       f"unexpected answer from the counter service (HTTP {status})")
