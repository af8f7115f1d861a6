"""`counter tour prepare --appointments` and `counter tour purge-dossiers` as administrators run
them: English, exit statuses 0/1/2, one line and nothing written for a bad appointments file.
On the training town (SQLite), whose families the emulated agencies know."""

from __future__ import annotations

import os
import shutil
import stat

import pytest
from sqlalchemy import text

from counter.cli import main
from counter.store.engine import Store

ADMIN = "counter"


@pytest.fixture
def town(town_database, tmp_path, monkeypatch):
    """The training town's copy (training's own database), a route (the street of its first
    household) and two of that street's households, one household elsewhere."""
    monkeypatch.delenv("COUNTER_HOME")  # each configuration's data_dir: the town's, the bus's
    path = tmp_path / "town-data" / "training" / "counter.sqlite3"
    path.parent.mkdir(parents=True, mode=0o700)
    shutil.copyfile(town_database, path)
    url = f"sqlite:///{path}"
    store = Store(url)
    try:
        with store.engine.connect() as connection:
            rows = connection.execute(text("SELECT h.id, a.street_id FROM household h JOIN address a ON "
                                           "a.id = h.address_id WHERE a.street_id IS NOT NULL ORDER BY h.id")).all()
    finally:
        store.dispose()
    street = rows[0].street_id
    on_route = [r.id for r in rows if r.street_id == street][:2]
    away = next(r.id for r in rows if r.street_id != street)
    config = tmp_path / "town.toml"
    config.write_text(f'mode = "training"\ndata_dir = "{tmp_path / "town-data"}"\n', encoding="utf-8")
    return {"config": str(config), "street": street, "on_route": on_route, "away": away, "url": url}


def bus_config(tmp_path, town) -> str:
    """The bus's: its [database] is the replica (a training configuration has no [mobile])."""
    config = tmp_path / "bus.toml"
    replica = tmp_path / "bus-data" / "training" / "counter.sqlite3"
    config.write_text(f'data_dir = "{tmp_path / "bus-data"}"\n[database]\nurl = "sqlite:///{replica}"\n'
                      f'[mobile]\nbus = "bus-1"\ncentral_url = "{town["url"]}"\n', encoding="utf-8")
    return str(config)


def run(argv) -> int:
    try:
        return main(argv, agent_login=ADMIN)
    except SystemExit as exc:  # argparse's usage errors
        return exc.code


def prepare_argv(town, replica, appointments) -> list[str]:
    return ["--config", town["config"], "tour", "prepare", "--replica", str(replica), "--bus", "bus-1",
            "--street", str(town["street"]), "--appointments", str(appointments)]


def test_prepare_with_appointments_then_purge(town, tmp_path, capsys):
    appointments = tmp_path / "rdv.txt"
    appointments.write_text("# the day's appointments\n" + "\n".join(f"{h}  # {9 + i} h"
                                                                    for i, h in enumerate(town["on_route"])) + "\n")
    replica = tmp_path / "bus-data" / "training" / "counter.sqlite3"
    assert run(prepare_argv(town, replica, appointments)) == 0
    out = capsys.readouterr().out
    assert "dossiers of 2 appointment household(s) taken along:" in out
    store = Store(f"sqlite:///{replica}")
    try:
        with store.engine.connect() as connection:
            households = set(connection.execute(text("SELECT DISTINCT household_id FROM tour_dossier")).scalars())
            answers = connection.execute(text("SELECT count(*) FROM tour_dossier")).scalar()
    finally:
        store.dispose()
    assert households == set(town["on_route"]) and answers > 0
    assert f"{answers} agency answers" in out
    assert stat.S_IMODE(os.stat(replica).st_mode) == 0o600

    # The town here is the training one (its agencies emulated): a real bus's replica is
    # production data, as the bus's production configuration requires.
    store = Store(f"sqlite:///{replica}")
    with store.write_connection() as connection:
        connection.exec_driver_sql("UPDATE store_meta SET value = 'production' WHERE key = 'dataset'")
    store.dispose()
    bus = bus_config(tmp_path, town)
    assert run(["--config", bus, "tour", "purge-dossiers"]) == 0
    assert capsys.readouterr().out.strip() == f"{answers} dossier answer(s) taken along deleted"
    assert run(["--config", bus, "tour", "purge-dossiers"]) == 0
    assert capsys.readouterr().out.strip() == "no dossier answer to delete"
    # With the town's configuration: refused (the answers are in the bus's replica).
    assert run(["--config", town["config"], "tour", "purge-dossiers"]) == 2
    err = capsys.readouterr().err
    assert "give the bus's configuration" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("content, said", [
    ("12\nabc\n", "line 2: 'abc' is not a household id (a whole number above 0)"),
    ("# nobody today\n", "no household id in it"),
    (b"\xff\xfe1\x002\x00", "is not UTF-8 text"),
    (None, "cannot read the appointments file"),
    ("AWAY\n", "do not live on the tour's route (--street): their dossiers stay at the town hall"),
    ("987654321\n", "unknown household id(s) in the appointments: 987654321"),
])
def test_bad_appointment_files_are_one_line_and_write_nothing(town, tmp_path, capsys, content, said):
    appointments = tmp_path / "rdv.txt"
    if isinstance(content, bytes):
        appointments.write_bytes(content)
    elif content is not None:
        appointments.write_text(content.replace("AWAY", str(town["away"])), encoding="utf-8")
    replica = tmp_path / "tour" / "replica.sqlite3"
    assert run(prepare_argv(town, replica, appointments)) == 2
    err = capsys.readouterr().err
    assert said in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert err.startswith("counter tour prepare: ") and err.strip().endswith("nothing written")
    assert not replica.exists() and not list(tmp_path.glob("tour/.*"))
    store = Store(town["url"])
    try:
        with store.engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM audit_entry WHERE action IN "
                                           "('dossier.consult', 'tour.prepare')")).scalar() == 0
    finally:
        store.dispose()
