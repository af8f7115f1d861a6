"""The roaming bus's terminal while its link flaps (issue 15): key to first byte.

A bus's counter service (its own process, as on the laptop) runs on a replica of
the fictional town, prepared from a town database on PostgreSQL; its link to
that database goes through a loopback proxy (tests/link_proxy.py) that the
benchmark cuts and restores every ``FLAP_SECONDS`` (refused, reset, holding
everything: in turn), while another client of the bus's service confirms a
visit for a new family every ``VISIT_EVERY`` seconds — so that every time the
link comes back the service sends what piled up. Meanwhile an agent's terminal
(an 80x24 pty) types names and moves in the results; each key's time to the
terminal's first byte in answer is measured. The reference: the same keys, the
link steady and nothing confirmed, in the same run.

Needs COUNTER_BENCH_PG_URL (the town's database is reached over TCP).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

QUERIES = ("lefebvre alexis", "roux jeanne", "martin")
DOWN = b"\x1b[B"
MOVES = 5
QUIET = 0.2
FLAP_SECONDS = 1.5
VISIT_EVERY = 0.5
TARGET_MS = 100.0

SERVE = """
import asyncio, sys
from pathlib import Path
from counter.runtime import Runtime
from counter.service import link
from counter.service.server import Service
link.UP_EVERY = 1.0  # a bus that notices the link coming back within a second
replica, socket_path, central = sys.argv[1], sys.argv[2], sys.argv[3]
runtime = Runtime(mode="production", data_dir=Path(socket_path).parent, database_url=f"sqlite:///{replica}",
                  backends={}, bus="bus-1", central_url=central, link_probe_seconds=1)
asyncio.run(Service(runtime, Path(socket_path), mode=0o600).serve())
"""


def _prepare(pg_url: str, folder: Path) -> tuple[str, Path]:
    """The town on PostgreSQL (a schema of its own, built once) and the bus's replica."""
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    from counter.runtime import os_login
    from counter.services.tour_prepare import prepare_replica
    from fixtures.agents import ensure_agent, preset_pin
    from fixtures.training import prepare_training_store

    base = make_url(pg_url).set(drivername="postgresql+psycopg")
    schema = "counter_bench_bus"
    admin = sa.create_engine(base)
    with admin.begin() as connection:
        connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    admin.dispose()
    central_url = base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False)
    town = prepare_training_store(central_url)
    with town.write_connection() as connection:  # a town's database, not a training room's
        connection.exec_driver_sql("UPDATE store_meta SET value = 'production' WHERE key = 'dataset'")
    replica = folder / "bus" / "replica.sqlite3"
    prepare_replica(town, f"sqlite:///{replica}", bus="bus-1")
    town.dispose()
    from counter.store.engine import Store

    bus = Store(f"sqlite:///{replica}")
    preset_pin(bus, os_login())
    ensure_agent(bus, os_login())
    bus.dispose()
    return central_url, replica


class _Load:
    """The link flapping and visits confirmed on board, in the background."""

    def __init__(self, link, socket_path: Path) -> None:
        self.link, self.socket_path = link, socket_path
        self.stop = threading.Event()
        self.flaps = self.visits = self.failures = 0
        self.last_failure = ""
        self.threads = [threading.Thread(target=self._flap, daemon=True),
                        threading.Thread(target=self._confirm, daemon=True)]

    def __enter__(self) -> _Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)
        self.link.up()

    def _flap(self) -> None:
        cuts = (self.link.down, self.link.reset, self.link.blackhole)
        while not self.stop.wait(FLAP_SECONDS):
            cuts[self.flaps % len(cuts)]()
            self.flaps += 1
            if self.stop.wait(FLAP_SECONDS):
                break
            self.link.up()

    def _confirm(self) -> None:
        from counter.client.api import CounterClient
        from counter.domain.identity_checks import PersonInput
        from counter.domain.visits import VisitDraft
        from registrations.library.kind import LibraryRequest

        client = CounterClient.at(self.socket_path)
        street = client.streets()[0][0]
        try:
            n = 0
            while not self.stop.wait(VISIT_EVERY):
                n += 1
                letters = "".join(chr(ord("a") + int(d)) for d in f"{n:04d}")
                try:
                    mother = PersonInput(birth_name=f"Bench{letters}", given_names="Alice", sex="F",
                                         birth_date=f"{1 + n % 28:02d}/{1 + n // 28 % 12:02d}/{1950 + n // 336}",
                                         birth_insee_code="45234", role="parent")
                    written = client.create_family(street, n, None, None, [mother])
                    if written.id is None:
                        self.failures += 1
                        self.last_failure = f"family refused: {written.errors or written.duplicates}"[:300]
                        continue
                    person = client.household(written.id).members[0].person.id
                    visit = client.start_visit(household_id=written.id)
                    draft = VisitDraft(household_id=written.id, revision=1,
                                       requests=[LibraryRequest(person, "ADULTE")])
                    client.save_visit(visit, draft)
                    client.visit_facts(visit)
                    client.confirm_visit(visit, draft)
                    self.visits += 1
                except Exception as exc:  # noqa: BLE001 — counted: the bench says how many failed
                    self.failures += 1
                    self.last_failure = f"{type(exc).__name__}: {exc}"[:300]
        finally:
            client.close()


