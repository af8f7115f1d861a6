"""The audit trail as a hash chain: every entry carries the hash of the one before.

A ``before_flush`` listener on every ORM session chains each new
:class:`~counter.store.models.AuditEntry` (``seq`` = head + 1, ``prev_hash`` =
the head's hash, ``hash`` = SHA-256 of the entry's canonical JSON with
``prev_hash``) and moves the one-row ``audit_head`` in the same transaction.
The head row is locked (``FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN
IMMEDIATE`` already serialises writers), so two counters appending at once
still make one chain. Every service that adds an AuditEntry is chained for free.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

from sqlalchemy import text

GENESIS = ""  # prev_hash of the first entry ever written
CHECKPOINT = "audit.checkpoint"  # the action of the entry a purge leaves behind
HEAD_KEY = "counter.audit_head"  # Session.info: the head this transaction moved to, published after commit


def canonical_at(at: datetime) -> str:
    """The entry's time as hashed: UTC, to the microsecond (SQLite gives it back naive)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(*, seq: int, at: datetime, agent: str, host: str, action: str, target_type: str,
               target_id: str, details: str, prev_hash: str) -> str:
    payload = json.dumps(
        {"seq": seq, "at": canonical_at(at), "agent": agent, "host": host, "action": action,
         "target_type": target_type, "target_id": target_id, "details": details, "prev_hash": prev_hash},
        ensure_ascii=False, sort_keys=True, separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def hash_of(entry) -> str:
    """The hash an entry (a row or an ORM object) must carry."""
    return entry_hash(seq=entry.seq, at=entry.at, agent=entry.agent, host=entry.host or "",
                      action=entry.action, target_type=entry.target_type or "",
                      target_id=entry.target_id or "", details=entry.details or "{}",
                      prev_hash=entry.prev_hash or GENESIS)


def lock_head(connection) -> tuple[int, str]:
    """The head of the chain, locked until the transaction ends: (seq, hash)."""
    sql = "SELECT seq, hash FROM audit_head WHERE id = 1"
    if connection.dialect.name == "postgresql":
        sql += " FOR UPDATE"
    row = connection.execute(text(sql)).first()
    if row is None:  # a database migrated before the head existed cannot happen; be safe anyway
        connection.execute(text("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '')"))
        return 0, GENESIS
    return int(row[0]), row[1] or GENESIS


def move_head(connection, seq: int, hash_: str) -> None:
    connection.execute(text("UPDATE audit_head SET seq = :seq, hash = :hash WHERE id = 1"),
                       {"seq": seq, "hash": hash_})


def chain_entries(session, entries: list) -> None:
    """Give each new audit entry (not chained yet) its place in the chain, in the
    session's transaction; ``counter.store.models`` calls it before every flush."""
    connection = session.connection()
    seq, previous = lock_head(connection)
    for entry in entries:
        entry.at = (entry.at or datetime.now(UTC))
        if entry.at.tzinfo is None:
            entry.at = entry.at.replace(tzinfo=UTC)
        entry.at = entry.at.astimezone(UTC)
        entry.host = entry.host or ""
        entry.target_type = entry.target_type or ""
        entry.target_id = str(entry.target_id or "")
        entry.details = entry.details or "{}"
        seq += 1
        entry.seq = seq
        entry.prev_hash = previous
        entry.hash = hash_of(entry)
        previous = entry.hash
    move_head(connection, seq, previous)
    session.info[HEAD_KEY] = (seq, previous)
