"""The roaming bus's link to the town's database (docs/tour.md): online or offline,
and since when, as the bus's counter service sees it.

A probe is a plain connection to the town's database server (TCP to its host and
port, or its Unix socket), under a short time-out, on the service's event loop:
it never logs in, so it needs no password and costs central nothing but an
accepted and closed connection. It runs every ``[mobile] probe_seconds`` while the
link is down and every ``UP_EVERY`` seconds (at least) while it is up. A SQLite
central (tests, training) is "up" when its file is there.

When the link comes up (after being down, or at the first probe), the callbacks
of ``on_link_restored`` run, one after the other, each guarded: the composition
fills that list (counter.service.composition.link_restored_hooks); the bus's
automatic ``tour sync`` will be one.

The town's password, when the URL does not hold one, comes from the service's
keyring (entry ``mobile.central``, read with the agencies' secrets before the
service serves); :meth:`LinkMonitor.central_url` gives the URL with it to the
callbacks, never to a log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from counter.credentials import MOBILE_CENTRAL as CENTRAL_SECRET  # the town database's password

log = logging.getLogger("counter.service.link")

CONNECT_TIMEOUT = 3.0  # seconds a probe waits for the server to accept
UP_EVERY = 60.0  # seconds between two probes while the link is up (at least; 4 x probe_seconds if longer)
PG_PORT = 5432
PG_SOCKET_DIR = "/var/run/postgresql"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where the town's database listens: a TCP host and port, or a path (a Unix
    socket, or a SQLite file)."""

    host: str = ""
    port: int = 0
    path: str = ""
    sqlite: bool = False

    def describe(self) -> str:
        return self.path if self.path else f"{self.host}:{self.port}"


def endpoint_of(url: str) -> Endpoint:
    """The server a database URL names; ValueError for one that names none."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ValueError(f"not a database URL ({exc})") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if not parsed.database:
            raise ValueError("a SQLite URL needs a file path")
        return Endpoint(path=parsed.database, sqlite=True)
    if backend != "postgresql":
        raise ValueError(f"unsupported database {backend!r}")
    host = parsed.host or str(parsed.query.get("host") or "")
    port = parsed.port or PG_PORT
    if not host or host.startswith("/"):  # libpq's default: the local Unix socket
        return Endpoint(path=os.path.join(host or PG_SOCKET_DIR, f".s.PGSQL.{port}"))
    return Endpoint(host=host, port=port)


async def reachable(endpoint: Endpoint, timeout: float = CONNECT_TIMEOUT) -> bool:
    """Whether the town's database server accepts a connection now (never raises)."""
    if endpoint.sqlite:
        return await asyncio.to_thread(os.path.isfile, endpoint.path)
    try:
        async with asyncio.timeout(timeout):
            if endpoint.path:
                _reader, writer = await asyncio.open_unix_connection(endpoint.path)
            else:
                _reader, writer = await asyncio.open_connection(endpoint.host, endpoint.port)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError, TimeoutError):
        async with asyncio.timeout(timeout):
            await writer.wait_closed()
    return True


class TrainingLink:
    """Training's bus (scenario ``bus-itinerant``): there is no 4G to lose, so the link
    is a switch the trainer flips from the terminal's palette. It starts cut (the bus
    is on the road); the town hall's training database must still be there for the
    link to be up, as the probe of a SQLite central checks."""

    def __init__(self, endpoint: Endpoint, up: bool = False) -> None:
        self.endpoint = endpoint
        self.up = up

    async def probe(self) -> bool:
        return self.up and await reachable(self.endpoint)


Restored = Callable[["LinkMonitor"], Awaitable[None] | None]


class LinkMonitor:
    """The link's state (``online``: None before the first probe) and since when
    (``since``, the service's clock, aware UTC)."""

    def __init__(self, central_url: str, *, probe_seconds: float, clock: Callable[[], datetime],
                 password: str | None = None, timeout: float = CONNECT_TIMEOUT,
                 probe: Callable[[], Awaitable[bool]] | None = None) -> None:
        self._url = central_url
        self._password = password
        self.endpoint = endpoint_of(central_url)
        self.probe_seconds = float(probe_seconds)
        self.up_every = max(UP_EVERY, 4 * self.probe_seconds)
        self.clock = clock
        self.timeout = timeout
        self._probe = probe or (lambda: reachable(self.endpoint, self.timeout))
        self.online: bool | None = None
        self.since: datetime | None = None
        self.probes = 0
        # Run when the link comes up (filled by the composition): e.g. the bus's tour sync.
        self.on_link_restored: list[Restored] = []
        self.probed = threading.Event()  # set at every probe (tests wait on it rather than sleep)

    # -- the state ------------------------------------------------------------------------------

    @property
    def offline_since(self) -> datetime | None:
        """Since when the link is down; None while it is up or not probed yet."""
        return self.since if self.online is False else None

    def is_offline(self) -> bool:
        return self.online is False

    def central_url(self) -> str:
        """The town's database URL with its password (from the keyring when the URL lacks
        one): for the callbacks that log in; never logged."""
        if not self._password:
            return self._url
        from sqlalchemy.engine import make_url

        parsed = make_url(self._url)
        if parsed.password:
            return self._url
        return parsed.set(password=self._password).render_as_string(hide_password=False)

    # -- probing --------------------------------------------------------------------------------

    async def probe_once(self) -> bool:
        """Try the link once, record the state (and when it changed); when it comes up,
        run the restored callbacks. Returns whether the link is up."""
        try:
            up = bool(await self._probe())
        except Exception:  # noqa: BLE001 — a probe's own fault counts as down, and is logged
            log.exception("link probe failed")
            up = False
        was = self.online
        self.probes += 1
        if up != was:
            self.online, self.since = up, self.clock()
            if up:
                log.info("link to the town's database up (%s)", self.endpoint.describe())
            else:
                log.warning("link to the town's database down (%s)", self.endpoint.describe())
        self.probed.set()
        if up and was is not True:
            await self._restored()
        return up

    async def _restored(self) -> None:
        for callback in list(self.on_link_restored):
            try:
                result = callback(self)
                if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
                    await result
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 — one callback's failure stops neither the others nor the monitor
                log.exception("a link-restored callback failed")

    def next_delay(self) -> float:
        return self.up_every if self.online else self.probe_seconds

    async def run_forever(self) -> None:
        while True:
            await self.probe_once()
            await asyncio.sleep(self.next_delay())