def _keys(session) -> list[float]:
    latencies = []
    for query in QUERIES:
        for char in query:
            latencies.append(session.send_timed(char.encode()))
            session.drain(quiet=QUIET, timeout=5)
        for _ in range(MOVES):
            latencies.append(session.send_timed(DOWN))
            session.drain(quiet=QUIET, timeout=5)
        for _ in range(2):  # Esc: back to the input, Esc again: emptied
            session.send(b"\x1b")
            session.drain(quiet=QUIET, timeout=5)
    return latencies


def measure() -> dict:
    from bench.pty_runner import PtySession
    from bench.startup import PLACEHOLDER
    from counter.client.locate import answers
    from fixtures.agents import TEST_PIN
    from tests.link_proxy import LinkProxy

    pg_url = os.environ.get("COUNTER_BENCH_PG_URL")
    if not pg_url:
        return {"skipped": "set COUNTER_BENCH_PG_URL (the town's database is reached over TCP)"}
    from sqlalchemy.engine import make_url

    folder = Path(tempfile.mkdtemp(prefix="counter-bus-"))
    central_url, replica = _prepare(pg_url, folder)
    target = make_url(central_url)
    root = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COUNTER_", "TEXTUAL_"))}
    env.update(PYTHONPATH=str(root), COUNTER_HOME=str(folder / "home"), TERM="xterm-256color",
               COLORTERM="truecolor", LANG="C.UTF-8")
    socket_path = folder / "bus.sock"
    with LinkProxy((target.host or "127.0.0.1", target.port or 5432)) as link:
        proxied = target.set(host="127.0.0.1", port=link.port).render_as_string(hide_password=False)
        service = subprocess.Popen([sys.executable, "-c", SERVE, str(replica), str(socket_path), proxied], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 120
            while not (socket_path.exists() and answers(socket_path)):
                if service.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the bus's service did not start")
                time.sleep(0.1)
            session = PtySession([sys.executable, "-m", "counter", "--connect", str(socket_path)], env)
            try:
                session.read_until("Code personnel")
                session.send(TEST_PIN.encode() + b"\r")
                session.read_until(PLACEHOLDER)
                session.settle(quiet=1.0)
                steady = _keys(session)
                with _Load(link, socket_path) as load:
                    flapping = _keys(session)
                    flapping += _keys(session)
                flaps, visits, failures, why = load.flaps, load.visits, load.failures, load.last_failure
            finally:
                session.close()
        finally:
            service.terminate()
            service.wait(timeout=30)
    # What reached the town: the visits confirmed on board, once each.
    from sqlalchemy import text

    from counter.store.engine import Store

    town = Store(central_url)
    with town.engine.connect() as connection:
        applied = connection.execute(text("SELECT count(*) FROM tour_applied WHERE kind = 'visit'")).scalar_one()
        codes, doubled = connection.execute(text(
            "SELECT count(DISTINCT code), count(code) - count(DISTINCT code) FROM visit WHERE code IS NOT NULL")).one()
    town.dispose()

    def p95(values):
        ordered = sorted(values)
        return ordered[max(0, round(0.95 * len(ordered)) - 1)] * 1000

    return {
        "keys_flapping": len(flapping),
        "flapping_p50_ms": statistics.median(flapping) * 1000,
        "flapping_p95_ms": p95(flapping),
        "flapping_max_ms": max(flapping) * 1000,
        "steady_p95_ms": p95(steady),
        "steady_max_ms": max(steady) * 1000,
        "link_cuts": flaps,
        "visits_confirmed_on_board": visits,
        "visit_failures": failures,
        "last_visit_failure": why,
        "visits_at_the_town_hall": applied,
        "distinct_codes_at_the_town_hall": codes,
        "codes_twice_at_the_town_hall": doubled,
        "target_ms": TARGET_MS,
    }


if __name__ == "__main__":  # COUNTER_BENCH_PG_URL=… python -m bench.bus_link
    import json

    print(json.dumps(measure(), indent=2))
