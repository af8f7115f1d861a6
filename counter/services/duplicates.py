"""Finding likely duplicates of a person, and recording them for review.

``find_candidates`` looks only where the rules of
:mod:`counter.domain.duplicates` can match, through indexes, never a full scan:

- the NIR: the unique index on ``person.nir``;
- the birth date: ``ix_person_birth`` (year, month, day) — both name rules need
  the same birth date, and a day holds a few dozen persons in a town of a
  million;
- a crowded date (more than ``CROWDED`` persons: the 1st of January of foreign
  civil status, a year-only date), then by name through the search index
  (the exact tokens and their near tokens from ``search_token_delete``),
  filtered by birth date.

Every row found is then judged by the pure rules. Removed persons are never
candidates. Both functions run in the caller's session (its transaction) and
work the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import bindparam, insert, text

from counter.domain.duplicates import Candidate, first_given_name, identity_of, join_reasons, reasons, surnames
from counter.domain.query import DateFilter
from counter.store.models import DuplicateReview

SOURCES = ("counter", "import", "sync", "tour")
CROWDED = 2000  # persons sharing one birth date before the names drive the search
NAME_LIMIT = 1000  # candidates read by name on a crowded date
CHUNK = 200  # new persons reviewed per round: 600 parameters and an OR 200 deep, within SQLite's limits (999, 1000)

_COLUMNS = ("id, birth_name, usage_name, given_names, birth_year, birth_month, birth_day, "
            "birth_insee_code, birth_country_code, nir")


def _connection(session):
    """The connection under an ORM session (or the connection itself)."""
    return session.connection() if hasattr(session, "connection") and not hasattr(session, "dialect") else session


def _birth_where(birth: tuple) -> tuple[str, dict]:
    year, month, day = birth
    clauses, params = ["birth_year = :year"], {"year": year}
    for name, value in (("birth_month", month), ("birth_day", day)):
        if value is None:
            clauses.append(f"{name} IS NULL")
        else:
            clauses.append(f"{name} = :{name}")
            params[name] = value
    return " AND ".join(clauses), params


def _by_nir(connection, nir: str) -> list:
    sql = text(f"SELECT {_COLUMNS} FROM person WHERE nir = :nir AND removed_at IS NULL")
    return list(connection.execute(sql, {"nir": "".join(nir.split()).upper()}).all())


def _by_birth(connection, birth: tuple, limit: int) -> list:
    where, params = _birth_where(birth)
    sql = text(f"SELECT {_COLUMNS} FROM person WHERE {where} AND removed_at IS NULL LIMIT :limit")
    return list(connection.execute(sql, {**params, "limit": limit}).all())


def _by_name(connection, identity) -> list:
    """On a crowded birth date: the persons whose names are the same or one typo
    (or one sound) away, through the search index, born that date."""
    from counter.store.search_sql import Term, name_candidates, near_tokens

    given = first_given_name(identity)
    names = sorted(surnames(identity))
    if not given or not names:
        return []
    surname_group = [Term(t) for s in names for t in (s, *near_tokens(connection, s))]
    given_group = [Term(t) for t in (given, *near_tokens(connection, given))]
    year, month, day = identity.birth
    ids = name_candidates(connection, [surname_group, given_group], DateFilter(year, month, day), NAME_LIMIT)
    if not ids:
        return []
    where, params = _birth_where(identity.birth)
    sql = text(f"SELECT {_COLUMNS} FROM person WHERE id IN :ids AND {where} AND removed_at IS NULL").bindparams(
        bindparam("ids", expanding=True))
    return list(connection.execute(sql, {**params, "ids": ids}).all())


def find_candidates(session, person, exclude_ids: Iterable[int] = ()) -> list[Candidate]:
    """The persons already known who may be ``person`` (a person row, a
    ``SourcePerson``, a checked ``PersonInput``…), with why, by id; ``person``
    itself (when it has an id) and ``exclude_ids`` left out."""
    identity = identity_of(person)
    excluded = set(exclude_ids)
    own_id = getattr(person, "id", None)
    if isinstance(own_id, int):
        excluded.add(own_id)
    connection = _connection(session)
    rows = _by_nir(connection, identity.nir) if identity.nir else []
    on_date = _by_birth(connection, identity.birth, CROWDED + 1)
    rows += _by_name(connection, identity) if len(on_date) > CROWDED else on_date
    return _judge(identity, rows, excluded)


def _judge(identity, rows, excluded) -> list[Candidate]:
    """The rows the rules find likely to be ``identity``, with why, by id."""
    found: dict[int, tuple[str, ...]] = {}
    for row in rows:
        if row.id in excluded or row.id in found:
            continue
        why = reasons(identity, row)
        if why:
            found[row.id] = why
    return [Candidate(person_id, why) for person_id, why in sorted(found.items())]


def _by_dates(connection, births: set[tuple]) -> dict[tuple, list]:
    """The living persons born on any of these dates, by date: one query (an OR of
    index look-ups on ix_person_birth, which both databases combine)."""
    clauses, params = [], {}
    for number, birth in enumerate(sorted(births, key=lambda b: (b[0], b[1] or 0, b[2] or 0))):
        where, values = _birth_where(birth)
        for name, value in values.items():
            where = where.replace(f":{name}", f":{name}_{number}")
            params[f"{name}_{number}"] = value
        clauses.append(f"({where})")
    found: dict[tuple, list] = {}
    if not clauses:
        return found
    sql = text(f"SELECT {_COLUMNS} FROM person WHERE ({' OR '.join(clauses)}) AND removed_at IS NULL")
    for row in connection.execute(sql, params):
        found.setdefault((row.birth_year, row.birth_month, row.birth_day), []).append(row)
    return found


def _by_nirs(connection, nirs: set[str]) -> dict[str, list]:
    if not nirs:
        return {}
    sql = text(f"SELECT {_COLUMNS} FROM person WHERE nir IN :nirs AND removed_at IS NULL").bindparams(
        bindparam("nirs", expanding=True))
    found: dict[str, list] = {}
    for row in connection.execute(sql, {"nirs": sorted(nirs)}):
        found.setdefault(row.nir, []).append(row)
    return found


def _pair_known(connection, a: int, b: int) -> bool:
    sql = text("SELECT 1 FROM duplicate_review WHERE (person_id = :a AND candidate_id = :b) "
               "OR (person_id = :b AND candidate_id = :a)")
    return connection.execute(sql, {"a": a, "b": b}).first() is not None


def record_pair(session, newer: int, older: int, found: Iterable[str], source: str, *, state: str = "pending",
                decided_by: str | None = None) -> bool:
    """One pair for review (either order known already: nothing); True when recorded."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    connection = _connection(session)
    if _pair_known(connection, newer, older):
        return False
    now = datetime.now(UTC)
    connection.execute(insert(DuplicateReview.__table__).values(
        person_id=newer, candidate_id=older, reasons=join_reasons(found), source=source, state=state,
        created_at=now, decided_by=decided_by, decided_at=now if decided_by else None))
    return True


