"""The search queries, per database: SQLite FTS5 or PostgreSQL text search.

A search is an AND over the typed words, each word an OR over its terms (the
word itself, exact or as a prefix, and its near tokens from the vocabulary).
Candidates come back in index order, at most ``limit`` of them: ranking
happens on that bounded set, never by sorting a whole prefix's matches.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, text

from counter.domain.households import normalise_caf_number
from counter.domain.phonetic import phonetic_key
from counter.domain.query import DateFilter
from counter.domain.ranking import is_near
from counter.domain.typos import deletes

_TOKEN = re.compile(r"^[a-z0-9]+$")


@dataclass(frozen=True, slots=True)
class Term:
    token: str
    prefix: bool = False


Group = Sequence[Term]


def _check(token: str) -> str:
    # Tokens come out of counter.domain.names, so this never fails; it guards
    # the string building below against a future change of the tokeniser.
    if not _TOKEN.match(token):
        raise ValueError(f"not a folded token: {token!r}")
    return token


def fts5_match(groups: Sequence[Group]) -> str:
    parts = []
    for group in groups:
        terms = [f'"{_check(t.token)}"' + ("*" if t.prefix else "") for t in group]
        parts.append("(" + " OR ".join(terms) + ")")
    return " AND ".join(parts)


def tsquery(groups: Sequence[Group]) -> str:
    parts = []
    for group in groups:
        terms = [_check(t.token) + (":*" if t.prefix else "") for t in group]
        parts.append("(" + " | ".join(terms) + ")")
    return " & ".join(parts)


def _birth_clause(birth: DateFilter | None, alias: str) -> tuple[str, dict]:
    if birth is None:
        return "", {}
    clause = f" AND {alias}.birth_year = :year"
    params: dict = {"year": birth.year}
    if birth.month is not None:
        clause += f" AND {alias}.birth_month = :month"
        params["month"] = birth.month
    if birth.day is not None:
        clause += f" AND {alias}.birth_day = :day"
        params["day"] = birth.day
    return clause, params


def name_candidates(
    connection: Connection, groups: Sequence[Group], birth: DateFilter | None, limit: int
) -> list[int]:
    """Ids of persons matching every group, in index order, at most ``limit``."""
    sql, params = name_candidates_sql(connection.dialect.name, groups, birth, limit)
    return list(connection.execute(text(sql), params).scalars())


def name_candidates_sql(
    dialect: str, groups: Sequence[Group], birth: DateFilter | None, limit: int
) -> tuple[str, dict]:
    """The candidates' query for one database and its parameters."""
    clause, params = _birth_clause(birth, "p")
    params["limit"] = limit
    if dialect == "sqlite":
        params["match"] = fts5_match(groups)
        if clause:
            # CROSS JOIN keeps the full-text index as the outer loop (SQLite
            # honours the order): the names drive, the birth date filters each
            # match by its primary key, and LIMIT stops early. With a plain
            # JOIN the planner walked the birth-date index instead and ran the
            # MATCH once per person born that year: 250 ms for "martin 1982"
            # at 100k persons, 5 ms this way (docs/performance.md).
            sql = (
                "SELECT p.id FROM person_fts CROSS JOIN person p ON p.id = person_fts.rowid "
                f"WHERE person_fts MATCH :match{clause} LIMIT :limit"
            )
        else:
            sql = "SELECT rowid FROM person_fts WHERE person_fts MATCH :match LIMIT :limit"
    else:
        params["query"] = tsquery(groups)
        sql = (
            "SELECT p.id FROM person p WHERE p.search_vector @@ to_tsquery('simple', :query)"
            f"{clause} LIMIT :limit"
        )
    return sql, params


def nir_candidates(connection: Connection, nir: str) -> list[int]:
    if len(nir) == 15:
        sql, params = "SELECT id FROM person WHERE nir = :nir", {"nir": nir}
    else:  # the 13-character body: any key
        sql = "SELECT id FROM person WHERE nir >= :low AND nir <= :high"
        params = {"low": nir + "00", "high": nir + "99"}
    return list(connection.execute(text(sql), params).scalars())


def caf_candidates(connection: Connection, number: str, postal_code: str) -> list[int]:
    """Members of the household with that allocataire number at that postal code."""
    sql = text(
        "SELECT m.person_id FROM household h "
        "JOIN household_member m ON m.household_id = h.id "
        "JOIN address a ON a.id = h.address_id "
        "WHERE h.caf_number = :number AND a.postal_code = :postal_code "
        "ORDER BY m.id"
    )
    return list(connection.execute(sql, {"number": normalise_caf_number(number), "postal_code": postal_code}).scalars())


def near_tokens(connection: Connection, word: str) -> list[str]:
    """Vocabulary tokens one typo away from ``word`` or pronounced the same."""
    variants = sorted(deletes(word) | {word})
    found: set[str] = set()
    rows = connection.execute(
        text("SELECT token FROM search_token_delete WHERE variant IN :variants").bindparams(
            bindparam("variants", expanding=True)
        ),
        {"variants": variants},
    )
    found.update(rows.scalars())
    rows = connection.execute(
        text("SELECT token FROM search_token WHERE token IN :variants OR phonetic = :key").bindparams(
            bindparam("variants", expanding=True)
        ),
        {"variants": variants, "key": phonetic_key(word)},
    )
    found.update(rows.scalars())
    found.discard(word)
    return sorted(t for t in found if is_near(word, t))


