"""The audit chain's head published outside the database (issue 11, point 10):
emptying the trail and its head, or rewriting it consistently, is caught by
`counter audit verify --anchor`, on SQLite and PostgreSQL."""

from __future__ import annotations

import getpass
import re
import socket
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import select

from counter.cli import main
from counter.store.engine import Store

HEAD_LINE = re.compile(r"\d{4}-\d\d-\d\dT[\d:.]+Z counter-audit-head db=[0-9a-f]{32} seq=\d+ hash=([0-9a-f]{64}|-)")


@pytest.fixture
def production(tmp_path, database_url):
    """A production set-up publishing to a file: (config path, store, anchor file)."""
    anchor = tmp_path / "anchor" / "audit-anchor.log"
    config = tmp_path / "counter.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\n[database]\nurl = "{database_url}"\n'
                      f'[audit]\nanchor = "{anchor}"\n', encoding="utf-8")
    path = str(config)
    assert main(["--config", path, "db", "upgrade"]) == 0
    assert main(["--config", path, "agents", "add", getpass.getuser(), "--role", "supervisor"]) == 0
    assert main(["--config", path, "agents", "add", "mdupont", "--role", "agent"]) == 0
    store = Store(database_url)
    yield path, store, anchor
    store.dispose()


def published(anchor) -> list[str]:
    return anchor.read_text(encoding="ascii").splitlines()


def test_each_audited_write_publishes_the_head_and_nothing_else(production):
    path, store, anchor = production
    lines = published(anchor)
    assert len(lines) == 2 and all(HEAD_LINE.fullmatch(line) for line in lines)  # seq, hash: no login, no name
    with store.engine.connect() as connection:
        seq, hash_ = connection.execute(text("SELECT seq, hash FROM audit_head")).one()
    assert lines[-1].endswith(f" seq={seq} hash={hash_}") and seq == 2
    assert anchor.stat().st_mode & 0o777 == 0o640


def test_emptying_the_trail_and_its_head_is_caught_by_the_anchor(production, capsys):
    path, store, anchor = production
    assert main(["--config", path, "audit", "verify", "--anchor", str(anchor)]) == 0
    assert "chain intact: 2 entries; it holds the 2 head(s) published" in capsys.readouterr().out
    with store.write_connection() as connection:
        connection.exec_driver_sql("DELETE FROM audit_entry")
        connection.exec_driver_sql("DELETE FROM audit_head")
    # Inside the database nothing is left to disagree with ...
    assert main(["--config", path, "audit", "verify"]) == 0
    assert "chain intact: 0 entries" in capsys.readouterr().out
    # ... and that verify published the emptied head: it must not hide the earlier ones.
    assert published(anchor)[-1].endswith(" seq=0 hash=-")
    assert main(["--config", path, "audit", "verify", "--anchor", str(anchor)]) == 1
    err = capsys.readouterr().err
    assert "the chain ends at entry 0, but entry 2 was published: 2 entries removed from the end" in err


def test_a_chain_rewritten_consistently_disagrees_with_the_anchor(production, capsys):
    from counter.store.audit_chain import hash_of
    from counter.store.models import AuditEntry

    path, store, anchor = production
    # Someone with the database's password rewrites entry 1 and re-hashes everything after it.
    with store.write() as session:
        entries = session.exec(select(AuditEntry).order_by(AuditEntry.seq)).all()
        entries[0].target_id = "quelqu_un"
        previous = ""
        for entry in entries:
            entry.prev_hash = previous
            entry.hash = previous = hash_of(entry)
        session.flush()
        session.execute(text("UPDATE audit_head SET hash = :h"), {"h": previous})
    assert main(["--config", path, "audit", "verify"]) == 0  # the chain alone holds
    capsys.readouterr()
    assert main(["--config", path, "audit", "verify", "--anchor", str(anchor)]) == 1
    assert "entry 1 disagrees with the head published for it" in capsys.readouterr().err


def test_a_purged_prefix_still_verifies_against_the_anchor(production, capsys):
    path, store, anchor = production
    with store.write_connection() as connection:  # the two entries are two years old
        connection.execute(text("UPDATE audit_entry SET at = :t"), {"t": datetime.now(UTC) - timedelta(days=730)})
    # (their hashes cover their time: the chain is re-made as the migration would, then published)
    from counter.store.audit_chain import hash_of
    from counter.store.models import AuditEntry

    with store.write() as session:
        previous = ""
        for entry in session.exec(select(AuditEntry).order_by(AuditEntry.seq)).all():
            entry.prev_hash = previous
            entry.hash = previous = hash_of(entry)
        session.flush()
        session.execute(text("UPDATE audit_head SET hash = :h"), {"h": previous})
    anchor.unlink()
    assert main(["--config", path, "audit", "verify"]) == 0  # publishes the re-made head
    assert main(["--config", path, "purge", "--older-than", "1y"]) == 0
    capsys.readouterr()
    assert main(["--config", path, "audit", "verify", "--anchor", str(anchor)]) == 0
    assert "chain intact: 1 entries; it holds the 2 head(s)" in capsys.readouterr().out


