"""Search latency at 100k and 1M persons, against a bare index lookup (FTS5 or tsvector)."""

from __future__ import annotations

import random
import statistics
import time
from datetime import date
from pathlib import Path

from sqlalchemy import bindparam, text

from counter.clock import FixedClock
from counter.domain.names import fold, split_given_names
from counter.services.search import SearchService
from counter.store import migrate
from counter.store.engine import Store

CACHE = Path(__file__).with_name(".cache")
TODAY = date(2026, 11, 25)
TARGETS_MS = {"full name": 15.0, "name + given-name prefix": None, "name + birth year": None,
              "3-letter prefix": 50.0}


def _loaded(store: Store) -> bool:
    """A town already built; one built by an older version is upgraded, as a town's would be."""
    revision = migrate.current_revision(store)
    if revision is None:
        return False
    with store.engine.connect() as connection:
        if connection.execute(text("SELECT 1 FROM person LIMIT 1")).first() is None:
            return False
    if revision != migrate.HEAD:
        started = time.perf_counter()
        migrate.upgrade(store)
        print(f"  upgraded the cached town from {revision} in {time.perf_counter() - started:.0f} s", flush=True)
    return True


def _fill(store: Store, persons: int) -> None:
    from fixtures.loader import load_generated
    from fixtures.town.generator import TownSpec, persons_target_households

    migrate.upgrade(store)
    started = time.perf_counter()
    counts = load_generated(store, TownSpec(households=persons_target_households(persons)))
    print(f"  built {counts.get('person', 0):,} persons in {time.perf_counter() - started:.0f} s")


def town_store(persons: int, postgres_url: str | None = None) -> Store:
    """A generated town of about ``persons`` inhabitants, built once and cached
    (a SQLite file under bench/.cache, or a schema of the PostgreSQL database)."""
    if postgres_url:
        import sqlalchemy as sa
        from sqlalchemy.engine import make_url

        base = make_url(postgres_url).set(drivername="postgresql+psycopg")
        schema = f"counter_bench_{persons}"
        store = Store(base.update_query_dict({"options": f"-csearch_path={schema}"}))
        try:
            if _loaded(store):
                return store
        except Exception:  # noqa: BLE001 — no schema yet
            pass
        admin = sa.create_engine(base)
        with admin.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
        admin.dispose()
        _fill(store, persons)
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
        return store

    path = CACHE / f"town-{persons}.sqlite3"
    store = Store(f"sqlite:///{path}")
    if _loaded(store):
        return store
    store.dispose()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    store = Store(f"sqlite:///{path}")
    _fill(store, persons)
    return store


def _queries(store: Store, count: int, seed: int = 1) -> dict[str, list[str]]:
    with store.engine.connect() as connection:
        top = connection.execute(text("SELECT max(id) FROM person")).scalar()
        rng = random.Random(seed)
        ids = sorted(rng.sample(range(1, top + 1), count))
        rows = connection.execute(
            text("SELECT birth_name, given_names, birth_year FROM person WHERE id IN :ids").bindparams(
                bindparam("ids", expanding=True)
            ),
            {"ids": ids},
        ).all()
    queries: dict[str, list[str]] = {name: [] for name in TARGETS_MS}
    for birth_name, given_names, birth_year in rows:
        surname = fold(birth_name).split()[-1]
        given = fold(split_given_names(given_names)[0]).split()[0]
        queries["full name"].append(f"{surname} {given}")
        queries["name + given-name prefix"].append(f"{surname} {given[:2]}")
        queries["name + birth year"].append(f"{surname} {birth_year}")  # "martin 1982"
        queries["3-letter prefix"].append(surname[:3])
    return queries


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return statistics.median(ordered) * 1000, p95 * 1000


def _bare_fts(store: Store, query: str) -> None:
    """The floor: one index lookup of the words as prefixes, no tiers, no ranking."""
    words = [fold(w) for w in query.split()]
    with store.engine.connect() as connection:
        if store.is_sqlite:
            match = " AND ".join(f'"{w}"*' for w in words)
            sql, params = "SELECT rowid FROM person_fts WHERE person_fts MATCH :m LIMIT 50", {"m": match}
        else:
            sql = "SELECT id FROM person WHERE search_vector @@ to_tsquery('simple', :q) LIMIT 50"
            params = {"q": " & ".join(f"{w}:*" for w in words)}
        connection.execute(text(sql), params).all()


def _warm_page_cache(store: Store) -> None:
    """Read the SQLite file once: a counter server's database is warm, and a
    file evicted by other work would otherwise make the first queries disk-bound."""
    if store.is_sqlite and store.url.database:
        with open(store.url.database, "rb") as db:
            while db.read(1 << 20):
                pass


def measure(persons: int, samples: int = 200, postgres_url: str | None = None) -> dict:
    store = town_store(persons, postgres_url)
    _warm_page_cache(store)
    # What a search costs: every one computed (the answers a search process keeps for a
    # query asked again are measured through the service, bench/service.py).
    service = SearchService(store, FixedClock(TODAY), keep_answers=False)
    with store.engine.connect() as connection:
        total = connection.execute(text("SELECT count(*) FROM person")).scalar()
    results = {"persons": total, "database": store.dialect, "kinds": {}}
    for kind, queries in _queries(store, samples).items():
        for q in queries[:20]:  # warm caches
            service.search(q)
        ours, bare = [], []
        for q in queries:
            started = time.perf_counter()
            service.search(q)
            ours.append(time.perf_counter() - started)
            started = time.perf_counter()
            _bare_fts(store, q)
            bare.append(time.perf_counter() - started)
        p50, p95 = _percentiles(ours)
        ref50, ref95 = _percentiles(bare)
        results["kinds"][kind] = {
            "p50_ms": p50, "p95_ms": p95, "target_p95_ms": TARGETS_MS[kind],
            "bare_fts_p50_ms": ref50, "bare_fts_p95_ms": ref95, "ratio_p95": p95 / ref95,
        }
    store.dispose()
    return results
