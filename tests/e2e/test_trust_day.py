"""A day at a production counter against the served agencies, then the audit
trail verified and tampered with, and every file written scanned for what must
not be there (the agencies' credential, a revealed NIR, the families' names)."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import text

from counter.domain.nir import format_nir, with_key
from counter.runtime import os_login
from tests.e2e.test_served_agencies import TOKEN, counter, env, served  # noqa: F401 (fixtures)
from tests.pilot.helpers import started, type_text, unlock, until

AGENT = "mdupont"
# (birth name, given names, birth, sex, NIR body); GIRAUD Anne is known to the emulated CAF.
FAMILIES = [
    ("GIRAUD", "Anne", (1988, 12, 1), "F", "2881213002123", "13002"),
    ("LEMOINE", "Bastien", (1979, 3, 9), "M", "1790345234056", None),
    ("PERRIN", "Chloé", (1992, 7, 21), "F", "2920745234078", None),
]


def _config(tmp_path, port) -> str:
    config = tmp_path / "counter.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "prod.sqlite3"}"\n'
        f'[backends.api_particulier]\nkind = "api_particulier"\nbase_url = "http://127.0.0.1:{port}"\n'
        'recipient = "21459999900015"\n'
        f'[backends.koha]\nkind = "koha"\nbase_url = "http://127.0.0.1:{port + 1}"\n'
        f'[backends.city]\nkind = "city"\nbase_url = "http://127.0.0.1:{port + 2}"\n',
        encoding="utf-8",
    )
    return str(config)


async def _day(config, tmp_path, monkeypatch, env) -> list[str]:  # noqa: F811
    """The scripted day in the app; the NIRs revealed."""
    import keyring

    from counter.app_factory import build_app

    from counter.service.composition import make_services, open_store, read_backend_secrets
    from counter.clock import FixedClock
    from counter.logs import setup_logging
    from counter.runtime import resolve
    from fixtures.agents import preset_pin
    from screens.dossier import DossierScreen
    from screens.household import HouseholdScreen
    from screens.lock import LockScreen, PurposeScreen
    from tests.conftest import TODAY
    from tests.file_keyring import FileKeyring

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(keyring, "get_keyring", lambda: FileKeyring())
    runtime = resolve(config, agent_login=AGENT, clock=FixedClock(TODAY))
    runtime = replace(runtime, role="agent", secrets=read_backend_secrets(runtime))
    assert not runtime.secrets.problem and runtime.secrets.secrets["api_particulier"] == TOKEN
    setup_logging(runtime.log_dir)
    store = open_store(runtime)
    preset_pin(store, AGENT)
    app = build_app(runtime, make_services(store, runtime))
    revealed = []
    async with started(app, (100, 30)) as pilot:  # production starts locked: the PIN is typed
        for birth_name, given, *_ in FAMILIES:
            await type_text(pilot, f"{birth_name.lower()} {given.lower()}")
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, HouseholdScreen) and app.screen.view, "household")
            await pilot.press("n")
            await until(pilot, lambda: app.screen.revealed is not None, "the NIR revealed")
            revealed.append(app.screen.revealed[1])
            await pilot.press("f3")
            await until(pilot, lambda: isinstance(app.screen, PurposeScreen), "the purpose")
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, DossierScreen) and app.screen.panels
                        and all(p.answer is not None for p in app.screen.panels.values()), "the dossier")
            # The agent steps away; a wrong PIN first.
            await pilot.press("ctrl+l")
            await until(pilot, lambda: isinstance(app.screen, LockScreen), "locked")
            await pilot.press(*"9999", "enter")
            await until(pilot, lambda: "Code incorrect" in str(app.screen.query_one("#status").render()), "refused")
            await unlock(pilot)
            app.action_new_search()  # the next family
            await pilot.pause()
    store.dispose()
    return revealed


def _verify(env, config) -> tuple[int, str]:  # noqa: F811
    done = counter(env, "--config", config, "audit", "verify")
    return done.returncode, done.stdout + done.stderr


async def test_a_day_then_verify_tamper_and_scan(tmp_path, env, served, monkeypatch):  # noqa: F811
    config = _config(tmp_path, served)
    assert counter(env, "--config", config, "db", "upgrade").returncode == 0
    assert counter(env, "--config", config, "agents", "add", os_login(), "--role", "supervisor").returncode == 0
    assert counter(env, "--config", config, "agents", "add", AGENT, "--role", "agent").returncode == 0
    for name in ("api_particulier", "koha", "city"):
        assert counter(env, "--config", config, "credentials", "set", name, stdin=TOKEN + "\n").returncode == 0

    from counter.store.engine import Store
    from tests.factories import add_household, person

    store = Store(f"sqlite:///{tmp_path / 'prod.sqlite3'}")
    for number, (birth_name, given, born, sex, body, insee) in enumerate(FAMILIES, start=10):
        add_household(store, "rue des Sablons", number, [
            (person(birth_name, given, born, sex=sex, nir=with_key(body), birth_insee_code=insee), "parent")])
    store.dispose()

    revealed = await _day(config, tmp_path, monkeypatch, env)
    assert revealed == [format_nir(with_key(f[4])) for f in FAMILIES]

    # The chain holds after the day…
    status, said = _verify(env, config)
    assert status == 0 and "chain intact" in said, said
    store = Store(f"sqlite:///{tmp_path / 'prod.sqlite3'}")
    with store.engine.connect() as c:
        actions = [r[0] for r in c.execute(text("SELECT action FROM audit_entry ORDER BY seq"))]
        count = len(actions)
    assert actions.count("dossier.consult") == 3 and actions.count("nir.reveal") == 3
    assert actions.count("unlock.failed") == 3 and actions.count("credential.set") == 3
    # …and any single row edited or deleted breaks it, naming that entry.
    for seq in range(1, count + 1):
        with store.write_connection() as c:
            before = c.execute(text("SELECT details FROM audit_entry WHERE seq = :s"), {"s": seq}).scalar()
            c.execute(text("UPDATE audit_entry SET details = :d WHERE seq = :s"), {"d": before + " ", "s": seq})
        status, said = _verify(env, config)
        assert status == 1 and f"entry {seq} (" in said and "changed" in said, said
        with store.write_connection() as c:
            c.execute(text("UPDATE audit_entry SET details = :d WHERE seq = :s"), {"d": before, "s": seq})
    for seq in (1, count // 2, count):
        with store.write_connection() as c:
            row = c.execute(text("SELECT * FROM audit_entry WHERE seq = :s"), {"s": seq}).mappings().one()
            c.execute(text("DELETE FROM audit_entry WHERE seq = :s"), {"s": seq})
        status, said = _verify(env, config)
        assert status == 1 and f"entry {seq} " in said and "removed" in said, said
        with store.write_connection() as c:
            columns = ", ".join(row.keys())
            c.execute(text(f"INSERT INTO audit_entry ({columns}) VALUES ({', '.join(':' + k for k in row.keys())})"),
                      dict(row))
    assert _verify(env, config)[0] == 0

    # Nothing the families or the agencies gave is on disk where it does not belong.
    with store.engine.connect() as c:
        c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        audit_text = " ".join(" ".join(str(v) for v in r) for r in c.execute(text("SELECT * FROM audit_entry")))
    store.dispose()
    secrets_and_people = [TOKEN] + revealed + [with_key(f[4]) for f in FAMILIES] + [f[0] for f in FAMILIES]
    for value in secrets_and_people:
        assert value not in audit_text, value
    home = tmp_path / "home"
    files = [p for p in home.rglob("*") if p.is_file()]
    assert any(p.name == "counter.log" for p in files)  # the log was written, and is scanned
    for path in files:
        data = path.read_bytes()
        for value in secrets_and_people:
            assert value.encode() not in data, (path, value)
    for path in tmp_path.glob("prod.sqlite3*"):  # the credential belongs in the keyring only
        assert TOKEN.encode() not in path.read_bytes(), path
