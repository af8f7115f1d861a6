"""`counter` without a terminal (`counter </dev/null`, a service manager, a pipe):
one French line, exit status 2, before anything is drawn; never escape codes
written into a pipe by an app spinning on an input at its end."""

from __future__ import annotations

import os
import select
import subprocess
import sys

import pytest

SAYS = ("Le guichet a besoin d'un terminal : lancez « counter » dans une session (console ou SSH), "
        "sans rediriger son entrée ni ses sorties.")


def _env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COUNTER_", "TEXTUAL_"))}
    env.update(COUNTER_HOME=str(tmp_path / "home"), TERM="xterm-256color", LANG="C.UTF-8")
    return env


@pytest.fixture
def pty():
    """A pseudo-terminal: the slave for the streams that are a terminal, the master to read them."""
    master, slave = os.openpty()
    yield master, slave
    os.close(slave)
    os.close(master)


def _written(master: int) -> str:
    """What the process wrote to the terminal (it has exited: everything is there)."""
    data = b""
    while select.select([master], [], [], 0)[0]:
        chunk = os.read(master, 65536)
        if not chunk:
            break
        data += chunk
    return data.decode("utf-8", "replace")


# Which of stdin, stdout, stderr is not a terminal (the others are one).
CASES = {
    "stdin /dev/null, stdout a pipe": ("null", "pipe", "pipe"),
    "stdin /dev/null only": ("null", "tty", "tty"),
    "stdout a pipe only": ("tty", "pipe", "tty"),
    "stderr a pipe only (where Textual draws)": ("tty", "tty", "pipe"),
}


@pytest.mark.parametrize("streams", CASES.values(), ids=CASES.keys())
def test_without_a_terminal_the_counter_says_so_in_one_line_and_exits_2(tmp_path, pty, streams):
    master, tty = pty
    stdin, stdout, stderr = streams
    err_path = tmp_path / "stderr.txt"
    out_path = tmp_path / "stdout.txt"
    with open(err_path, "w+b") as err_file, open(out_path, "w+b") as out_file:
        done = subprocess.run(
            [sys.executable, "-m", "counter"], env=_env(tmp_path), timeout=60,
            stdin=subprocess.DEVNULL if stdin == "null" else tty,
            stdout=out_file if stdout == "pipe" else tty,
            stderr=err_file if stderr == "pipe" else tty,
            start_new_session=True,
        )
    said = err_path.read_text(encoding="utf-8") if stderr == "pipe" else _written(master)
    assert done.returncode == 2
    assert said.splitlines() == [SAYS]
    if stdout == "pipe":
        assert out_path.read_bytes() == b""  # no escape code written into the pipe
