"""Bad command lines: exit status 2 or 1, one clear line on standard error, never a
traceback, never a control character on the terminal, nothing written."""

from __future__ import annotations

import pytest
from sqlalchemy import text as sql

from counter.domain.text import printable
from tests.badinput.corpus import arg, params

TABLES = ("agent", "outbox", "registration", "audit_entry", "person", "household", "address")


def argv_of(case: dict, tmp: str) -> list[str]:
    if "argv_repeat" in case:
        piece, times = case["argv_repeat"]
        argv = [piece * times]
    else:
        argv = [arg(a.replace("{tmp}", tmp)) for a in case["argv"]]
    if "argv_repeat_at" in case:
        index, piece, times = case["argv_repeat_at"]
        argv[index] = piece * times
    return argv


def write_files(case: dict, tmp: str) -> None:
    """A case's input files: text (``encoding``, default UTF-8) with ``repeat`` appended,
    raw ``hex`` bytes, or a sparse file of ``size`` bytes."""
    for spec in case.get("files", ()):
        path = spec["path"].replace("{tmp}", tmp)
        with open(path, "wb") as handle:
            if "size" in spec:
                handle.truncate(spec["size"])
            elif "hex" in spec:
                handle.write(bytes.fromhex(spec["hex"]))
            else:
                piece, times = spec.get("repeat", ("", 0))
                handle.write((spec["text"] + piece * times).encode(spec.get("encoding", "utf-8")))


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    """A production configuration on a migrated SQLite database with one agent."""
    from counter.cli import main
    from counter.store.engine import Store

    folder = tmp_path_factory.mktemp("production")
    config = folder / "counter.toml"
    config.write_text(f'data_dir = "{folder / "data"}"\n[database]\nurl = "sqlite:///{folder / "counter.db"}"\n')
    assert main(["--config", str(config), "db", "upgrade"]) == 0
    from counter.runtime import os_login

    # Whoever runs the commands is a supervisor (the first one may be added by anyone).
    assert main(["--config", str(config), "agents", "add", os_login(), "--role", "supervisor"]) == 0
    assert main(["--config", str(config), "agents", "add", "chef", "--role", "supervisor"]) == 0
    store = Store(f"sqlite:///{folder / 'counter.db'}")
    yield str(config), store
    store.dispose()


def counts(store) -> dict[str, int]:
    with store.engine.connect() as connection:
        return {t: connection.execute(sql(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}


@pytest.mark.parametrize("case", params("cli"))
def test_a_bad_command_line_says_why_in_one_line(case, production, tmp_path, capsys):
    from counter.cli import main

    config, store = production
    tmp = str(tmp_path)
    if "make_file" in case:
        with open(case["make_file"].replace("{tmp}", tmp), "w") as handle:
            handle.write("not a folder\n")
    write_files(case, tmp)
    argv = argv_of(case, tmp)
    if not case.get("bare"):
        argv = ["--config", config, *argv]
    before = counts(store)
    capsys.readouterr()
    try:
        status = main(argv)
    except SystemExit as exit_:  # argparse leaves this way; the real `counter` exits with its code
        status = exit_.code
    except BaseException as exc:  # noqa: BLE001 — a traceback is what this corpus guards against
        pytest.fail(f"{type(exc).__name__} escaped: {exc!r}"[:500])
    out, err = capsys.readouterr()
    assert status == case["status"], err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert case["says"].replace("{tmp}", tmp) in lines[0]
    assert len(lines[0]) <= 400
    for line in (*lines, *out.splitlines()):
        assert printable(line) == line, f"a control character reached the terminal: {line!r}"
    assert counts(store) == before
    if "no_file" in case:
        import os

        assert not os.path.exists(case["no_file"].replace("{tmp}", tmp))