PERSON_COLUMNS = (
    "p.id, p.birth_name, p.usage_name, p.given_names, p.sex, "
    "p.birth_year, p.birth_month, p.birth_day"
)
# Where each of PERSON_COLUMNS sits in a row read through the driver's cursor.
ID, BIRTH_NAME, USAGE_NAME, GIVEN_NAMES, SEX, BIRTH_YEAR, BIRTH_MONTH, BIRTH_DAY = range(8)


# -- the search's own queries, on the driver's cursor --------------------------------
# A search runs at every keystroke of thirty agents: these skip SQLAlchemy's
# statement compilation and row objects (half of a search's time at 1M persons),
# with fixed SQL texts that the drivers prepare once per connection. Rows come
# back as plain tuples (the column constants above).

_NAMED = re.compile(r"(?<![:\w]):(\w+)")


@functools.lru_cache(maxsize=64)
def _driver_sql(dialect: str, sql: str) -> str:
    """``:name`` parameters as the driver wants them (sqlite3 takes them as they are)."""
    return sql if dialect == "sqlite" else _NAMED.sub(r"%(\1)s", sql)


def _fetch(connection: Connection, sql: str, params: dict) -> list[tuple]:
    cursor = connection.connection.cursor()
    try:
        cursor.execute(_driver_sql(connection.dialect.name, sql), params)
        return cursor.fetchall()
    finally:
        cursor.close()


def _id_list(dialect: str, params: dict, ids: Sequence[int]) -> str:
    """A condition "``p.id`` among ``ids``" with one fixed text whatever their number."""
    if dialect == "sqlite":
        params["ids"] = json.dumps(list(ids))
        return "IN (SELECT value FROM json_each(:ids))"
    params["ids"] = list(ids)
    return "= ANY(:ids)"


def candidate_rows(
    connection: Connection, groups: Sequence[Group], birth: DateFilter | None, limit: int
) -> list[tuple]:
    """``name_candidates`` with each person's columns, removed persons left out."""
    clause, params = _birth_clause(birth, "p")
    params["limit"] = limit
    if connection.dialect.name == "sqlite":
        params["match"] = fts5_match(groups)
        # CROSS JOIN: the full-text index drives (see name_candidates_sql).
        sql = (f"SELECT {PERSON_COLUMNS} FROM person_fts CROSS JOIN person p ON p.id = person_fts.rowid "
               f"WHERE person_fts MATCH :match AND p.removed_at IS NULL{clause} LIMIT :limit")
    else:
        params["query"] = tsquery(groups)
        sql = (f"SELECT {PERSON_COLUMNS} FROM person p WHERE p.search_vector @@ to_tsquery('simple', :query) "
               f"AND p.removed_at IS NULL{clause} LIMIT :limit")
    return _fetch(connection, sql, params)


def birth_rows(connection: Connection, birth: DateFilter, limit: int) -> list[tuple]:
    clause, params = _birth_clause(birth, "p")
    params["limit"] = limit
    return _fetch(connection, f"SELECT {PERSON_COLUMNS} FROM person p WHERE p.removed_at IS NULL{clause} "
                              "LIMIT :limit", params)


def rows_of(connection: Connection, ids: Sequence[int]) -> list[tuple]:
    """The search's rows of these persons (removed ones left out), as tuples."""
    if not ids:
        return []
    params: dict = {}
    among = _id_list(connection.dialect.name, params, ids)
    return _fetch(connection, f"SELECT {PERSON_COLUMNS} FROM person p WHERE p.id {among} "
                              "AND p.removed_at IS NULL", params)


# Where each column of a membership row sits (the household size is counted).
(M_PERSON, M_HOUSEHOLD, M_ROLE, M_SIZE, M_NUMBER, M_SUFFIX, M_STREET, M_LINE, M_COMPLEMENT, M_POSTAL_CODE,
 M_CITY) = range(11)


def _membership_sql(among: str) -> str:
    return (
        "SELECT m.person_id, m.household_id, m.role, "
        "(SELECT count(*) FROM household_member m2 WHERE m2.household_id = m.household_id) AS size, "
        "a.number, a.suffix, s.name AS street, a.line, a.complement, a.postal_code, a.city "
        "FROM household_member m "
        "JOIN household h ON h.id = m.household_id "
        "LEFT JOIN address a ON a.id = COALESCE(m.address_id, h.address_id) "
        "LEFT JOIN street s ON s.id = a.street_id "
        f"WHERE m.person_id {among} ORDER BY m.person_id, m.id"
    )


def membership_rows(connection: Connection, ids: Sequence[int]):
    """For each person: household, role, household size and where they live."""
    if not ids:
        return []
    sql = text(_membership_sql("IN :ids")).bindparams(bindparam("ids", expanding=True))
    return connection.execute(sql, {"ids": list(ids)}).all()


def membership_tuples(connection: Connection, ids: Sequence[int]) -> list[tuple]:
    """``membership_rows`` as tuples (the M_ constants), for the search."""
    if not ids:
        return []
    params: dict = {}
    return _fetch(connection, _membership_sql(_id_list(connection.dialect.name, params, ids)), params)
