"""`counter train --reset`: back to the pristine fictional town between two groups."""

from __future__ import annotations

import shutil

from sqlalchemy import text

from counter.cli import main
from counter.store.engine import Store


def test_reset_recreates_the_training_database_from_the_fixtures(isolated_environment, town_database, capsys):
    training = isolated_environment / "training"
    training.mkdir(parents=True)
    database = training / "counter.sqlite3"
    shutil.copyfile(town_database, database)
    shutil.copyfile(town_database, training / "replay-base.sqlite3")
    bus = training / "bus"  # the bus scenario's replica, taken from this town
    bus.mkdir(mode=0o700)
    for name in ("bus-itinerant-bus-1.sqlite3", "bus-itinerant-bus-1.sqlite3-wal"):
        (bus / name).write_bytes(b"")
    store = Store(f"sqlite:///{database}")
    with store.engine.begin() as connection:  # what a group of trainees leaves behind
        connection.execute(text("UPDATE person SET birth_name = 'ESSAI' WHERE id = 1"))
        connection.execute(text("DELETE FROM household_member WHERE household_id = 2"))
    store.dispose()

    assert main(["train", "--reset"]) == 0
    out = capsys.readouterr().out
    assert f"Remise à zéro de la base de formation : {database}" in out
    assert "Ville fictive recréée : 20\u202f055 habitants, 8\u202f000 foyers" in out

    store = Store(f"sqlite:///{database}")
    with store.engine.connect() as connection:
        assert connection.execute(text("SELECT birth_name FROM person WHERE id = 1")).scalar_one() != "ESSAI"
        assert connection.execute(text("SELECT count(*) FROM household_member WHERE household_id = 2")).scalar_one()
        assert connection.execute(text("SELECT count(*) FROM visit")).scalar_one() == 0
    store.dispose()
    assert not (training / "replay-base.sqlite3").exists()  # rebuilt by the next replay
    assert list(bus.iterdir()) == []  # prepared again from the new town by the next `counter train bus-itinerant`
