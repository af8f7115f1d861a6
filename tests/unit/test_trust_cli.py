"""`counter audit verify|export`, `counter purge`, durations, PINs and roles from the command line."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import select

from counter.cli import main
from counter.domain.durations import parse_duration
from counter.domain.permissions import allowed
from counter.domain.pins import PinError, check_rule, hash_pin, verify_pin
from counter.runtime import os_login
from counter.store.engine import Store


@pytest.fixture
def production(tmp_path):
    db = tmp_path / "counter.db"
    config = tmp_path / "counter.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\n[database]\nurl = "sqlite:///{db}"\n', encoding="utf-8")
    path = str(config)
    assert main(["--config", path, "db", "upgrade"]) == 0
    assert main(["--config", path, "agents", "add", os_login(), "--role", "supervisor"]) == 0
    assert main(["--config", path, "agents", "add", "mdupont", "--role", "agent"]) == 0
    store = Store(f"sqlite:///{db}")
    yield path, store
    store.dispose()


def test_verify_passes_then_names_an_edited_entry(production, capsys):
    path, store = production
    capsys.readouterr()
    assert main(["--config", path, "audit", "verify"]) == 0
    assert "chain intact: 2 entries" in capsys.readouterr().out
    with store.write_connection() as connection:
        connection.exec_driver_sql("UPDATE audit_entry SET target_id = 'quelqu_un' WHERE seq = 2")
    assert main(["--config", path, "audit", "verify"]) == 1
    err = capsys.readouterr().err
    assert "entry 2 (" in err and "agent.add) changed" in err


def test_verify_names_a_deleted_entry(production, capsys):
    path, store = production
    with store.write_connection() as connection:
        connection.exec_driver_sql("DELETE FROM audit_entry WHERE seq = 1")
    assert main(["--config", path, "audit", "verify"]) == 1
    assert "entry 1 " in capsys.readouterr().err and "removed" in capsys.readouterr().err + "removed"


@pytest.mark.parametrize("since", ["01/12/2020", "2020-12-01"])
def test_export_csv_and_json(production, capsys, tmp_path, since):
    path, _ = production
    capsys.readouterr()
    assert main(["--config", path, "audit", "export", "--since", since, "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["action"] for r in rows] == ["agent.add", "agent.add"]
    assert rows[1]["target_id"] == "mdupont" and len(rows[1]["hash"]) == 64
    out = tmp_path / "audit.json"
    assert main(["--config", path, "audit", "export", "--since", since, "--format", "json", "--out", str(out)]) == 0
    entries = json.loads(out.read_text(encoding="utf-8"))
    assert [e["seq"] for e in entries] == [1, 2]
    assert main(["--config", path, "audit", "export", "--since", "2999-01-01", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


@pytest.mark.parametrize("bad", ["31/02/2026", "yesterday", "", "2026-13-01"])
def test_export_bad_date_exits_2_in_one_line(production, capsys, bad):
    path, _ = production
    capsys.readouterr()
    assert main(["--config", path, "audit", "export", "--since", bad]) == 2
    err = capsys.readouterr().err
    assert "expected JJ/MM/AAAA or YYYY-MM-DD" in err and err.count("\n") == 1


def test_purge_keeps_the_chain_verifiable(production, capsys):
    path, store = production
    with store.write_connection() as connection:
        connection.execute(text("UPDATE audit_entry SET at = :old"), {"old": datetime.now(UTC) - timedelta(days=500)})
    # Rewriting the dates broke the chain (that is the point): rebuild it for the test's old entries.
    from counter.store.audit_chain import GENESIS, hash_of
    from counter.store.models import AuditEntry

    with store.write() as session:
        previous = GENESIS
        for entry in session.exec(select(AuditEntry).order_by(AuditEntry.seq)):
            entry.prev_hash, entry.hash = previous, None
            entry.hash = hash_of(entry)
            previous = entry.hash
        session.execute(text("UPDATE audit_head SET hash = :h"), {"h": previous})
    assert main(["--config", path, "audit", "verify"]) == 0
    assert main(["--config", path, "purge", "--older-than", "1y"]) == 0
    assert "purged: 2 audit entries" in capsys.readouterr().out
    assert main(["--config", path, "audit", "verify"]) == 0
    assert "chain intact: 1 entries" in capsys.readouterr().out


@pytest.mark.parametrize("bad", ["1", "y", "0d", "6 months", "-3d", "1e3d"])
def test_purge_bad_duration_exits_2(production, capsys, bad):
    path, _ = production
    assert main(["--config", path, "purge", f"--older-than={bad}"]) == 2
    assert "invalid duration" in capsys.readouterr().err


def test_parse_duration():
    assert parse_duration("30d") == timedelta(days=30)
    assert parse_duration("12w") == timedelta(days=84)
    assert parse_duration("6m") == timedelta(days=180)
    assert parse_duration("1Y") == timedelta(days=365)
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration("forever")


def test_an_agent_may_not_verify_export_purge_or_manage_agents_and_is_audited(production, capsys):
    path, store = production
    # The command acting as agent mdupont (tests/e2e/test_os_identity.py runs it as another OS account).
    for argv in (["audit", "verify"], ["audit", "export", "--since", "2020-01-01"], ["purge", "--older-than", "1y"],
                 ["agents", "add", "x", "--role", "agent"], ["agents", "disable", os_login()],
                 ["agents", "reset-pin", "mdupont"], ["outbox", "list"]):
        capsys.readouterr()
        assert main(["--config", path, *argv], agent_login="mdupont") == 2, argv
        assert "refused: 'mdupont' (role agent)" in capsys.readouterr().err
    with store.read() as session:
        forbidden = session.execute(text("SELECT count(*) FROM audit_entry WHERE action = 'forbidden' "
                                         "AND agent = 'mdupont'")).scalar()
    assert forbidden == 7
    assert main(["--config", path, "audit", "verify"], agent_login="nobody") == 2
    assert "not a registered agent" in capsys.readouterr().err


def test_a_supervisor_resets_a_pin(production, capsys):
    from counter.services.lock import LockService

    path, store = production
    LockService(store).set_pin("mdupont", "4821")
    assert LockService(store).has_pin("mdupont")
    assert main(["--config", path, "agents", "reset-pin", "mdupont"]) == 0
    assert not LockService(store).has_pin("mdupont")
    assert main(["--config", path, "agents", "reset-pin", "ghost"]) == 1


def test_roles():
    assert allowed("agent", "consult") and not allowed("agent", "outbox")
    assert allowed("supervisor", "audit.export") and allowed("supervisor", "cancel")
    assert allowed("trainer", "outbox", training=True) and not allowed("trainer", "consult")
    assert not allowed("", "search") and not allowed("agent", "no-such-action")


def test_pins_are_salted_slow_hashes():
    one, two = hash_pin("4821"), hash_pin("4821")
    assert one != two and one.startswith("scrypt$16384$8$1$") and "4821" not in one
    assert verify_pin("4821", one) and not verify_pin("4822", one) and not verify_pin("٤٨٢١", one)
    for bad in ("123", "123456789", "12a4", "", "４８２１"):
        with pytest.raises(PinError, match="de 4 à 8 chiffres"):
            check_rule(bad)


def test_retention_and_idle_lock_settings_are_validated(tmp_path):
    from counter.config import ConfigError
    from counter.runtime import resolve

    path = tmp_path / "c.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "x.db"}"\n[ui]\nidle_lock_minutes = 2\n'
                    '[retention]\naudit = "6m"\n', encoding="utf-8")
    runtime = resolve(str(path))
    assert (runtime.idle_lock_minutes, runtime.retention_audit, runtime.retention_drafts) == (2, "6m", "30d")
    path.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "x.db"}"\n[retention]\naudit = "forever"\n'
                    '[ui]\nidle_lock_minutes = 0\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        resolve(str(path))
    assert "retention.audit" in str(info.value) and "idle_lock_minutes" in str(info.value)


def test_training_refuses_a_remote_agency(tmp_path):
    from counter.config import ConfigError
    from counter.runtime import resolve

    path = tmp_path / "c.toml"
    path.write_text('mode = "training"\n[backends.city]\nkind = "city"\nbase_url = "https://famille.ville.fr"\n',
                    encoding="utf-8")
    with pytest.raises(ConfigError, match=r"backends\.city\.base_url.*loopback"):
        resolve(str(path))
    path.write_text('mode = "training"\n[backends.city]\nkind = "city"\nbase_url = "http://127.0.0.1:8702"\n',
                    encoding="utf-8")
    assert resolve(str(path)).backends["city"].base_url == "http://127.0.0.1:8702"


def test_production_refuses_a_training_database(tmp_path, capsys):
    from counter.store import dataset, migrate

    db = tmp_path / "t.db"
    store = Store(f"sqlite:///{db}")
    migrate.upgrade(store)
    dataset.ensure(store, "training")
    store.dispose()
    config = tmp_path / "c.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{db}"\n[service]\nsocket = "{tmp_path / "s.sock"}"\n',
                      encoding="utf-8")
    assert main(["--config", str(config), "serve"]) == 1  # the service refuses to start on it
    assert "données de formation" in capsys.readouterr().err


def test_a_trainer_is_refused_in_production(production, capsys, tmp_path):
    from counter.client.errors import Refused
    from tests.serving import serving

    path, _ = production
    assert main(["--config", path, "agents", "add", "formateur", "--role", "trainer"]) == 0
    with serving(path, "formateur", tmp_path) as client, pytest.raises(Refused) as refused:
        client.session()
    assert "formateur n'existe qu'en mode formation" in refused.value.problem.message
