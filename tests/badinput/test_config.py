"""Bad configuration files: exit status 2 and one line naming the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from counter.domain.text import printable
from tests.badinput.corpus import params

DEEP = 5000


def config_file(case: dict, folder: Path) -> str:
    path = folder / "counter.toml"
    special = case.get("special")
    if special == "directory":
        path.mkdir()
    elif special == "missing":
        pass
    elif special == "dev-zero":
        return "/dev/zero"
    elif special == "big":
        path.write_text('mode = "training"\n' + "# padding\n" * 30_000)
    elif special == "deep-arrays":
        path.write_text("a = " + "[" * DEEP + "]" * DEEP + "\n")
    elif special == "deep-tables":
        path.write_text("a = " + "{b = " * DEEP + "1" + "}" * DEEP + "\n")
    elif "content_hex" in case:
        path.write_bytes(bytes.fromhex(case["content_hex"]))
    else:
        path.write_text(case["content"], encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("case", params("config"))
def test_a_bad_configuration_is_refused_in_one_line(case, tmp_path, capsys):
    from counter.cli import main

    path = config_file(case, tmp_path)
    try:
        status = main(["--config", path, "db", "status"])
    except BaseException as exc:  # noqa: BLE001 — a traceback is what this corpus guards against
        pytest.fail(f"{type(exc).__name__} escaped: {exc!r}"[:500])
    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"counter: configuration error: {path}: ")
    assert case["says"] in lines[0]
    assert printable(lines[0]) == lines[0], "a control character reached the terminal"
