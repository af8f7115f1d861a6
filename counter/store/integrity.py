"""The database's own consistency check, for `counter doctor`.

SQLite checks its file page by page (``PRAGMA integrity_check``; above
``FULL_CHECK_LIMIT`` the faster ``quick_check``, which skips comparing every
index with its table). PostgreSQL's own tools check a server (``pg_amcheck``,
data checksums); the counter only reports whether checksums are on.
"""

from __future__ import annotations

from dataclasses import dataclass

from counter.store.engine import Store

FULL_CHECK_LIMIT = 512 * 2**20  # a million inhabitants is about this size
MAX_PROBLEMS = 20


@dataclass(frozen=True)
class Integrity:
    checked: bool  # False: this database is not checked here (PostgreSQL)
    method: str  # what ran, or what to run instead
    problems: tuple[str, ...] = ()


def check(store: Store) -> Integrity:
    """Run the check; a damaged file gives problems, other failures raise."""
    if not store.is_sqlite:
        with store.engine.connect() as connection:
            checksums = connection.exec_driver_sql("SHOW data_checksums").scalar()
        return Integrity(False, f"not checked from here on PostgreSQL (data checksums {checksums}): "
                                "run pg_amcheck on the server")
    from pathlib import Path

    size = Path(store.url.database).expanduser().stat().st_size
    method = "integrity_check" if size <= FULL_CHECK_LIMIT else "quick_check"
    try:
        with store.engine.connect() as connection:
            rows = connection.exec_driver_sql(f"PRAGMA {method}({MAX_PROBLEMS})").scalars().all()
    except Exception as exc:  # noqa: BLE001 — classified below; others go to the caller
        from counter.store import failures

        failure = failures.classify(exc)
        if failure.kind != failures.DAMAGED:
            raise
        # SQLite's own wording for these codes is fixed text ("file is not a database").
        driver = getattr(exc, "orig", None) or exc
        return Integrity(True, method, (f"{failure.code}: {str(driver).splitlines()[0]}",))
    lines = [line for row in rows for line in str(row).splitlines()
             if line.strip() and not line.startswith("*** in database")]
    return Integrity(True, method, () if lines == ["ok"] else tuple(lines))
