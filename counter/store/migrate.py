"""Schema migrations (Alembic), for SQLite and PostgreSQL alike.

Checking whether a database is current is a plain query against
``alembic_version``, so that start-up does not import Alembic unless an
upgrade is actually needed.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from counter.store.engine import Store

# The newest revision in migrations/versions; a test keeps the two in step.
HEAD = "0011"

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def current_revision(store: Store) -> str | None:
    """The database's revision, or None for an empty (never migrated) database."""
    try:
        with store.engine.connect() as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError as exc:
        if "alembic_version" in str(exc):
            return None
        raise


def is_current(store: Store) -> bool:
    return current_revision(store) == HEAD


def alembic_config():
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade(store: Store, revision: str = "head") -> None:
    # The connection is handed over (never a URL: configparser would choke on
    # a '%' in a password, and the write lock must be ours).
    from alembic import command

    config = alembic_config()
    with store.write_connection() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def script_head() -> str:
    """The head revision according to the migration scripts themselves."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()
