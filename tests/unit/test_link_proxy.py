"""The test link between a bus and the town: it must really cut, hold and restore."""

from __future__ import annotations

import socket
import socketserver
import threading

import pytest

from tests.link_proxy import LinkProxy


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(1024):
            self.request.sendall(data)


@pytest.fixture
def echo():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address
    server.shutdown()
    server.server_close()


def _ask(address, payload: bytes = b"ping", timeout: float = 2.0) -> bytes:
    with socket.create_connection(address, timeout=timeout) as sock:
        sock.sendall(payload)
        return sock.recv(1024)


def test_bytes_pass_while_up_and_are_counted(echo):
    with LinkProxy(echo) as link:
        assert _ask(link.address) == b"ping"
        assert (link.bytes_up, link.bytes_down, link.accepted) == (4, 4, 1)


def test_a_reset_closes_what_was_open_and_refuses_what_comes(echo):
    with LinkProxy(echo) as link:
        held = socket.create_connection(link.address, timeout=2)
        held.sendall(b"a")
        assert held.recv(10) == b"a"
        link.reset()
        assert held.recv(10) == b""  # closed under the client's feet
        held.close()
        with pytest.raises(OSError):
            _ask(link.address)
        link.up()
        assert _ask(link.address) == b"ping"


def test_a_blackhole_holds_everything_until_the_client_gives_up(echo):
    with LinkProxy(echo) as link:
        link.blackhole()
        with pytest.raises(TimeoutError):
            _ask(link.address, timeout=0.3)
        link.up()
        assert _ask(link.address) == b"ping"


def test_down_refuses_connections_until_up_listens_again_on_the_same_port(echo):
    with LinkProxy(echo) as link:
        port = link.port
        link.down()
        with pytest.raises(ConnectionRefusedError):
            _ask(link.address)
        link.up()
        assert link.port == port and _ask(link.address) == b"ping"
