"""Bad import files (`counter import addresses|schools|sectors|families`): exit status 2, the
reasons in English line by line, never a traceback, nothing raw on the terminal,
nothing written."""

from __future__ import annotations

import gzip

import pytest
from sqlalchemy import text as sql

from counter.domain.text import printable
from tests.badinput.corpus import params
from tests.badinput.test_cli import production  # noqa: F401  (the module's production database)

TABLES = ("street", "town_address", "school", "sector_rule", "audit_entry", "person", "household")


def counts(store) -> dict[str, int]:
    with store.engine.connect() as connection:
        return {t: connection.execute(sql(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}


def file_of(case: dict, tmp_path) -> str:
    if "path" in case:
        return case["path"].replace("{tmp}", str(tmp_path))
    if "content_hex" in case:
        data = bytes.fromhex(case["content_hex"])
    else:
        content = case["content"]
        if "repeat" in case:
            piece, times = case["repeat"]
            content = content.replace("{repeat}", piece * times)
        data = content.encode(case.get("encoding", "utf-8"))
    if case.get("gzip"):
        data = gzip.compress(data)
    path = tmp_path / "adresses-45999.csv"
    with open(path, "wb") as handle:
        handle.write(data)
        if "size" in case:
            handle.truncate(case["size"])  # sparse: nothing written to the disk
    return str(path)


def mapping_of(case: dict, tmp_path) -> list[str]:
    """``--mapping MAP.toml`` for a families case that has one (``mapping``: its text)."""
    if "mapping" not in case:
        return []
    path = tmp_path / "map.toml"
    path.write_text(case["mapping"], encoding="utf-8")
    return ["--mapping", str(path)]


@pytest.mark.parametrize("case", params("import"))
def test_a_bad_import_file_is_refused_with_its_reasons(case, production, tmp_path, capsys):  # noqa: F811
    from counter.cli import main

    config, store = production
    path = file_of(case, tmp_path)
    before = counts(store)
    capsys.readouterr()
    try:
        status = main(["--config", config, "import", case.get("command", "addresses"), path,
                       *mapping_of(case, tmp_path)])
    except BaseException as exc:  # noqa: BLE001 — a traceback is what this corpus guards against
        pytest.fail(f"{type(exc).__name__} escaped: {exc!r}"[:500])
    out, err = capsys.readouterr()
    assert status == case.get("status", 2), err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert lines[0] == f"counter: {path}: not imported, nothing was written:"
    assert any(case["says"] in line for line in lines[1:]), err
    for line in (*lines, *out.splitlines()):
        assert printable(line) == line, f"a control character reached the terminal: {line!r}"
        assert len(line) <= 400
    assert counts(store) == before
