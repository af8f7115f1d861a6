"""Files holding personal data are never readable by other accounts: directories
0750, files 0640 at most, whatever the umask; `counter doctor` names what is more open."""

from __future__ import annotations

import os
import stat
from contextlib import contextmanager
from datetime import date

import pytest

from counter.cli import main


@contextmanager
def umask(value: int):
    previous = os.umask(value)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def too_open(root) -> dict[str, str]:
    """Everything under ``root`` (itself included) that other accounts may read or the group write."""
    found = {}
    for folder, dirs, files in os.walk(root):
        for path in (folder, *(os.path.join(folder, n) for n in files)):
            if mode(path) & 0o027:
                found[os.path.relpath(path, root)] = oct(mode(path))
    return found


def test_logs_and_their_rotations_are_private_whatever_the_umask(tmp_path):
    import logging

    from counter.logs import setup_logging

    with umask(0):
        path = setup_logging(tmp_path / "data" / "logs")
        logging.getLogger("counter").info("started")
        handler = logging.getLogger("counter").handlers[0]
        handler.doRollover()
        logging.getLogger("counter").info("after the rotation")
        handler.close()
    assert path == tmp_path / "data" / "logs" / "counter.log"
    assert (tmp_path / "data" / "logs" / "counter.log.1").exists()
    assert too_open(tmp_path / "data") == {}
    assert mode(path) == 0o640 and mode(path.parent) == 0o750


def test_receipt_folders_are_private_whatever_the_umask(tmp_path):
    from counter.domain.receipt import Receipt
    from counter.services.receipts import save

    receipt = Receipt(code="RCP-7K3M-Q2XD", issued_on=date(2026, 11, 25), town="Bellerive-sur-Loire",
                      agent="agent", household="Foyer F-00441", lines=())
    with umask(0):
        saved = save(receipt, tmp_path / "data", fonts=())
    assert saved.text_path.exists()
    assert too_open(tmp_path / "data") == {}


def test_doctor_names_what_other_accounts_can_read(isolated_environment, capsys):
    data = isolated_environment
    (data / "logs").mkdir(parents=True)
    (data / "logs" / "counter.log").write_text("")
    (data / "notes.txt").write_text("")
    os.chmod(data, 0o750)
    os.chmod(data / "logs", 0o755)
    os.chmod(data / "logs" / "counter.log", 0o644)
    os.chmod(data / "notes.txt", 0o600)
    capsys.readouterr()
    assert main(["doctor"]) == 0  # a warning, not a failure
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith("file modes"))
    assert "[warn]  2 open to other accounts" in line
    assert f"    {data / 'logs'} (0755)\n    {data / 'logs' / 'counter.log'} (0644)\n" in out
    assert "notes.txt" not in out
    os.chmod(data / "logs", 0o750)
    os.chmod(data / "logs" / "counter.log", 0o640)
    assert main(["doctor"]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("file modes"))
    assert "[  ok]" in line


@pytest.mark.parametrize("start", [0o000, 0o022, 0o077])
def test_the_process_umask_never_lets_others_read(start):
    from counter.files import restrict_umask

    with umask(start):
        restrict_umask()
        now = os.umask(start)
    assert now & 0o027 == 0o027  # group write, everything for others: masked
    assert now & start == start  # a stricter umask stays as strict