def review_new_persons(session, person_ids: Iterable[int], source: str) -> int:
    """Record a pending review for every likely duplicate of the given new persons
    (``source``: counter | import | sync | tour), in the caller's transaction; never
    merges. A pair already recorded — pending, merged or dismissed, in either
    order — is not recorded again, so a dismissed pair never comes back. Two new
    persons of the same batch may be each other's duplicate: the newer id is the
    review's person. The number of reviews recorded."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    batch = sorted(set(person_ids))
    if not batch:
        return 0
    connection = _connection(session)
    if hasattr(session, "flush"):
        session.flush()  # the caller's new persons are rows to read
    in_batch = set(batch)
    recorded = 0
    # A chunk at a time: its persons, then everyone born on their dates and holding
    # their NIRs, in three queries (an import of 100,000 persons is 500 chunks).
    for start in range(0, len(batch), CHUNK):
        chunk = batch[start:start + CHUNK]
        rows = connection.execute(text(f"SELECT {_COLUMNS} FROM person WHERE id IN :ids AND removed_at IS NULL")
                                  .bindparams(bindparam("ids", expanding=True)), {"ids": chunk}).all()
        identities = {row.id: identity_of(row) for row in rows}
        on_dates = _by_dates(connection, {i.birth for i in identities.values()})
        with_nirs = _by_nirs(connection, {i.nir for i in identities.values() if i.nir})
        for person_id in sorted(identities):
            identity = identities[person_id]
            same_date = on_dates.get(identity.birth, [])
            known = with_nirs.get(identity.nir, []) if identity.nir else []
            known = [*known, *(_by_name(connection, identity) if len(same_date) > CROWDED else same_date)]
            for candidate in _judge(identity, known, {person_id}):
                other = candidate.person_id
                newer, older = (other, person_id) if other in in_batch and other > person_id else (person_id, other)
                recorded += record_pair(connection, newer, older, candidate.reasons, source)
    return recorded
