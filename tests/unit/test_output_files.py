"""`--out`/`--output` write a new file or replace a regular one, never anything else:
a symbolic link, a FIFO, a device or a directory there is refused, nothing written."""

from __future__ import annotations

import os
import stat

import pytest
from sqlalchemy import text

from counter.cli import main
from counter.runtime import os_login
from counter.store.engine import Store
from tests.requirements import missing

KINDS = ("symlink", "fifo", "device", "directory", "dangling-symlink")


def make(kind: str, path, victim) -> None:
    """Put a ``kind`` at ``path``; a link points to ``victim`` (a file that must stay as it is)."""
    if kind == "symlink":
        os.symlink(victim, path)
    elif kind == "dangling-symlink":
        os.symlink(victim.with_name("nowhere"), path)
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        os.mkdir(path)
    elif os.geteuid() == 0:  # a private copy of /dev/null (never the system's device)
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    else:
        missing("creating a device node needs root (CI runs as root)")


def kind_of(path) -> int:
    return stat.S_IFMT(os.lstat(path).st_mode)


@pytest.fixture
def production(tmp_path):
    db = tmp_path / "counter.db"
    config = tmp_path / "counter.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\n[database]\nurl = "sqlite:///{db}"\n', encoding="utf-8")
    assert main(["--config", str(config), "db", "upgrade"]) == 0
    assert main(["--config", str(config), "agents", "add", os_login(), "--role", "supervisor"]) == 0
    store = Store(f"sqlite:///{db}")
    yield str(config), store
    store.dispose()


def exports(store) -> int:
    with store.engine.connect() as connection:
        return connection.execute(text(
            "SELECT count(*) FROM audit_entry WHERE action = 'registrations.export'")).scalar_one()


@pytest.mark.parametrize("command", [["export", "registrations", "--since", "2020-01-01", "--output"],
                                     ["audit", "export", "--since", "2020-01-01", "--out"]],
                         ids=["export-output", "audit-export-out"])
@pytest.mark.parametrize("kind", KINDS)
def test_an_export_never_replaces_what_is_not_a_regular_file(production, tmp_path, capsys, command, kind):
    config, store = production
    folder = tmp_path / "out"
    folder.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    target = folder / "export.csv"
    make(kind, target, victim)
    before = kind_of(target)
    capsys.readouterr()
    assert main(["--config", config, *command, str(target)]) == 1
    out, err = capsys.readouterr()
    assert err.splitlines() == [f"counter: cannot write {target}: {WHAT[kind]}, not a regular file "
                                "(refused: nothing written)"]
    assert out == ""
    assert kind_of(target) == before and victim.read_text() == "keep me\n"
    assert sorted(os.listdir(folder)) == ["export.csv"]  # no temporary file left
    assert exports(store) == 0


WHAT = {"symlink": "a symbolic link", "dangling-symlink": "a symbolic link", "fifo": "a FIFO",
        "device": "a device", "directory": "a directory"}


def test_an_export_still_replaces_a_regular_file(production, tmp_path):
    config, store = production
    target = tmp_path / "export.csv"
    target.write_text("last month's\n")
    os.chmod(target, 0o644)
    assert main(["--config", config, "export", "registrations", "--since", "2020-01-01", "--output", str(target)]) == 0
    assert target.read_text() != "last month's\n"
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640
    assert exports(store) == 1


@pytest.mark.parametrize("kind", ("symlink", "fifo", "directory"))
def test_generate_refuses_to_write_through_what_is_not_a_regular_file(tmp_path, capsys, kind):
    out = tmp_path / "town"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    make(kind, out / "persons.csv", victim)
    capsys.readouterr()
    assert main(["fixtures", "generate", "--out", str(out), "--households", "5", "--seed", "1"]) == 1
    err = capsys.readouterr().err
    assert err.splitlines() == [f"counter: cannot write {out / 'persons.csv'}: {WHAT[kind]}, not a regular file "
                                "(refused: nothing written)"]
    assert victim.read_text() == "keep me\n"
    assert os.listdir(out) == ["persons.csv"]  # not one of the other files either


def test_generate_refuses_an_out_that_is_not_a_directory(tmp_path, capsys):
    os.mkfifo(tmp_path / "pipe")
    assert main(["fixtures", "generate", "--out", str(tmp_path / "pipe"), "--households", "5"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"counter: cannot write the town to {tmp_path / 'pipe'}: a FIFO, not a directory (refused: nothing written)"]
    assert stat.S_ISFIFO(os.lstat(tmp_path / "pipe").st_mode)


def test_replay_refuses_a_screenshot_path_that_is_a_symbolic_link(trainer_home, tmp_path, capsys):
    script = tmp_path / "court.toml"
    script.write_text('[[step]]\nname = "recherche"\ntype = "giraud anne"\nwait_for = "01/12/1988"\n',
                      encoding="utf-8")
    out = tmp_path / "captures"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    os.symlink(victim, out / "recherche.svg")
    capsys.readouterr()
    assert main(["replay", str(script), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.splitlines() == [f"counter replay : {out / 'recherche.svg'} est un lien symbolique, pas un fichier "
                                "ordinaire : rien n'a été écrit."]
    assert victim.read_text() == "keep me\n" and os.path.islink(out / "recherche.svg")


@pytest.fixture
def trainer_home(isolated_environment, town_database):
    import shutil

    base = isolated_environment / "training" / "replay-base.sqlite3"
    base.parent.mkdir(parents=True)
    shutil.copyfile(town_database, base)
    return isolated_environment