def test_an_anchor_without_this_database_or_unreadable_fails_clearly(production, capsys, tmp_path, monkeypatch):
    path, store, anchor = production
    other = tmp_path / "other.log"
    other.write_text("Nov 25 10:00:00 host counter-audit[1]: counter-audit-head db=" + "0" * 32
                     + " seq=9 hash=-\n", encoding="ascii")
    assert main(["--config", path, "audit", "verify", "--anchor", str(other)]) == 1
    assert "chain not anchored: no head of this database" in capsys.readouterr().err
    assert main(["--config", path, "audit", "verify", "--anchor", str(tmp_path / "missing.log")]) == 2
    assert "cannot read the anchor" in capsys.readouterr().err
    monkeypatch.setenv("PATH", str(tmp_path))  # no journalctl here
    assert main(["--config", path, "audit", "verify", "--anchor", "journal"]) == 2
    assert "needs journalctl, which this machine does not have" in capsys.readouterr().err


def test_the_syslog_anchor_sends_one_tagged_line(tmp_path):
    from counter.store.anchor import Head, SyslogAnchor

    address = str(tmp_path / "log.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(address)
    server.settimeout(30)
    try:
        SyslogAnchor(address).publish(Head("a" * 32, 7, "b" * 64))
        datagram = server.recv(4096).decode("ascii")
    finally:
        server.close()
    # <14>: facility user, severity info; the tag is what `journalctl -t counter-audit` selects.
    assert re.fullmatch(r"<14>counter-audit\[\d+\]: counter-audit-head db=a{32} seq=7 hash=b{64}\x00?", datagram)


# -- where it goes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("value, message", [
    ('anchor = "logs/anchor.log"', "key 'audit.anchor': must be \"syslog\" or an absolute file path"),
    ('anchor = "/var/log/counter/"', "key 'audit.anchor': must name a file, not a directory"),
    ('anchor = "journal"', "key 'audit.anchor': must be \"syslog\" or an absolute file path"),
    ('anchr = "syslog"', "unknown key 'audit.anchr'"),
])
def test_the_anchor_setting_is_strict(tmp_path, capsys, value, message):
    config = tmp_path / "counter.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "db.sqlite3"}"\n[audit]\n{value}\n', encoding="utf-8")
    assert main(["--config", str(config), "doctor"]) == 2
    assert message in capsys.readouterr().err


def test_doctor_says_where_the_head_goes(tmp_path, capsys, isolated_environment):
    main(["doctor"])  # training: a file under the data directory
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("audit anchor"))
    assert "[  ok]" in line and f"file {isolated_environment / 'training' / 'audit-anchor.log'}" in line
    config = tmp_path / "counter.toml"
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("", encoding="utf-8")
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "db.sqlite3"}"\n'
                      f'[audit]\nanchor = "{blocked / "anchor.log"}"\n', encoding="utf-8")
    assert main(["--config", str(config), "doctor"]) == 1
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("audit anchor"))
    assert "[FAIL]" in line and "cannot be appended to" in line


def test_training_publishes_to_a_file_under_its_data_directory(town_database, tmp_path):
    import shutil

    from counter.service.composition import open_store
    from counter.clock import FixedClock
    from counter.runtime import TRAINING_DB, Runtime
    from counter.services.audit import Actor, record

    database = tmp_path / TRAINING_DB
    database.parent.mkdir(parents=True)
    shutil.copyfile(town_database, database)
    runtime = Runtime(mode="training", data_dir=tmp_path, database_url=f"sqlite:///{database}",
                      clock=FixedClock(datetime(2026, 11, 25).date()), agent_login="formation")
    store = open_store(runtime)
    try:
        record(store, Actor("formation", "trainer", "poste-1", True), "nir.reveal", "person", 1)
    finally:
        store.dispose()
    lines = published(tmp_path / "training" / "audit-anchor.log")
    assert len(lines) == 1 and HEAD_LINE.fullmatch(lines[0])
