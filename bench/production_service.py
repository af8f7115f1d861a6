"""A production counter service for the benchmarks: the bench's training town copied,
marked as production data, this account registered as an agent with the test PIN.

Run as ``python -m bench.production_service DATABASE SOCKET``: it serves until
terminated, as `counter serve` does (same Service, socket and handlers).
"""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path


def prepare(training_db: Path, folder: Path) -> Path:
    """A production copy of the training database, with this account as an agent."""
    from counter.runtime import os_login
    from counter.store.engine import Store
    from fixtures.agents import ensure_agent, preset_pin

    database = folder / "production.sqlite3"
    shutil.copyfile(training_db, database)
    store = Store(f"sqlite:///{database}")
    with store.write_connection() as connection:
        connection.exec_driver_sql("UPDATE store_meta SET value = 'production' WHERE key = 'dataset'")
    preset_pin(store, os_login())
    ensure_agent(store, os_login())
    store.dispose()
    return database


def main(database: str, socket_path: str) -> None:
    from counter.runtime import Runtime
    from counter.service.server import Service

    runtime = Runtime(mode="production", data_dir=Path(socket_path).parent, database_url=f"sqlite:///{database}",
                      backends={})
    service = Service(runtime, Path(socket_path), mode=0o600)
    asyncio.run(service.serve())


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
