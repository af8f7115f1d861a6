"""`counter import families` at 100,000 persons: the import until the search finds
them, then the search after the import against the generated town of the same size
(the same queries on both; bench/search.py's sampling).

The families file is written once from the town generator (fixtures/go_live.py)
and cached; each run imports it into a new database (SQLite; PostgreSQL too when
COUNTER_BENCH_PG_URL is set) holding the town's streets (as after `counter import
sectors`), as an administrator would at go-live.
"""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import text

from bench.search import CACHE, TODAY, _percentiles, _queries, _warm_page_cache, town_store
from counter.clock import FixedClock
from counter.services.family_import import import_families, review_duplicates
from counter.services.search import SearchService
from counter.store import migrate
from counter.store.engine import Store

TARGET_S = 60.0
SAMPLES = 200
NOT_SLOWER = 1.1  # p95 ratio still called "not slower": a margin for a shared machine's noise


def families_file(persons: int) -> Path:
    """Our default format for a generated town of about ``persons`` (cached)."""
    from fixtures.go_live import generated_rows, write_families
    from fixtures.town.generator import TownSpec, persons_target_households

    path = CACHE / f"families-{persons}.csv"
    if not path.exists():
        CACHE.mkdir(exist_ok=True)
        partial = path.with_suffix(".tmp")
        with partial.open("w", encoding="utf-8", newline="") as handle:
            write_families(handle, generated_rows(TownSpec(households=persons_target_households(persons))))
        partial.replace(path)
    return path


def _empty_town(persons: int, postgres_url: str | None) -> Store:
    """A new database (a SQLite file under bench/.cache, or a new schema of the
    PostgreSQL database) with the generated town's streets and nobody in it."""
    from fixtures.town.generator import TownSpec, generate_facilities
    from counter.store.models import Street

    if postgres_url:
        import sqlalchemy as sa
        from sqlalchemy.engine import make_url

        base = make_url(postgres_url).set(drivername="postgresql+psycopg")
        schema = f"counter_bench_import_{persons}"
        admin = sa.create_engine(base)
        with admin.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
        admin.dispose()
        store = Store(base.update_query_dict({"options": f"-csearch_path={schema}"}))
    else:
        path = CACHE / f"imported-{persons}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        store = Store(f"sqlite:///{path}")
    migrate.upgrade(store)
    with store.write() as session:
        for street in generate_facilities(TownSpec()).streets:
            session.add(Street(**street))
    return store


def _compare(ours: Store, reference: Store, queries: list[str]) -> tuple[tuple[float, float], tuple[float, float]]:
    """(p50, p95) of each database for the same queries, each query timed on both back
    to back (in alternating order): a busy machine slows both alike."""
    services = (SearchService(ours, FixedClock(TODAY)), SearchService(reference, FixedClock(TODAY)))
    for query in queries[:20]:  # warm caches
        for service in services:
            service.search(query)
    samples: tuple[list[float], list[float]] = ([], [])
    for index, query in enumerate(queries):
        for which in ((0, 1) if index % 2 else (1, 0)):
            started = time.perf_counter()
            services[which].search(query)
            samples[which].append(time.perf_counter() - started)
    return _percentiles(samples[0]), _percentiles(samples[1])


def measure(persons: int = 100_000, postgres_url: str | None = None) -> dict:
    source = families_file(persons)
    store = _empty_town(persons, postgres_url)
    probe = None
    with open(source, encoding="utf-8") as handle:  # a person of the file the search must find
        next(handle)
        fields = next(handle).split(",")
        probe = f"{fields[3]} {fields[5].strip(chr(34)).split(',')[0]}"
    started = time.perf_counter()
    # As the command does it: the new persons' likely duplicates looked for in each batch.
    report = import_families(store, source, today=TODAY, agent="bench", on_new_persons=review_duplicates)
    imported = time.perf_counter() - started
    found = SearchService(store, FixedClock(TODAY)).search(probe).results
    ready = time.perf_counter() - started
    with store.engine.connect() as connection:
        total = connection.execute(text("SELECT count(*) FROM person")).scalar()
    reference = town_store(persons, postgres_url)
    queries = _queries(reference, SAMPLES)
    _warm_page_cache(reference)
    _warm_page_cache(store)
    result = {"database": store.dialect, "persons": total, "rows": report.rows, "families": report.families,
              "refused": report.rejected_families, "import_s": imported, "index_ready_s": ready, "probe_found": bool(found), "target_s": TARGET_S,
              "kinds": {}}
    for kind, sample in queries.items():
        (ours50, ours95), (ref50, ref95) = _compare(store, reference, sample)
        result["kinds"][kind] = {"p50_ms": ours50, "p95_ms": ours95, "generated_p50_ms": ref50,
                                 "generated_p95_ms": ref95, "ratio_p95": ours95 / ref95}
    store.dispose()
    reference.dispose()
    return result
