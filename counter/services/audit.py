"""The audit trail: recording, checking the chain, exporting, purging, roles.

Entries hold ids and codes, never names or NIRs. Chaining is done by
counter.store.audit_chain whenever an entry is flushed, whichever service adds it.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TextIO

from sqlalchemy import delete, func, select, text

from counter.domain.durations import parse_duration  # noqa: F401 (re-exported)
from counter.domain.permissions import LABELS, Action, allowed
from counter.exports import AUDIT_FIELDS as EXPORT_FIELDS  # noqa: F401 (re-exported)
from counter.store.audit_chain import CHECKPOINT, GENESIS, canonical_at, hash_of, lock_head
from counter.store.engine import Store
from counter.store.models import AuditEntry

# The views cross the service's socket: they live in the domain (re-exported here).
from counter.domain.audit import Break, EntryView  # noqa: F401


class Forbidden(Exception):
    """The actor's role does not allow the action; the message (French) says so,
    ``english()`` says it for the administrators' commands."""

    def __init__(self, message: str, action: str = "", login: str = "", role: str = "") -> None:
        super().__init__(message)
        self.action, self.login, self.role = action, login, role

    def english(self) -> str:
        who = f"{self.login!r} (role {self.role or 'none: not a registered agent'})"
        return f"refused: {who} may not do '{self.action}'; the attempt is in the audit trail"


@dataclass(frozen=True, slots=True)
class Actor:
    login: str
    role: str
    host: str = ""
    training: bool = False

    @classmethod
    def here(cls, login: str, role: str, training: bool = False) -> Actor:
        return cls(login, role, socket.gethostname(), training)


def record(store: Store, actor: Actor, action: str, target_type: str = "", target_id="",
           details: dict | None = None, session=None) -> None:
    """Append one entry (in ``session``'s transaction when given, else in its own)."""
    entry = AuditEntry(agent=actor.login, host=actor.host, action=action, target_type=target_type,
                       target_id=str(target_id), details=json.dumps(details or {}, sort_keys=True))
    if session is not None:
        session.add(entry)
        return
    with store.write() as own:
        own.add(entry)


def require(store: Store, actor: Actor, action: str, target_type: str = "", target_id="") -> None:
    """Raise Forbidden (and leave a ``forbidden`` entry) unless the actor may do ``action``."""
    if allowed(actor.role, action, training=actor.training):
        return
    record(store, actor, "forbidden", target_type, target_id, {"action": str(action), "role": actor.role})
    label = LABELS.get(Action(action), str(action))
    if actor.role == "trainer" and not actor.training:
        message = f"Action refusée : un formateur ne peut pas {label} hors du mode formation."
    else:
        message = f"Action refusée : votre rôle ({actor.role or 'aucun'}) ne permet pas de {label}."
    raise Forbidden(message, str(action), actor.login, actor.role)


def actor_for(store: Store, login: str, training: bool = False) -> Actor:
    """Who runs a command: the operating-system login and their role in the agents
    table (training: a trainer); an unknown or disabled login has no role."""
    if training:
        return Actor.here(login, "trainer", training=True)
    from counter.store.models import Agent

    with store.read() as session:
        agent = session.execute(select(Agent).where(Agent.login == login)).scalars().first()
    role = agent.role if agent is not None and agent.active else ""
    return Actor.here(login, role)


