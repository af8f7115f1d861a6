"""`counter tour prepare|sync|report` as administrators run them: the town's configuration,
then the bus's; English, exit statuses 0/1/2, no traceback, no names in the report."""

from __future__ import annotations

from sqlalchemy import text

from counter.cli import main
from counter.store.engine import Store
from tests.store.test_tour_sync import CLOCK, new_family_on, school_visit_on, town  # noqa: F401 (a fixture)

ADMIN = "admin"


def configs(tmp_path, database_url: str, replica) -> tuple[str, str]:
    central = tmp_path / "town.toml"
    central.write_text(f'data_dir = "{tmp_path / "town-data"}"\n[database]\nurl = "{database_url}"\n'
                       f'[audit]\nanchor = "{tmp_path / "anchor.log"}"\n', encoding="utf-8")
    bus = tmp_path / "bus.toml"
    bus.write_text(f'data_dir = "{tmp_path / "bus-data"}"\n[database]\nurl = "sqlite:///{replica}"\n'
                   f'[audit]\nanchor = "{tmp_path / "bus-anchor.log"}"\n'
                   f'[mobile]\nbus = "bus-1"\ncentral_url = "{database_url}"\n', encoding="utf-8")
    return str(central), str(bus)


def test_prepare_sync_and_report_from_the_command_line(store, database_url, town, tmp_path, capsys):
    replica_path = tmp_path / "tour" / "replica.sqlite3"
    central, bus = configs(tmp_path, database_url, replica_path)
    assert main(["--config", central, "tour", "prepare", "--replica", str(replica_path), "--bus", "bus-1",
                 "--street", str(town["street"])], agent_login=ADMIN) == 0
    out = capsys.readouterr().out
    assert "replica for bus-1 written to" in out and "1 households, 2 persons" in out
    replica = Store(f"sqlite:///{replica_path}")
    try:
        household, child = new_family_on(replica, town["street"])
        code, _ = school_visit_on(replica, household, child, town["school"])
    finally:
        replica.dispose()
    with store.write() as session:  # meanwhile the town hall gave the last place away
        session.execute(text("UPDATE school_capacity SET booked = capacity"))

    assert main(["--config", bus, "tour", "sync"], agent_login=ADMIN) == 0
    out = capsys.readouterr().out
    assert "bus-1: households 1 created, 0 joined" in out and "visits 1 confirmed, 0 refused" in out
    assert f"bus-1:visit:{code}: school registration" in out and "is waiting list, not registered" in out
    assert main(["--config", bus, "tour", "sync"], agent_login=ADMIN) == 0
    assert "nothing new to send" in capsys.readouterr().out

    for config in (bus, central):  # what this bus heard back; what every bus sent
        assert main(["--config", config, "tour", "report"], agent_login=ADMIN) == 0
        out = capsys.readouterr().out
        assert "tell the family" in out and code in out
        assert "OKONKWO" not in out.upper() and "Chiara" not in out  # no names
    with store.engine.connect() as connection:
        agents = set(connection.execute(text("SELECT agent FROM audit_entry WHERE action LIKE 'tour.%'")).scalars())
    assert agents == {ADMIN}


def test_mistakes_are_one_line_and_write_nothing(store, database_url, town, tmp_path, capsys):
    replica_path = tmp_path / "tour" / "replica.sqlite3"
    central, bus = configs(tmp_path, database_url, replica_path)
    cases = [
        (["--config", central, "tour", "prepare", "--replica", str(replica_path), "--bus", "Bus 1"], 2,
         "invalid bus name"),
        (["--config", central, "tour", "prepare", "--replica", str(replica_path), "--bus", "bus-1",
          "--street", "987654"], 2, "unknown street"),
        (["--config", central, "tour", "prepare", "--replica", str(replica_path), "--bus", "bus-1",
          "--street", "x"], 2, "not a whole number"),
        (["--config", central, "tour", "sync"], 2, "[mobile]"),
        (["--config", bus, "tour", "prepare", "--replica", str(replica_path), "--bus", "bus-1"], 2,
         "bus's configuration"),
    ]
    for argv, status, said in cases:
        try:
            got = main(argv, agent_login=ADMIN)
        except SystemExit as exc:  # argparse's usage errors
            got = exc.code
        assert got == status, argv
        err = capsys.readouterr().err
        assert said in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert not replica_path.exists()


def test_a_town_database_out_of_reach_is_said(store, database_url, town, tmp_path, capsys):
    replica_path = tmp_path / "tour" / "replica.sqlite3"
    central, _ = configs(tmp_path, database_url, replica_path)
    assert main(["--config", central, "tour", "prepare", "--replica", str(replica_path), "--bus", "bus-1"],
                agent_login=ADMIN) == 0
    bus = tmp_path / "far.toml"
    bus.write_text(f'data_dir = "{tmp_path / "bus-data"}"\n[database]\nurl = "sqlite:///{replica_path}"\n'
                   f'[audit]\nanchor = "{tmp_path / "bus-anchor.log"}"\n'
                   '[mobile]\nbus = "bus-1"\ncentral_url = "postgresql://counter:secret@127.0.0.1:1/town"\n',
                   encoding="utf-8")
    capsys.readouterr()
    assert main(["--config", str(bus), "tour", "sync"], agent_login=ADMIN) == 1
    err = capsys.readouterr().err
    assert "the town's database cannot be reached" in err and "secret" not in err and "Traceback" not in err


def test_the_town_database_password_comes_from_the_bus_keyring(store, database_url, town, tmp_path, capsys,
                                                              monkeypatch):
    import io

    import keyring
    from sqlalchemy.engine import make_url

    from counter.cli.tour import _central_url
    from tests.memory_keyring import MemoryKeyring

    _, bus = configs(tmp_path, database_url, tmp_path / "tour" / "replica.sqlite3")
    previous, memory = keyring.get_keyring(), MemoryKeyring()
    keyring.set_keyring(memory)
    try:
        monkeypatch.setattr("sys.stdin", io.StringIO("p@ss word\n"))
        assert main(["--config", bus, "credentials", "set", "mobile.central"], agent_login=ADMIN) == 0
        assert memory.secrets[("counter", "mobile.central")] == "p@ss word"
        url, note = _central_url("postgresql://counter_bus@db.mairie.local/counter")
        assert make_url(url).password == "p@ss word" and note is None
        given, _ = _central_url("postgresql://counter_bus:given@db.mairie.local/counter")
        assert make_url(given).password == "given"  # a password in the URL wins
    finally:
        keyring.set_keyring(previous)
    assert "p@ss" not in capsys.readouterr().out
