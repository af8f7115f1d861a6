"""Storage: SQLModel tables, engines (SQLite, PostgreSQL), migrations, search index.

Importing this package is cheap; the heavy modules (SQLAlchemy, SQLModel,
Alembic) load when a submodule that needs them is imported.
"""
