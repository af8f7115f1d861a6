"""The terminal, or the counter service behind it, killed (SIGKILL) at random
points of a visit, again and again: every draft the service acknowledged is
offered back on the next start and no visit is ever confirmed twice."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sys
import time

import pytest
from sqlalchemy import text

from bench.pty_runner import PtySession
from counter.store.engine import Store

# The DELAUNAY household (see tests/pilot/test_visit.py): a school place for Jade.
STEPS = [
    ("delaunay jade 2024", "1 personne"),
    ("\r", "Foyer F-01403"),
    ("\x1bOS", "Ajoutez les demandes"),  # F4: the visit
    ("e", "Inscription scolaire"),
    ("\r", "Jade"),  # open the list of children
    ("\x1b[B", None),  # down
    ("\r", "Niveau en"),
    ("\t\t\t\r", "Oui : jugement"),  # a lone father: open « Parents séparés ? »
    ("\x1b[F", None),  # End: « Non », the last choice, whatever was chosen before
    ("\r", "Cantine"),  # the list closed (the rows under it painted again): « Non » is chosen
    ("\x13", "1 demande(s) — Ctrl+S"),  # ctrl+s: back in the visit, the request added
    ("\x13", "Récapitulatif"),  # ctrl+s: the summary (once the agencies have answered)
    ("\r", "RÉCÉPISSÉ"),  # confirm
]
RUNS = 12
SEED = int(os.environ.get("COUNTER_CRASH_SEED", "20261125"))


def _env(home) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COUNTER_", "TEXTUAL_"))}
    env.update(COUNTER_HOME=str(home), TERM="xterm-256color", COLORTERM="truecolor", LANG="C.UTF-8")
    return env


def _draft(db) -> dict | None:
    """The unfinished visit's draft, as the next start finds it."""
    store = Store(f"sqlite:///{db}")
    with store.engine.connect() as c:
        row = c.execute(text("SELECT draft FROM visit WHERE state = 'draft' ORDER BY id DESC")).first()
    store.dispose()
    return json.loads(row.draft) if row else None


def _journey(draft: dict | None) -> tuple[str | None, list[tuple[str, str | None]]]:
    """What the screen shows once the last start's work is back, and the keys still
    to press to confirm: the draft decides where the agent picks up."""
    if draft is None:
        return None, STEPS
    editing = draft.get("editing")
    if editing:  # the form is offered back open, as it was typed
        if (editing.get("values") or {}).get("person"):
            return "Niveau en", STEPS[7:]
        return "Choisir l'enfant", STEPS[4:]
    if draft["requests"]:
        return "1 demande(s) — Ctrl+S", STEPS[11:]
    return "Ajoutez les demandes", STEPS[3:]


def _kill_service(home) -> None:
    """The private service behind the terminal, killed as a power cut would."""
    from tests.service_processes import peer_pid, wait_gone

    try:
        pid = peer_pid(home / "run" / "counter.sock")
    except OSError:
        return
    os.kill(pid, signal.SIGKILL)
    wait_gone(pid)


def _stop_services(home) -> None:
    from counter.client.locate import stop_private_services

    stop_private_services(home)


def _run(env, db, rng) -> str:
    """One start of the terminal, it or its service killed at a random moment; what it was doing."""
    draft = _draft(db)
    home = db.parent.parent
    session = PtySession([sys.executable, "-m", "counter"], env, size=(100, 30))
    try:
        mark = session.mark()
        session.read_until("Nom, prénom", timeout=60)
        shown, journey = _journey(draft)
        if draft is not None:
            session.read_until("Visite en cours", timeout=30, since=mark)  # offered back
            mark = session.mark()
            session.send(b"\r")
            session.read_until(shown, timeout=30, since=mark)
        # Killed before one of the keys, right after the last one (while confirming), or not at all.
        kill_at = rng.randrange(len(journey) + 2)
        victim = rng.choice(("terminal", "service"))
        for index, (keys, expect) in enumerate(journey):
            if index == kill_at:
                time.sleep(rng.uniform(0.0, 0.3))
                if victim == "service":
                    _kill_service(home)
                return f"{victim} killed before {keys!r}"
            mark = session.mark()
            session.send(keys.encode())
            if index == len(journey) - 1 and kill_at == len(journey):
                time.sleep(rng.uniform(0.0, 0.05))  # killed during or right after confirming
                if victim == "service":
                    _kill_service(home)
                return f"{victim} killed while confirming"
            if expect:
                session.read_until(expect, timeout=30, since=mark)
        return "confirmed"
    finally:
        os.killpg(session.process.pid, signal.SIGKILL)
        session.process.wait()
        os.close(session.master)
        # What the service had received it finishes (a confirmation the terminal sent
        # just before dying completes): stopped gracefully, the next start reads a
        # settled database. A service killed above is gone already.
        _stop_services(home)


def _check(db, happened) -> int:
    """Nothing confirmed twice, nothing half-written; the number of registrations."""
    store = Store(f"sqlite:///{db}")
    with store.engine.connect() as c:
        visits = c.execute(text("SELECT id, state, draft FROM visit ORDER BY id")).all()
        per_visit = dict(c.execute(text("SELECT visit_id, count(*) FROM registration GROUP BY visit_id")).all())
        outbox = c.execute(text("SELECT count(*) FROM outbox")).scalar_one()
        registrations = c.execute(text("SELECT count(*) FROM registration")).scalar_one()
    store.dispose()
    # A confirmed visit holds exactly its draft's registrations, each with its outbox message;
    # an unconfirmed one holds none; the child is registered at most once.
    for visit in visits:
        expected = len(json.loads(visit.draft)["requests"]) if visit.state == "confirmed" else 0
        assert per_visit.get(visit.id, 0) == expected, (visit, happened)
    assert outbox == registrations <= 1, happened
    # Killed while typing: the next start offered the draft back instead of starting afresh.
    assert len([v for v in visits if v.state == "draft"]) <= 1, happened
    return registrations


def _pristine(town_database, db) -> None:
    """The town, its agent already holding a PIN (not a first use: no PIN setup at start)."""
    from counter.runtime import os_login

    from fixtures.agents import preset_pin

    shutil.copyfile(town_database, db)
    store = Store(f"sqlite:///{db}")
    preset_pin(store, os_login())
    store.dispose()


@pytest.mark.skipif(sys.platform != "linux", reason="needs a Linux pseudo-terminal")
def test_kill_9_at_random_points_never_confirms_twice(town_database, tmp_path):
    home = tmp_path / "home"
    db = home / "training" / "counter.sqlite3"
    db.parent.mkdir(parents=True)
    _pristine(town_database, db)
    env = _env(home)
    rng = random.Random(SEED)
    happened: list[str] = []
    try:
        for _ in range(RUNS):
            happened.append(_run(env, db, rng))
            if _check(db, happened):
                # Jade is registered, once: check, then a new morning on a pristine town
                # (the service holding the old one open is stopped first).
                _stop_services(home)
                for leftover in db.parent.glob("counter.sqlite3*"):
                    leftover.unlink()
                _pristine(town_database, db)
        _check(db, happened)
    finally:
        _stop_services(home)
    print(happened)  # shown with -s or on failure
    assert any(" killed" in h for h in happened), happened
    assert any(h.startswith("service killed") for h in happened), happened
