"""A site's service ranks searches in worker processes: the agents see the same
results as from the service itself, and a family written a moment ago is found."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from counter.client.api import CounterClient
from counter.clock import FixedClock
from counter.runtime import Runtime
from counter.service.server import Service, ServiceThread
from counter.services.search import SearchService
from tests.factories import add_household, person

TODAY = date(2026, 11, 25)
QUERIES = ("martin", "mar", "lef alex", "dupont 1982", "giraud anne", "zzzz")


def test_worker_processes_answer_as_the_service_would_and_see_new_families(town_store, tmp_path):
    runtime = Runtime(mode="training", data_dir=tmp_path, database_url=str(town_store.url), clock=FixedClock(TODAY),
                      agent_login="formation")
    reference = SearchService(town_store, FixedClock(TODAY))
    with tempfile.TemporaryDirectory(prefix="svc") as short:
        socket_path = Path(short) / "s.sock"
        service = ServiceThread(Service(runtime, socket_path, identify=lambda uid: "formation", store=town_store,
                                        backends=[], search_processes=2)).start()
        client = CounterClient.at(socket_path)
        try:
            for query in QUERIES:
                assert client.search(query) == reference.search(query), query
            assert service.service.core.search_pool is not None  # the searches above went through it
            add_household(town_store, "rue des Lilas", 3, [(person("QWERTYEFF", "Zoé", (2019, 4, 12)), "child")])
            found = client.search("qwertyeff")
            assert [r.person.birth_name for r in found.results] == ["QWERTYEFF"]
        finally:
            client.close()
            service.stop()
