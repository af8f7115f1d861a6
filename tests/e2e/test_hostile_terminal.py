"""The real counter in a pseudo-terminal: a name holding OSC 52 (write the clipboard),
a screen clear and a bell is painted with placeholders; none of those bytes reach
the terminal."""

from __future__ import annotations

import os
import re
import shutil
import sys

import pytest

from bench.pty_runner import PtySession, visible
from counter.store.engine import Store
from tests.hostile import BIDI, CSI_CLEAR, OSC52, rename

JADE = 3493  # the DELAUNAY household (tests/pilot/test_visit.py)
FROM_THE_DATA = (b"\x1b]", b"\x07", b"\x1b[2J\x1b[2J", BIDI.encode())
# Textual's own operating-system command: the mouse pointer's shape (OSC 22, ended by BEL).
TEXTUALS_OWN = re.compile(rb"\x1b\]22;[a-z-]*\x07")


def _env(home) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COUNTER_", "TEXTUAL_"))}
    env.update(COUNTER_HOME=str(home), TERM="xterm-256color", COLORTERM="truecolor", LANG="C.UTF-8")
    return env


@pytest.mark.skipif(sys.platform != "linux", reason="needs a Linux pseudo-terminal")
def test_osc52_and_escape_sequences_in_a_name_never_reach_the_terminal(town_database, tmp_path):
    home = tmp_path / "home"
    db = home / "training" / "counter.sqlite3"
    db.parent.mkdir(parents=True)
    shutil.copyfile(town_database, db)
    store = Store(f"sqlite:///{db}")
    rename(store, JADE, given_names="Zoé", usage_name="DELAUNAY" + OSC52 + CSI_CLEAR + BIDI)
    from counter.runtime import os_login

    from fixtures.agents import preset_pin

    preset_pin(store, os_login())  # not a first use: no PIN setup before the search
    store.dispose()

    session = PtySession([sys.executable, "-m", "counter"], _env(home), size=(100, 30))
    try:
        session.read_until("Nom, prénom", timeout=60)
        started = session.mark()
        session.send(b"zoe delaunay")
        session.read_until("1 personne", timeout=30, since=started)
        session.send(b"\r")  # the household, where the details spell the name out
        session.read_until("Foyer F-01403", timeout=30, since=started)
        session.read_until("enfant, née le", timeout=30, since=started)
        session.send(b"\x1bOR")  # F3: her dossier, the name in the header too
        session.read_until("Motif de la consultation", timeout=30, since=started)
        session.send(b"\r")  # the purpose, asked once for the visit
        session.read_until("Dossier —", timeout=30, since=started)
        session.read_until("sections reçues", timeout=60, since=started)
        session.drain()
        written = TEXTUALS_OWN.sub(b"", bytes(session.output))
        for sequence in FROM_THE_DATA:
            assert sequence not in written, f"{sequence!r} from the data reached the terminal"
        screen = visible(bytes(session.output[started:]))
        assert "DELAUNAY�]52;c;aGk=��[2J� née DELAUNAY" in screen  # shown, with placeholders, one for one
    finally:
        session.close()
