"""NO_COLOR through the real counter in a pseudo-terminal: not one colour is
written (Textual's own NO_COLOR filter writes greys as 24-bit colours; the
counter writes none), and what colour showed is shown by style."""

from __future__ import annotations

import re
import shutil
import sys

import pytest

from bench.pty_runner import PtySession, visible
from counter.runtime import os_login
from counter.store.engine import Store
from fixtures.agents import preset_pin
from tests.e2e.test_hostile_terminal import _env

SGR = re.compile(rb"\x1b\[([0-9;:]*)m")


def colour_codes(output: bytes) -> list[bytes]:
    """Every SGR sequence that sets a colour: 30-38, 40-48, 90-97, 100-107.
    39 and 49 (the terminal's default colours) set none."""
    found = []
    for match in SGR.finditer(output):
        for param in re.split(rb"[;:]", match[1]):
            if param.isdigit() and (30 <= int(param) <= 38 or 40 <= int(param) <= 48
                                    or 90 <= int(param) <= 97 or 100 <= int(param) <= 107):
                found.append(match[0])
                break
    return found


def test_colour_codes_are_recognised():
    assert colour_codes(b"\x1b[1;7m\x1b[39m\x1b[49m\x1b[0m") == []
    assert colour_codes(b"\x1b[38;2;10;20;30m") and colour_codes(b"\x1b[0;41m") and colour_codes(b"\x1b[97m")


@pytest.mark.skipif(sys.platform != "linux", reason="needs a Linux pseudo-terminal")
def test_no_color_writes_no_colour_and_the_cursor_row_shows_by_style(town_database, tmp_path):
    home = tmp_path / "home"
    db = home / "training" / "counter.sqlite3"
    db.parent.mkdir(parents=True)
    shutil.copyfile(town_database, db)
    store = Store(f"sqlite:///{db}")
    preset_pin(store, os_login())  # not a first use: no PIN setup before the search
    store.dispose()
    env = _env(home) | {"NO_COLOR": "1"}  # on a 24-bit colour terminal: the strictest case
    session = PtySession([sys.executable, "-m", "counter"], env, size=(80, 24))
    try:
        session.read_until("Nom, prénom", timeout=60)
        session.send(b"roux j")
        session.read_until("sur 58", timeout=30)
        before = session.mark()
        session.send(b"\x1b[B")  # down: the results, the cursor on the first row
        session.drain()
        # The cursor row: reverse and bold, not a colour.
        styles = [set(m[1].split(b";")) for m in re.finditer(rb"\x1b\[([0-9;]*)m ROUX", bytes(session.output[before:]))]
        assert any({b"1", b"7"} <= style for style in styles), styles
        session.send(b"\r")  # the household
        session.read_until("Rentrée", timeout=30)
        session.send(b"\x1b")  # back to the search
        session.read_until("F8 : suivantes", timeout=30)
        session.drain()
        written = bytes(session.output)
        assert colour_codes(written) == [], f"colours written: {sorted(set(colour_codes(written)))[:5]}"
        assert "FORMATION" in visible(written)  # training said in words
    finally:
        session.close()
