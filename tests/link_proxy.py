"""A loopback TCP proxy that a test controls: the bus's 4G link, between the bus's
counter and the town's database (or an agency), cut and restored at will.

Modes, as a mobile link fails:
- ``up``: bytes flow both ways (optionally each chunk ``delay`` seconds late: a slow link);
- ``reset``: every connection is closed at once and new ones are closed on arrival
  (the link is gone and the system says so);
- ``blackhole``: connections are accepted and held, nothing passes either way
  (the link is gone and nobody says so: only a time-out tells);
- ``down``: nothing listens any more (a connection is refused) and every open one
  is closed: out of coverage, as a probe of the link sees it. ``up()`` listens
  again on the same port.

One thread with a selector; ``close()`` stops it. Counters say how many
connections were accepted and how many bytes went each way.
"""

from __future__ import annotations

import selectors
import socket
import struct
import threading
import time


class LinkProxy:
    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.mode = "up"
        self.delay = 0.0
        self.accepted = 0
        self.bytes_up = 0  # client -> target
        self.bytes_down = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.setblocking(False)
        self.port = self._listener.getsockname()[1]
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ, None)
        self._pairs: dict[socket.socket, socket.socket] = {}  # each side -> the other
        self._clients: set[socket.socket] = set()  # the sides facing the bus (bytes counted up)
        self._held: list[socket.socket] = []  # blackholed: accepted, never served
        self._wake_r, self._wake_w = socket.socketpair()
        self._selector.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._stopping = False
        self._changed = threading.Event()  # the loop applied a mode
        self._thread = threading.Thread(target=self._run, name="link-proxy", daemon=True)
        self._thread.start()

    # -- what a test does ----------------------------------------------------------

    @property
    def address(self) -> tuple[str, int]:
        return "127.0.0.1", self.port

    def up(self, delay: float = 0.0) -> None:
        with self._lock:
            self.mode, self.delay = "up", delay
        self._wake()
        self._changed.wait(5)  # listening again before the test goes on
        self._changed.clear()

    def reset(self) -> None:
        with self._lock:
            self.mode = "reset"
        self._wake()

    def blackhole(self) -> None:
        with self._lock:
            self.mode = "blackhole"
        self._wake()

    def down(self) -> None:
        with self._lock:
            self.mode = "down"
        self._wake()
        self._changed.wait(5)
        self._changed.clear()

    def close(self) -> None:
        self._stopping = True
        self._wake()
        self._thread.join(timeout=5)

    def __enter__(self) -> LinkProxy:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- the loop ----------------------------------------------------------------------

    def _wake(self) -> None:
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass

    def _run(self) -> None:
        try:
            while not self._stopping:
                for key, _events in self._selector.select(timeout=0.5):
                    if key.data == "wake":
                        self._wake_r.recv(1024)
                        self._apply_mode()
                        self._changed.set()
                    elif key.fileobj is self._listener:
                        self._accept()
                    else:
                        self._forward(key.fileobj)
        finally:
            for sock in [*self._pairs, *self._held, self._listener, self._wake_r, self._wake_w]:
                if sock is not None:
                    sock.close()
            self._selector.close()

    def _apply_mode(self) -> None:
        if self.mode == "down":
            if self._listener is not None:
                self._selector.unregister(self._listener)
                self._listener.close()
                self._listener = None
        elif self._listener is None:
            self._listener = socket.create_server(("127.0.0.1", self.port))  # SO_REUSEADDR: the same port
            self._listener.setblocking(False)
            self._selector.register(self._listener, selectors.EVENT_READ, None)
        if self.mode in ("reset", "down"):
            for sock in list(self._pairs):
                self._drop(sock)
            for sock in self._held:
                sock.close()
            self._held.clear()
        elif self.mode == "blackhole":
            for sock in list(self._pairs):  # nothing passes: stop reading either side
                try:
                    self._selector.unregister(sock)
                except (KeyError, ValueError):
                    pass
        else:
            for sock in list(self._pairs):
                try:
                    self._selector.register(sock, selectors.EVENT_READ, "pipe")
                except (KeyError, ValueError):
                    pass

    def _accept(self) -> None:
        try:
            client, _ = self._listener.accept()
        except BlockingIOError:
            return
        self.accepted += 1
        if self.mode == "reset":
            # An RST, whatever the client has sent yet: a plain close() sends a FIN when
            # its bytes have not arrived, and the client would read an empty answer.
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            client.close()
            return
        if self.mode == "blackhole":
            self._held.append(client)
            return
        try:
            server = socket.create_connection(self.target, timeout=5)
        except OSError:
            client.close()
            return
        for sock in (client, server):
            sock.setblocking(False)
        self._pairs[client], self._pairs[server] = server, client
        self._selector.register(client, selectors.EVENT_READ, "pipe")
        self._selector.register(server, selectors.EVENT_READ, "pipe")
        self._clients.add(client)

    def _forward(self, sock: socket.socket) -> None:
        other = self._pairs.get(sock)
        if other is None:
            return
        try:
            data = sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._drop(sock)
            return
        if self.delay:
            time.sleep(self.delay)  # the whole link is slow: every chunk waits
        if sock in self._clients:
            self.bytes_up += len(data)
        else:
            self.bytes_down += len(data)
        try:
            other.setblocking(True)
            other.sendall(data)
            other.setblocking(False)
        except OSError:
            self._drop(sock)

    def _drop(self, sock: socket.socket) -> None:
        other = self._pairs.pop(sock, None)
        for each in (sock, other):
            if each is None:
                continue
            self._pairs.pop(each, None)
            self._clients.discard(each)
            try:
                self._selector.unregister(each)
            except (KeyError, ValueError):
                pass
            each.close()