def has_supervisor(store: Store) -> bool:
    from counter.store.models import Agent

    with store.read() as session:
        return session.execute(select(Agent.id).where(Agent.role == "supervisor", Agent.active.is_(True))
                               .limit(1)).first() is not None


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def verify(store: Store) -> tuple[Break | None, int]:
    """(the first broken entry or None, the number of entries checked)."""
    with store.read() as session:
        head = session.execute(text("SELECT seq, hash FROM audit_head WHERE id = 1")).first()
        head_seq, head_hash = (int(head[0]), head[1] or GENESIS) if head else (0, GENESIS)
        unchained = session.execute(select(AuditEntry).where(AuditEntry.seq.is_(None))
                                    .order_by(AuditEntry.id).limit(1)).scalars().first()
        if unchained is not None:
            return Break(0, "inserted (outside the chain)", unchained.at, unchained.action), 0
        start_seq, start_prev = _chain_start(session)
        expected_seq, previous, count, last = start_seq, start_prev, 0, None
        rows = session.execute(select(AuditEntry).order_by(AuditEntry.seq)
                               .execution_options(yield_per=1000)).scalars()
        for entry in rows:
            if entry.seq < start_seq:  # older than the checkpoint says survived
                return Break(entry.seq, "inserted", entry.at, entry.action), count
            if entry.seq != expected_seq:
                return Break(expected_seq, "removed", entry.at, entry.action), count
            if entry.prev_hash != previous:
                # The link to the one before is broken: that one was removed, or this one inserted.
                return Break(entry.seq, "inserted" if entry.hash == hash_of(entry) else "changed",
                             entry.at, entry.action), count
            if entry.hash != hash_of(entry):
                return Break(entry.seq, "changed", entry.at, entry.action), count
            previous, expected_seq, count, last = entry.hash, entry.seq + 1, count + 1, entry
        last_seq = last.seq if last is not None else start_seq - 1
        if last_seq < head_seq:
            return Break(last_seq + 1, "removed", None, ""), count
        if last_seq > head_seq or previous != head_hash:
            return Break(last_seq if last is not None else head_seq, "inserted",
                         last.at if last else None, last.action if last else ""), count
    return None, count


def _chain_start(session) -> tuple[int, str]:
    """Where the chain starts: (first seq, the hash before it); a purge's latest checkpoint says what went."""
    checkpoint = session.execute(select(AuditEntry).where(AuditEntry.action == CHECKPOINT)
                                 .order_by(AuditEntry.seq.desc()).limit(1)).scalars().first()
    if checkpoint is None:
        return 1, GENESIS
    info = _details(checkpoint.details)
    return int(info.get("last_removed_seq", 0)) + 1, str(info.get("last_removed_hash", GENESIS))


@dataclass(frozen=True, slots=True)
class AnchorCheck:
    problem: str | None  # English; None: the chain holds every published head
    heads: int  # published heads compared
    furthest: int  # the highest seq published


def against_published(store: Store, heads: list) -> AnchorCheck:
    """Compare an intact chain (``verify`` first) with heads published outside the
    database (counter.store.anchor.Head): it must reach the furthest one, and hold
    the published hash at every published seq it still has (a purge removes a prefix)."""
    furthest = max((h.seq for h in heads), default=0)
    wanted: dict[int, set[str]] = {}
    for head in heads:
        if head.seq > 0:
            wanted.setdefault(head.seq, set()).add(head.hash)

    def disagrees(seq: int, actual: str) -> AnchorCheck:
        published = ", ".join(sorted(h[:12] for h in wanted[seq]))
        return AnchorCheck(f"entry {seq} disagrees with the head published for it (published {published}…, "
                           f"database {actual[:12]}…): the chain was rewritten from there on", len(heads), furthest)

    with store.read() as session:
        head = session.execute(text("SELECT seq FROM audit_head WHERE id = 1")).scalar() or 0
        if furthest > head:
            return AnchorCheck(f"the chain ends at entry {head}, but entry {furthest} was published: "
                               f"{furthest - head} entr{'y' if furthest - head == 1 else 'ies'} removed from the "
                               "end (or the database restored from an older copy)", len(heads), furthest)
        start_seq, start_prev = _chain_start(session)
        if start_seq - 1 in wanted and wanted[start_seq - 1] != {start_prev}:  # the last one purged
            return disagrees(start_seq - 1, start_prev)
        rows = session.execute(select(AuditEntry.seq, AuditEntry.hash).where(AuditEntry.seq >= start_seq)
                               .order_by(AuditEntry.seq).execution_options(yield_per=5000))
        for seq, hash_ in rows:
            if seq in wanted and wanted[seq] != {hash_}:
                return disagrees(seq, hash_)
    return AnchorCheck(None, len(heads), furthest)


