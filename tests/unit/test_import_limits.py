"""`counter import schools|sectors|addresses` reads a file as a stream and stops at
its size limit: /dev/zero, an endless pipe or a huge file is refused in a few lines,
in bounded memory, and nothing is written."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import threading

import pytest
from sqlalchemy import text

from counter.cli import main
from counter.runtime import os_login
from counter.services.sector_import import MAX_BYTES
from counter.store.engine import Store

MEMORY_LIMIT = 1024**3  # address space of the command: far below what an unbounded read takes


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


def schools(store) -> int:
    with store.engine.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM school")).scalar_one()


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def counter(config: str, *argv: str) -> subprocess.CompletedProcess:
    """The real command, its memory capped (an unbounded read dies of MemoryError, not the machine)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COUNTER_")}
    return subprocess.run([sys.executable, "-m", "counter", "--config", config, *argv], env=env,
                          capture_output=True, text=True, timeout=120, preexec_fn=_limit_memory)


@pytest.mark.parametrize("what", ["schools", "sectors", "addresses"])
def test_dev_zero_is_refused_as_a_device(production, what):
    config, store = production
    done = counter(config, "import", what, "/dev/zero")
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stderr.splitlines() == [
        "counter: /dev/zero: not imported, nothing was written:",
        "  /dev/zero is a device, not a regular file: give the CSV file itself"]
    assert schools(store) == 0


def test_an_endless_pipe_is_read_up_to_the_limit_then_refused(production, tmp_path):
    config, store = production
    pipe = tmp_path / "schools.csv"
    os.mkfifo(pipe)
    written = []

    def endless() -> None:  # `yes` into a named pipe: it ends only when the reader leaves
        line = b"0459033Z,Ecole des Lilas,maternelle\n" * 1000
        with open(pipe, "wb", buffering=0) as handle:
            handle.write(b"uai,name,kind\n")
            try:
                while True:
                    handle.write(line)
                    written.append(len(line))
            except BrokenPipeError:
                pass

    writer = threading.Thread(target=endless, daemon=True)
    writer.start()
    done = counter(config, "import", "schools", str(pipe))
    writer.join(timeout=60)
    assert not writer.is_alive()
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stderr.splitlines() == [f"counter: {pipe}: not imported, nothing was written:",
                                        "  larger than 20 MiB: not a carte scolaire file"]
    assert sum(written) < 2 * MAX_BYTES  # the reader stopped at the limit (plus the pipe's buffers)
    assert schools(store) == 0


def test_a_file_over_the_limit_is_refused_before_it_is_read(production, tmp_path, capsys):
    config, store = production
    huge = tmp_path / "schools.csv"
    with open(huge, "wb") as handle:
        handle.write(b"uai,name,kind\n")
        handle.truncate(MAX_BYTES + 1)
    capsys.readouterr()
    assert main(["--config", config, "import", "schools", str(huge)]) == 2
    assert capsys.readouterr().err.splitlines() == [f"counter: {huge}: not imported, nothing was written:",
                                                    "  larger than 20 MiB: not a carte scolaire file"]
    assert schools(store) == 0


def test_a_file_at_the_limit_is_read(production, tmp_path, capsys):
    """The limit is on the size, not on the way the file is read: a valid file just under it imports."""
    config, store = production
    big = tmp_path / "schools.csv"
    header, line = "uai,name,kind\n", "0459033Z,Ecole des Lilas,maternelle\n"
    pad = MAX_BYTES - len(header) - len(line)  # blank lines (spaces) of 100 kB, the last one shorter
    blanks = (" " * 99_999 + "\n") * (pad // 100_000) + " " * (pad % 100_000 - 1) + "\n"
    body = header + blanks + line
    big.write_text(body, encoding="utf-8")
    assert big.stat().st_size == MAX_BYTES
    assert main(["--config", config, "import", "schools", str(big)]) == 0
    assert schools(store) == 1


def test_an_endless_ban_export_is_read_up_to_its_limit_in_bounded_memory(production, tmp_path):
    """Every address is held while the export is checked: the 100 MiB cap keeps that
    within the command's memory (capped here at 1 GiB of address space)."""
    from counter.services.address_import import MAX_BYTES as BAN_MAX_BYTES

    config, store = production
    pipe = tmp_path / "adresses-45999.csv"
    os.mkfifo(pipe)
    written = []

    def endless() -> None:  # valid addresses, each its own, the shortest a BAN line can be
        with open(pipe, "wb", buffering=0) as handle:
            handle.write(b"id;numero;rep;nom_voie;code_postal;code_insee;nom_commune\n")
            number = 0
            try:
                while True:
                    lines = b"".join(b"45999_%04d_%05d;%d;;Rue;45999;45999;B\n" % (n // 9000, n % 9000 + 1,
                                                                                  n % 9000 + 1)
                                     for n in range(number, number + 1000))
                    number += 1000
                    handle.write(lines)
                    written.append(len(lines))
            except BrokenPipeError:
                pass

    writer = threading.Thread(target=endless, daemon=True)
    writer.start()
    done = counter(config, "import", "addresses", str(pipe))
    writer.join(timeout=60)
    assert not writer.is_alive()
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stderr.splitlines() == [f"counter: {pipe}: not imported, nothing was written:",
                                        "  larger than 100 MiB: not the BAN export of one commune"]
    assert sum(written) < 2 * BAN_MAX_BYTES
    with store.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM town_address")).scalar_one() == 0
