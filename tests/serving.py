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


@contextmanager
def store_service(store, tmp_path: Path, agent: str, supervisor: str, today):
    """The real service (production) on ``store`` in a thread, for hand-made requests on
    its socket: ``agent`` and ``supervisor`` registered; ``peer["login"]`` is who the
    kernel says connects (the agent until the test says otherwise). Yields
    (socket path, peer)."""
    import tempfile

    from counter.clock import FixedClock
    from counter.runtime import Runtime
    from counter.service.server import Service, ServiceThread
    from fixtures.agents import ensure_agent

    ensure_agent(store, agent, "agent")
    ensure_agent(store, supervisor, "supervisor")
    runtime = Runtime(mode="production", data_dir=tmp_path, database_url=str(store.url), clock=FixedClock(today),
                      agent_login=agent)
    peer = {"login": agent}
    with tempfile.TemporaryDirectory(prefix="svc") as short:  # a socket path has at most 107 bytes
        socket_path = Path(short) / "s.sock"
        service = Service(runtime, socket_path, identify=lambda uid: peer["login"], store=store, backends=[])
        service.core.background = False
        thread = ServiceThread(service).start()
        try:
            yield socket_path, peer
        finally:
            thread.stop()