def _details(raw: str | None) -> dict:
    try:
        data = json.loads(raw or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def recent(store: Store, limit: int = 200, action: str | None = None) -> list[EntryView]:
    """The newest entries first (the audit screen)."""
    with store.read() as session:
        query = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit)
        if action:
            query = query.where(AuditEntry.action == action)
        return [_view(e) for e in session.execute(query).scalars()]


def _view(entry: AuditEntry) -> EntryView:
    return EntryView(entry.seq or 0, _as_utc(entry.at), entry.agent, entry.host, entry.action,
                     entry.target_type, entry.target_id, entry.details)


def iter_entries(store: Store, since: datetime) -> Iterable[dict]:
    with store.read() as session:
        rows = session.execute(select(AuditEntry).where(AuditEntry.at >= since).order_by(AuditEntry.seq)
                               .execution_options(yield_per=1000)).scalars()
        for entry in rows:
            yield {"seq": entry.seq, "at": canonical_at(entry.at), "agent": entry.agent, "host": entry.host,
                   "action": entry.action, "target_type": entry.target_type, "target_id": entry.target_id,
                   "details": entry.details, "prev_hash": entry.prev_hash, "hash": entry.hash}


def export(store: Store, since: datetime, fmt: str, out: TextIO) -> int:
    """Write the entries from ``since`` on as CSV or JSON (an array); the count."""
    from counter.exports import write_audit

    return write_audit(iter_entries(store, since), fmt, out)


@dataclass(frozen=True, slots=True)
class PurgeReport:
    audit_entries: int
    drafts: int
    cached: int


def purge(store: Store, actor: Actor, older_than: datetime, drafts_older_than: datetime | None = None) -> PurgeReport:
    """Remove audit entries before ``older_than``, drafts not touched since
    ``drafts_older_than`` (default: the same) and cached agency data; then
    leave a checkpoint entry holding the hash of the last entry removed, so the
    chain still verifies from there on."""
    from counter.store.models import Creche, Visit

    drafts_older_than = drafts_older_than or older_than
    with store.write() as session:
        lock_head(session.connection())
        # Only a prefix of the chain goes: the entries before the first one to keep.
        first_kept = session.execute(select(func.min(AuditEntry.seq)).where(AuditEntry.at >= older_than)).scalar()
        cut = session.execute(select(func.max(AuditEntry.seq)).where(AuditEntry.at < older_than)
                              .where(AuditEntry.seq < first_kept if first_kept is not None else True)).scalar()
        removed = 0
        last_hash = None
        if cut is not None:
            last_hash = session.execute(select(AuditEntry.hash).where(AuditEntry.seq == cut)).scalar()
            removed = session.execute(delete(AuditEntry).where(AuditEntry.seq <= cut)).rowcount
        drafts = session.execute(delete(Visit).where(Visit.state == "draft")
                                 .where(Visit.updated_at < drafts_older_than)).rowcount
        # The town's crèche waiting-list figures are the only agency data kept locally.
        cached = session.execute(
            Creche.__table__.update().where(Creche.waiting_list_as_of < older_than)
            .values(waiting_list_length=None, waiting_list_as_of=None)).rowcount
        if cut is not None:
            session.add(AuditEntry(agent=actor.login, host=actor.host, action=CHECKPOINT, target_type="audit",
                                   target_id=str(cut),
                                   details=json.dumps({"last_removed_seq": cut, "last_removed_hash": last_hash,
                                                       "removed": removed, "drafts": drafts},
                                                      sort_keys=True)))
        else:
            session.add(AuditEntry(agent=actor.login, host=actor.host, action="audit.purge", target_type="audit",
                                   details=json.dumps({"removed": 0, "drafts": drafts}, sort_keys=True)))
    return PurgeReport(removed, drafts, cached)
