"""Search: prefix indexes up to six letters in SQLite's full-text index.

A typed word of 4-6 letters ("marie", "franc") used as a prefix made FTS5 merge
the documents of every token starting with it (tens of thousands at 1M persons)
at each keystroke: 18-24 ms for "d'artois marie-fran", 4 ms with these indexes
(docs/performance.md). The index grows by about two thirds (42 → 70 MB at 1M
persons); rebuilding it takes seconds. PostgreSQL's text search is unchanged.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _rebuild(prefixes: str) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    # The triggers on person name person_fts: they keep working on the new table.
    op.execute("DROP TABLE person_fts")
    op.execute(
        "CREATE VIRTUAL TABLE person_fts USING fts5("
        "search_text, content='person', content_rowid='id', "
        f"tokenize='unicode61 remove_diacritics 2', prefix='{prefixes}')"
    )
    op.execute("INSERT INTO person_fts(person_fts) VALUES ('rebuild')")


def upgrade() -> None:
    _rebuild("1 2 3 4 5 6")


def downgrade() -> None:
    _rebuild("1 2 3")
