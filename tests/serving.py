"""A production service on a configuration file, in this process, for the tests of
what the service says to whoever connects (the peer's login is the test's)."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path


@contextmanager
def serving(config: str | Path, login: str, folder: Path):
    """A CounterClient connected as ``login`` to the service ``counter serve --config``
    would run (its database already opened; an unopenable one raises in the service)."""
    from counter.client.api import CounterClient
    from counter.runtime import resolve
    from counter.service.server import Service, ServiceThread

    runtime = resolve(str(config), agent_login=login)
    service = ServiceThread(Service(runtime, folder / "counter.sock", mode=0o600,
                                    identify=lambda uid: login, backends=[])).start()
    client = CounterClient.at(folder / "counter.sock")
    try:
        yield client
    finally:
        client.close()
        service.stop()
