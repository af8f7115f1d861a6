"""uvicorn's HTTP/1.1 protocol, with each request's scope carrying the peer's
kernel-verified credentials (``scope["counter.peer"]``).

The httptools parser (C) rather than h11 (pure Python): every keystroke of a
search is a request, and h11 took a third of the service's time per search.
"""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from counter.peers import peer_of

SCOPE_KEY = "counter.peer"


class PeerCredentialsProtocol(HttpToolsProtocol):
    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        sock = transport.get_extra_info("socket")
        try:
            peer = peer_of(sock) if sock is not None else None
        except OSError:
            peer = None  # not a Unix socket: no identity, every request is refused
        app = self.app

        async def with_peer(scope, receive, send):
            scope[SCOPE_KEY] = peer
            await app(scope, receive, send)

        # One protocol instance per connection: the peer is this connection's.
        self.app = with_peer
