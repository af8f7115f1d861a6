"""Keeps the search columns and the name vocabulary in step with person rows.

``person.search_text`` holds the folded name tokens; the SQLite FTS5 table and
the PostgreSQL tsvector column are built from it by the database itself
(triggers / a generated column). The vocabulary tables feed near matches.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, column, table
from sqlalchemy.dialects import postgresql, sqlite

from counter.domain.names import person_tokens, split_given_names
from counter.domain.phonetic import phonetic_key
from counter.domain.typos import MIN_TYPO_LENGTH, deletes

# Lightweight table clauses: this module must not import the models, which
# import it to register the events below.
_TOKENS = table("search_token", column("token"), column("phonetic"))
_DELETES = table("search_token_delete", column("variant"), column("token"))


def search_text(birth_name: str, usage_name: str | None, given_names: str) -> str:
    return " ".join(person_tokens(birth_name, usage_name, split_given_names(given_names)))


def vocabulary_rows(tokens: Iterable[str]) -> tuple[list[dict], list[dict]]:
    """Rows for search_token and search_token_delete, for the given tokens."""
    token_rows: list[dict] = []
    delete_rows: list[dict] = []
    for token in sorted(set(tokens)):
        token_rows.append({"token": token, "phonetic": phonetic_key(token)})
        if len(token) >= MIN_TYPO_LENGTH:
            delete_rows.extend({"variant": v, "token": token} for v in sorted(deletes(token)))
    return token_rows, delete_rows


def add_tokens(connection: Connection, tokens: Iterable[str]) -> None:
    """Insert tokens not yet in the vocabulary (existing ones are kept)."""
    token_rows, delete_rows = vocabulary_rows(tokens)
    if not token_rows:
        return
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    connection.execute(insert(_TOKENS).on_conflict_do_nothing(), token_rows)
    if delete_rows:
        connection.execute(insert(_DELETES).on_conflict_do_nothing(), delete_rows)


def fill_search_text(_mapper, _connection, target) -> None:
    """Mapper event: recompute a person's search tokens before it is written."""
    target.search_text = search_text(target.birth_name, target.usage_name, target.given_names)


_GATHERED = "counter.indexing.gathered_tokens"


def record_tokens(_mapper, connection: Connection, target) -> None:
    """Mapper event: add the person's tokens to the vocabulary, same transaction
    (gathered for one statement at the end of :func:`gathered_vocabulary`)."""
    gathered = connection.info.get(_GATHERED)
    if gathered is not None:
        gathered.update(target.search_text.split())
        return
    add_tokens(connection, target.search_text.split())


@contextmanager
def gathered_vocabulary(connection: Connection) -> Iterator[None]:
    """Persons written inside have their tokens added to the vocabulary once, when
    the block ends without error (same transaction): an import writes thousands of
    persons in one flush, two statements instead of two per person."""
    if _GATHERED in connection.info:  # already gathering: the outer block adds them
        yield
        return
    gathered: set[str] = set()
    connection.info[_GATHERED] = gathered
    try:
        yield
    finally:
        connection.info.pop(_GATHERED, None)
    add_tokens(connection, gathered)
