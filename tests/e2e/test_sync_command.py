"""End to end: `counter sync` against `counter fixtures serve` (real HTTP, the
credential from the keyring), on a production SQLite database: a partial pass, a
pass refused while another holds the lease, the family system down, no family
system configured. Exit statuses 0, 1, 1, 2."""

from __future__ import annotations

import io
import os
import sqlite3
from datetime import UTC, datetime, timedelta

from counter.cli.sync import Progress
from tests.e2e.test_served_agencies import TOKEN, counter, env, served  # noqa: F401 (fixtures)


def _config(tmp_path, city_url: str | None) -> str:
    config = tmp_path / "counter.toml"
    text = f'[database]\nurl = "sqlite:///{tmp_path / "prod.sqlite3"}"\n[sync]\ninterval_minutes = 5\n'
    if city_url:
        text += f'[backends.city]\nkind = "city"\nbase_url = "{city_url}"\n'
    config.write_text(text, encoding="utf-8")
    return str(config)


def test_counter_sync_pulls_pages_and_says_what_it_did(tmp_path, env, served):  # noqa: F811
    config = _config(tmp_path, f"http://127.0.0.1:{served + 2}")
    assert counter(env, "--config", config, "db", "upgrade").returncode == 0
    assert counter(env, "--config", config, "credentials", "set", "city", stdin=TOKEN + "\n").returncode == 0

    done = counter(env, "--config", config, "sync", "--pages", "2")
    assert done.returncode == 0, done.stderr
    assert "created" in done.stdout and "rejected" in done.stdout
    assert "2 page(s); cursor c400; stopped before the end (--pages)" in done.stdout
    assert "Traceback" not in done.stderr and "[" not in done.stderr  # no progress bar outside a terminal

    database = sqlite3.connect(tmp_path / "prod.sqlite3")
    with database:
        database.execute("UPDATE sync_state SET holder = 'other-host/counter-service', lease_until = ?",
                         ((datetime.now(UTC) + timedelta(minutes=4)).strftime("%Y-%m-%d %H:%M:%S.%f"),))
    busy = counter(env, "--config", config, "sync")
    assert busy.returncode == 1 and "a sync is already running (other-host/counter-service" in busy.stderr
    with database:
        database.execute("UPDATE sync_state SET holder = NULL, lease_until = NULL")
        households = database.execute("SELECT count(*) FROM household").fetchone()[0]
    database.close()
    assert 390 <= households <= 400

    down = counter(env, "--config", _config(tmp_path, "http://127.0.0.1:9"), "sync")
    assert down.returncode == 1 and "stopped: the family system failed" in down.stderr
    assert "Traceback" not in down.stderr

    missing = counter(env, "--config", _config(tmp_path, None), "sync")
    assert missing.returncode == 2 and "no family system configured" in missing.stderr


def test_the_progress_bar_is_drawn_only_on_a_terminal():
    from counter.progress import ProgressBar

    main, secondary = os.openpty()
    times = iter([0.0, 1.0, 2.0, 3.0])
    with os.fdopen(secondary, "w", encoding="utf-8") as terminal:
        progress = Progress(ProgressBar("sync", terminal, clock=lambda: next(times)))
        progress(100, 300)
        progress(400, 0)
    drawn = ""
    while "400/400" not in drawn and len(drawn) < 4096:
        drawn += os.read(main, 4096).decode()
    os.close(main)
    assert "sync [" in drawn and "400/400" in drawn and "100/400" in drawn
    hidden = io.StringIO()
    progress = Progress(ProgressBar("sync", hidden))
    progress(100, 300)
    progress.close()
    assert hidden.getvalue() == ""
