"""Damaged SQLite files, made the ways disks and people damage them, for tests."""

from __future__ import annotations

import os
import random
from pathlib import Path

PAGE = 4096
WAYS = ("truncated", "pages", "header")


def production_database(path: Path, people: int = 3000) -> Path:
    """A migrated production database with enough rows to span many pages."""
    from counter.store import dataset
    from counter.store.engine import Store
    from fixtures.booking import prepare

    url = f"sqlite:///{path}"
    prepare(url, places=5, children=people)
    store = Store(url)
    dataset.ensure(store, dataset.PRODUCTION)
    with store.engine.connect() as connection:  # everything in the main file, no WAL beside it
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    store.dispose()
    return path


def damage(path: Path, how: str) -> Path:
    """``truncated``: the second half gone; ``pages``: pages of the second half overwritten
    (the schema and the first tables still read); ``header``: the file header zeroed."""
    size = path.stat().st_size
    if how == "truncated":
        os.truncate(path, size // 2)
    elif how == "pages":
        pages = size // PAGE
        chosen = random.Random(11).sample(range(pages // 2, pages), k=max(1, pages // 6))
        with path.open("r+b") as handle:
            for page in chosen:
                handle.seek(page * PAGE)
                handle.write(random.Random(page).randbytes(PAGE))
    elif how == "header":
        with path.open("r+b") as handle:
            handle.write(b"\0" * 100)
    else:
        raise ValueError(how)
    return path
