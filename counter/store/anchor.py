"""The audit chain's head, published outside the database.

The ``audit_head`` row anchors the chain inside the database: someone able to
empty ``audit_entry`` and ``audit_head`` together leaves a chain that verifies
("0 entries"). So the head — the database's identity, the last sequence number
and its hash, no personal data — is also published where the database cannot
rewrite it: to syslog (``/dev/log``: journald or rsyslog) or appended to a file.
It is published after each committed write that appended audit entries
(:meth:`counter.store.engine.Store.write`) and by ``counter audit verify``;
``audit verify --anchor FILE|journal`` reads them back (:func:`read_published`)
and checks the chain against every one (counter.services.audit.against_published).

Publishing never fails a write: the write is committed by then. A target that
cannot be written is logged, and ``counter doctor`` says so.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

SYSLOG = "syslog"
JOURNAL = "journal"
SYSLOG_ADDRESS = "/dev/log"
IDENT = "counter-audit"  # the syslog tag: `journalctl -t counter-audit`
ANCHOR_FILE = "training/audit-anchor.log"  # training's default, under the data directory
FILE_MODE = 0o640
IDENTITY_KEY = "database_id"  # store_meta

_LINE = re.compile(r"counter-audit-head db=([0-9a-f]{32}) seq=(\d{1,19}) hash=([0-9a-f]{64}|-)")
_log = logging.getLogger("counter")


@dataclass(frozen=True)
class Head:
    database: str  # the database's identity (store_meta database_id)
    seq: int
    hash: str  # "" before the first entry

    def line(self) -> str:
        return f"counter-audit-head db={self.database} seq={self.seq} hash={self.hash or '-'}"


class AnchorError(Exception):
    """The published heads cannot be read; the message is for administrators."""


def identity(store) -> str:
    """The database's identity, created on first use (a random id in store_meta)."""
    with store.engine.connect() as connection:
        found = connection.execute(text("SELECT value FROM store_meta WHERE key = :k"), {"k": IDENTITY_KEY}).scalar()
    if found:
        return found
    with store.write_connection() as connection:  # two counters at once: the first one's id stays
        connection.execute(text("INSERT INTO store_meta (key, value) VALUES (:k, :v) ON CONFLICT (key) DO NOTHING"),
                           {"k": IDENTITY_KEY, "v": uuid.uuid4().hex})
        return connection.execute(text("SELECT value FROM store_meta WHERE key = :k"), {"k": IDENTITY_KEY}).scalar()


def known_identity(store) -> str | None:
    """The database's identity if it has one (never creates it)."""
    with store.engine.connect() as connection:
        return connection.execute(text("SELECT value FROM store_meta WHERE key = :k"), {"k": IDENTITY_KEY}).scalar()


def current_head(store) -> Head:
    with store.engine.connect() as connection:
        row = connection.execute(text("SELECT seq, hash FROM audit_head WHERE id = 1")).first()
    seq, hash_ = (int(row[0]), row[1] or "") if row else (0, "")
    return Head(identity(store), seq, hash_)


class Anchor:
    """Where heads are published. ``publish`` never raises."""

    target = ""

    def __init__(self) -> None:
        self._identity: str | None = None
        self._lock = threading.Lock()
        self._failing = False

    def after_commit(self, store, chained: tuple[int, str]) -> None:
        """Store.write: a transaction that appended audit entries was committed."""
        try:
            if self._identity is None:
                self._identity = identity(store)
            self.publish(Head(self._identity, *chained))
        except Exception as exc:  # noqa: BLE001 — the write is committed: say so, once until it works again
            if not self._failing:
                _log.warning("audit head not published to %s: %s", self.target, _reason(exc))
            self._failing = True
        else:
            self._failing = False

    def publish_current(self, store) -> str | None:
        """Publish the head as it is now (`audit verify`); why it failed, or None."""
        try:
            self.publish(current_head(store))
        except Exception as exc:  # noqa: BLE001 — reported by the caller
            return f"audit head not published to {self.target}: {_reason(exc)}"
        return None

    def publish(self, head: Head) -> None:
        raise NotImplementedError


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or type(exc).__name__


class FileAnchor(Anchor):
    """Appends one line per head (the file can be made append-only: chattr +a)."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self.target = str(path)

    def publish(self, head: Head) -> None:
        moment = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        data = f"{moment} {head.line()}\n".encode("ascii")
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
            try:
                os.write(descriptor, data)  # one write of one short line: never interleaved
            finally:
                os.close(descriptor)


class SyslogAnchor(Anchor):
    """Sends each head to the local syslog socket (journald or rsyslog), tag ``counter-audit``."""

    def __init__(self, address: str = SYSLOG_ADDRESS) -> None:
        super().__init__()
        self.address = address
        self.target = f"syslog ({address})"
        self._handler = None

    def publish(self, head: Head) -> None:
        from logging.handlers import SysLogHandler

        with self._lock:
            if self._handler is None:
                handler = SysLogHandler(address=self.address, facility=SysLogHandler.LOG_USER)
                handler.ident = f"{IDENT}[{os.getpid()}]: "
                handler.handleError = _reraise  # the caller reports it, never a traceback on a terminal
                self._handler = handler
            self._handler.handle(logging.makeLogRecord(
                {"msg": head.line(), "levelno": logging.INFO, "levelname": "INFO"}))


def _reraise(_record) -> None:
    raise  # noqa: PLE0704 — called by SysLogHandler.emit inside its except block


def anchor_for(target: str) -> Anchor:
    return SyslogAnchor() if target == SYSLOG else FileAnchor(Path(target))


def target_for(runtime) -> str:
    """``[audit] anchor``, else syslog in production and a file under the data directory in training."""
    if runtime.audit_anchor:
        return runtime.audit_anchor
    return str(runtime.data_dir / ANCHOR_FILE) if runtime.training else SYSLOG


# -- reading them back ------------------------------------------------------------------------


def heads_in(lines: Iterable[str]) -> Iterable[Head]:
    for line in lines:
        found = _LINE.search(line)
        if found:
            yield Head(found[1], int(found[2]), "" if found[3] == "-" else found[3])


def _lines(source: str) -> Iterable[str]:
    if source == JOURNAL:
        yield from _journal_lines()
        return
    try:
        with open(source, encoding="utf-8", errors="replace") as handle:
            yield from handle
    except OSError as exc:
        raise AnchorError(f"cannot read the anchor {source}: {exc.strerror or type(exc).__name__}") from None


def _journal_lines() -> Iterable[str]:
    import shutil
    import subprocess

    journalctl = shutil.which("journalctl")
    if journalctl is None:
        raise AnchorError("'--anchor journal' needs journalctl, which this machine does not have (no systemd "
                          "journal): give the file syslog writes to instead, e.g. --anchor /var/log/syslog")
    with subprocess.Popen([journalctl, "--no-pager", "-q", "-o", "cat", "-t", IDENT], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, errors="replace") as process:
        yield from process.stdout
        problem = process.stderr.read().strip()
    if process.returncode != 0:
        first = problem.splitlines()[0] if problem else f"exit status {process.returncode}"
        raise AnchorError(f"journalctl failed: {first}")


def read_published(source: str, database: str) -> list[Head]:
    """Every head published for ``database`` in ``source`` (a file or "journal"), in order.

    All of them are checked, not only the last line: a later line (written by
    `audit verify` after the trail was emptied or rewritten, or by any local
    user: the syslog socket is open to all) must not hide an earlier one.
    """
    return [head for head in heads_in(_lines(source)) if head.database == database]
