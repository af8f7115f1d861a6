"""Production start: the service reads the agencies' secrets from its keyring
before it serves, so a keyring that asks for its own password asks then (in the
administrator's terminal or journal), never while a terminal is served."""

from __future__ import annotations

import keyring
import pytest

from counter.backend import Status
from counter.clock import FixedClock
from counter.services.agents import AgentService
from screens.app import CounterApp
from tests.conftest import TODAY
from tests.pilot.helpers import started, until
from tests.pilot.test_dossier import answered, open_dossier, panels, text_of
from tests.prompting_keyring import PASSWORD_ENV, PromptingKeyring


@pytest.fixture
def prompting_keyring():
    previous = keyring.get_keyring()
    backend = PromptingKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def started_app(tmp_path, town_store, monkeypatch) -> CounterApp:
    """`counter serve --config …` up to the point where it would serve, then a terminal on it."""
    import argparse

    from counter.app_factory import build_app
    from counter.cli.serve import prepare
    from counter.runtime import resolve
    from counter.service.server import ServiceThread

    AgentService(town_store).add("agent", "agent")
    from fixtures.agents import preset_pin

    preset_pin(town_store, "agent")
    # The fictional town stands in for a production database here.
    with town_store.write_connection() as connection:
        connection.exec_driver_sql("UPDATE store_meta SET value = 'production' WHERE key = 'dataset'")
    config = tmp_path / "counter.toml"
    config.write_text(
        f'[database]\nurl = "{town_store.url}"\n[service]\nsocket = "{tmp_path / "counter.sock"}"\n'
        # Nothing listens there: the section fails, but only after the secret was used.
        '[backends.caf]\nkind = "api_particulier"\nbase_url = "http://127.0.0.1:9"\nrecipient = "21459999900015"\n',
        encoding="utf-8",
    )
    runtime = resolve(str(config), agent_login="agent", clock=FixedClock(TODAY))
    args = argparse.Namespace(socket=None, group=None, training=False, private=False, scenario=None)
    service = prepare(runtime, args)
    service.core.identify = lambda uid: "agent"  # the test's agent, whoever runs the tests
    app = build_app(service.runtime, service=ServiceThread(service).start())
    app.purpose_preset = "Instruction d'une demande"
    return app


async def test_a_locked_keyring_is_asked_once_before_the_app_and_never_inside_it(
        tmp_path, town_store, monkeypatch, prompting_keyring):
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    app = started_app(tmp_path, town_store, monkeypatch)
    assert prompting_keyring.prompts == 1  # before serving: where the administrator sees it
    async with started(app) as pilot:
        await open_dossier(app, pilot, "giraud anne")
        await until(pilot, lambda: app.screen.panels and answered(app), "every section")
        qf = panels(app)["caf.quotient_familial"]
        assert qf.answer.provenance.status is Status.UNAUTHORIZED
        assert "Trousseau de clés illisible" in text_of(qf)
    assert prompting_keyring.prompts == 1  # nothing asked while the screens ran


async def test_an_unlocked_keyring_gives_the_secrets_before_the_app(
        tmp_path, town_store, monkeypatch, prompting_keyring):
    monkeypatch.setenv(PASSWORD_ENV, "the keyring's own password")
    prompting_keyring.set_password("counter", "caf", "tok")
    app = started_app(tmp_path, town_store, monkeypatch)
    reads = prompting_keyring.reads
    assert reads == 1
    async with started(app) as pilot:
        await open_dossier(app, pilot, "giraud anne")
        await until(pilot, lambda: app.screen.panels and answered(app), "every section")
        assert app.local_service.service.core.services.dossier.backends["caf"].secret == "tok"
        qf = panels(app)["caf.quotient_familial"]
        assert qf.answer.provenance.status is Status.UNAVAILABLE  # asked with the secret; nobody listens
    assert prompting_keyring.reads == reads
