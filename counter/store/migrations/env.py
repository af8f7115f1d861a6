"""Alembic environment: runs on the connection counter.store.migrate hands over."""

from alembic import context
from sqlmodel import SQLModel

import counter.store.models  # noqa: F401  (registers the tables)

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise SystemExit("run migrations with `counter db upgrade`, not the alembic command")

context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
