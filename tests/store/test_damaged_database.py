"""A damaged or emptied database: named as such for the agent (French) and the
administrator (English), found by `counter doctor`, never replaced quietly."""

from __future__ import annotations

import shutil
from pathlib import Path

import keyring
import pytest

from counter.cli import main
from tests.damage import WAYS, damage, production_database

DAMAGED_FR = "la base de données locale est endommagée"
BACKUP_FR = "restaurer la dernière sauvegarde"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    return production_database(tmp_path_factory.mktemp("pristine") / "prod.sqlite3")


@pytest.fixture
def memory_keyring():
    from tests.memory_keyring import MemoryKeyring

    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    yield
    keyring.set_keyring(previous)


def production(tmp_path: Path, database: Path) -> str:
    config = tmp_path / "counter.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{database}"\n', encoding="utf-8")
    return str(config)


def copy_of(pristine: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "prod.sqlite3"
    shutil.copyfile(pristine, copy)
    return copy


def doctor_line(out: str, name: str) -> str:
    return next((line for line in out.splitlines() if line.startswith(name)), "")


@pytest.mark.parametrize("how", WAYS)
def test_doctor_fails_on_a_damaged_file_and_says_why(pristine, tmp_path, capsys, memory_keyring, how):
    config = production(tmp_path, damage(copy_of(pristine, tmp_path), how))
    assert main(["--config", config, "doctor"]) == 1
    out = capsys.readouterr().out
    integrity = doctor_line(out, "integrity")
    assert "[FAIL]" in integrity and "is damaged (integrity_check" in integrity
    assert "restore the last backup" in integrity
    # The database check no longer calls a damaged file "unreachable".
    assert "unreachable" not in out


def test_doctor_passes_an_intact_file(pristine, tmp_path, capsys, memory_keyring):
    assert main(["--config", production(tmp_path, copy_of(pristine, tmp_path)), "doctor"]) == 0
    assert "[  ok]  integrity_check: ok" in doctor_line(capsys.readouterr().out, "integrity")


@pytest.mark.parametrize("how", ["truncated", "header"])
def test_the_service_start_names_the_damage_in_one_line(pristine, tmp_path, capsys, how):
    """The service opens the production database before it serves: a damaged file stops
    it with the administrator told what to do (the agents' terminals then say the service
    is gone; a file damaged later is named to them in French, see tests/pilot)."""
    config = production(tmp_path, damage(copy_of(pristine, tmp_path), how))
    assert main(["--config", config, "serve"]) == 1
    err = capsys.readouterr().err
    assert "the database is damaged (SQLITE_" in err and "restore the last backup" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("how", ["truncated", "header"])
def test_administrators_commands_name_the_damage(pristine, tmp_path, capsys, how):
    config = production(tmp_path, damage(copy_of(pristine, tmp_path), how))
    assert main(["--config", config, "agents", "list"]) == 1
    err = capsys.readouterr().err
    assert "the database is damaged (SQLITE_" in err and "restore the last backup" in err


# -- an empty file -----------------------------------------------------------------------------


def test_an_empty_production_file_is_never_made_a_new_database(tmp_path, capsys, memory_keyring):
    empty = tmp_path / "prod.sqlite3"
    empty.touch()
    config = production(tmp_path, empty)
    assert main(["--config", config, "db", "upgrade"]) == 1
    assert "is empty (0 bytes), probably truncated: restore the last backup" in capsys.readouterr().err
    assert main(["--config", config, "serve"]) == 1  # the service refuses it too
    err = capsys.readouterr().err
    assert "is empty (0 bytes), probably truncated: restore the last backup" in err
    assert main(["--config", config, "doctor"]) == 1
    assert "[FAIL]" in doctor_line(capsys.readouterr().out, "database")
    assert empty.stat().st_size == 0  # nothing wrote a database in its place
    # Created on purpose: the empty file removed, then `db upgrade`.
    empty.unlink()
    assert main(["--config", config, "db", "upgrade"]) == 0


def test_an_empty_training_file_is_built_again(isolated_environment, capsys):
    from counter.runtime import TRAINING_DB

    database = isolated_environment / TRAINING_DB
    database.parent.mkdir(parents=True, exist_ok=True)
    database.touch()
    assert main(["doctor"]) == 0
    assert "empty, built again on next start" in doctor_line(capsys.readouterr().out, "database")
    from fixtures.training import prepare_training_store

    store = prepare_training_store(f"sqlite:///{database}")
    try:
        with store.engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT count(*) FROM person").scalar_one() > 1000
    finally:
        store.dispose()


# -- PostgreSQL --------------------------------------------------------------------------------


def test_the_integrity_check_on_each_database(store):
    from counter.store import integrity

    result = integrity.check(store)
    if store.is_sqlite:
        assert result.checked and result.problems == ()
    else:  # the server's own tools check it; doctor says which, without failing
        assert not result.checked and "pg_amcheck" in result.method
