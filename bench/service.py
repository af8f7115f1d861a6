"""Search through the counter service: one terminal, then thirty typing at once.

The service runs in its own process (as `counter serve` does) on the cached
generated town; the clients are other processes on its socket. The reference
is the same search called in-process on the same database, in the same run.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLIENTS = 30
TYPING_PAUSE_S = 0.15  # a fast typist's debounced searches: one per 150 ms
TARGETS_MS = {"one terminal p95": 20.0, "thirty terminals p95": 50.0}

SERVE = """
import sys
from pathlib import Path
from counter.clock import FixedClock
from counter.runtime import Runtime
from counter.service.server import Service
from counter.store.engine import Store
import asyncio
database, socket_path = sys.argv[1], sys.argv[2]
runtime = Runtime(mode="training", data_dir=Path(socket_path).parent, database_url=database,
                  clock=FixedClock(__import__("datetime").date(2026, 11, 25)), agent_login="bench")
service = Service(runtime, Path(socket_path), mode=0o600, identify=lambda uid: "bench",
                  store=Store(database), backends=[], search_processes=int(sys.argv[3]))
service.core.background = False
asyncio.run(service.serve())
"""

# One client process: THREADS terminals each typing its queries one prefix at a time.
TYPE = """
import json, sys, threading, time
from counter.client.api import CounterClient
socket_path, pause, queries = sys.argv[1], float(sys.argv[2]), json.loads(sys.stdin.read())
latencies, lock = [], threading.Lock()
def terminal(words):
    client = CounterClient.at(socket_path)
    for query in words:
        for end in range(3, len(query) + 1):
            started = time.perf_counter()
            client.search(query[:end])
            with lock:
                latencies.append(time.perf_counter() - started)
            time.sleep(pause)
threads = [threading.Thread(target=terminal, args=(q,)) for q in queries]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps(latencies))
"""


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))] * 1000


def _wait_for(path: Path, process: subprocess.Popen, timeout: float = 120.0) -> None:
    from counter.client.api import CounterClient
    from counter.client.connection import ServiceUnavailable

    deadline = time.monotonic() + timeout
    client = CounterClient.at(path)
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError("the service process stopped")
            try:
                client.session()
                return
            except ServiceUnavailable:
                time.sleep(0.1)
        raise RuntimeError("the service did not answer in time")
    finally:
        client.close()


def measure(persons: int = 1_000_000, samples: int = 200) -> dict:
    import json

    from counter.client.api import CounterClient
    from counter.clock import FixedClock
    from counter.services.search import SearchService

    from bench.search import TODAY, _queries, _warm_page_cache, town_store

    store = town_store(persons)
    _warm_page_cache(store)
    # Three sets of names, none searched twice on purpose: the warm-up's, the one
    # terminal's, the thirty typists' (a search process keeps recent answers: a name
    # measured again would only measure that). Repeats left are the typists' own
    # (« dupont » and « dupont » + space, a prefix two of them share).
    everything = _queries(store, samples + 20 + CLIENTS)["full name"]
    warm, queries, typed = everything[:20], everything[20:20 + samples], everything[20 + samples:]
    database = str(store.url)
    folder = Path(tempfile.mkdtemp(prefix="counter-bench-"))
    socket_path = folder / "counter.sock"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    # As `counter serve` runs by default: one search process per core, up to four.
    searchers = min(os.cpu_count() or 1, 4)
    service = subprocess.Popen([sys.executable, "-c", SERVE, database, str(socket_path), str(searchers)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(socket_path, service)
        # The reference: the same searches, in-process, on the same database.
        direct = SearchService(store, FixedClock(TODAY), keep_answers=False)
        client = CounterClient.at(socket_path)
        for q in warm:
            direct.search(q)
            client.search(q)
        ours, reference = [], []
        for q in queries:
            started = time.perf_counter()
            client.search(q)
            ours.append(time.perf_counter() - started)
            started = time.perf_counter()
            direct.search(q)
            reference.append(time.perf_counter() - started)
        client.close()
        # Thirty terminals typing at once: three client processes of ten.
        per_process = CLIENTS // 3
        words = [[q] for q in typed]
        typists = [subprocess.Popen([sys.executable, "-c", TYPE, str(socket_path), str(TYPING_PAUSE_S)], env=env,
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                   for _ in range(3)]
        crowd: list[float] = []
        outputs = []
        for index, typist in enumerate(typists):
            typist.stdin.write(json.dumps(words[index * per_process:(index + 1) * per_process]))
            typist.stdin.close()
        for typist in typists:
            outputs.append(typist.stdout.read())
            typist.wait(timeout=300)
        for output in outputs:
            crowd += json.loads(output)
    finally:
        service.terminate()
        service.wait(timeout=30)
        store.dispose()
    return {
        "persons": persons,
        "search_processes": searchers,
        "one_terminal_p50_ms": statistics.median(ours) * 1000,
        "one_terminal_p95_ms": _p95(ours),
        "in_process_p95_ms": _p95(reference),
        "ratio_p95": _p95(ours) / _p95(reference),
        "thirty_terminals_searches": len(crowd),
        "thirty_terminals_p50_ms": statistics.median(crowd) * 1000,
        "thirty_terminals_p95_ms": _p95(crowd),
        "targets_ms": TARGETS_MS,
    }


if __name__ == "__main__":  # python -m bench.service [persons]
    import json

    print(json.dumps(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000), indent=2))
