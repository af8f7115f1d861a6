"""Library cards from a production counter (issue 11, point 5): a production
configuration (not the training town's tables), a production store on SQLite
and PostgreSQL, the visit confirmed by the service the screens use, and the
relay sending through the real Koha adapter to the Koha emulator — which
wants its password and checks library_id as Koha does."""

from __future__ import annotations

import argparse
import json
import logging

import pytest
from sqlalchemy import text, update

from counter import registry
from counter.service.composition import make_services
from counter.backend import BackendContext
from counter.domain.registrations import message_lines
from counter.domain.visits import VisitDraft
from counter.runtime import Runtime, resolve
from counter.services.outbox import OutboxRelay, RelayReport, list_messages
from counter.services.visits import payload_builder
from counter.store.models import Agent, OutboxMessage
from fixtures.emulators.knobs import in_process_transport
from fixtures.emulators.koha.app import KohaApp
from fixtures.emulators.koha.app import error_body as koha_error_body
from fixtures.emulators.plugin import EmulatorContext
from fixtures.emulators.town_data import town_data
from registrations.library.kind import LibraryRequest
from tests.conftest import TODAY
from tests.factories import add_household, person

PASSWORD = "mot-de-passe-koha"
SUPERVISOR = "chef"


def production(tmp_path, store, koha_keys: str = "") -> Runtime:
    """The runtime of a production configuration file whose Koha is the town's médiathèque."""
    path = tmp_path / "counter.toml"
    path.write_text(
        f'[database]\nurl = "{store.url.render_as_string(hide_password=False)}"\n'
        f'[backends.koha]\nkind = "koha"\nbase_url = "https://koha.bellerive-sur-loire.fr"\n{koha_keys}',
        encoding="utf-8")
    runtime = resolve(str(path), agent_login=SUPERVISOR)
    assert runtime.mode == "production"
    return runtime


def koha(*codes: str) -> KohaApp:
    """Koha with the town's libraries (only ``codes`` when given), wanting the API user's password."""
    app = KohaApp(EmulatorContext(town=town_data(), token=PASSWORD))
    if codes:
        app.libraries = {code: row for code, row in app.libraries.items() if code in codes}
    return app


def relay(store, runtime: Runtime, app: KohaApp) -> OutboxRelay:
    settings = runtime.backends["koha"]
    backend = registry.load("koha").create(BackendContext(
        name="koha", settings=settings, secret=PASSWORD, training=False,
        transport=in_process_transport(app.asgi(), None, koha_error_body)))
    return OutboxRelay(store, {"koha": backend}, owner="test")


def confirm_card(store, runtime: Runtime) -> int:
    """A reader's new card confirmed at the counter, as screens.visit does it; the outbox message id."""
    household = add_household(store, "rue des Sablons", 86, [
        (person("OUTBOXIER", "Camille, Rose", (1990, 5, 17), email="camille@example.org"), "parent")])
    visits = make_services(store, runtime).visits
    visit_id = visits.start(household_id=household)
    context = visits.context(visit_id)
    reader = context.members[0]
    draft = VisitDraft(household_id=household, requests=[LibraryRequest(reader.person_id, "ADULTE")])
    visits.confirm(visit_id, draft, code="RCP-TEST-0001", payloads=payload_builder(store, context, TODAY))
    with store.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM library_branch")).scalar_one() == 0  # not training
        message_id, payload = connection.execute(text("SELECT id, payload FROM outbox")).one()
    assert "library_id" not in json.loads(payload)  # Koha's adapter sets it when it sends (never "")
    return message_id


def outbox_row(store, message_id: int) -> OutboxMessage:
    with store.read() as session:
        return session.get(OutboxMessage, message_id)


async def test_a_card_goes_to_the_library_the_configuration_names(store, tmp_path):
    runtime = production(tmp_path, store, 'library_id = "BEL-LOI"\n')
    message_id = confirm_card(store, runtime)
    app = koha()

    sending = relay(store, runtime, app)
    assert await sending.run_once() == RelayReport(delivered=1)
    await sending.backends["koha"].aclose()

    [patron] = app.created
    assert (patron["surname"], patron["firstname"], patron["library_id"]) == ("OUTBOXIER", "Camille", "BEL-LOI")
    row = outbox_row(store, message_id)
    assert row.state == "delivered" and row.external_ref == str(patron["patron_id"])


async def test_without_a_configured_library_koha_s_only_one_is_used(store, tmp_path):
    runtime = production(tmp_path, store)
    message_id = confirm_card(store, runtime)
    app = koha("BEL-CTR")

    sending = relay(store, runtime, app)
    assert await sending.run_once() == RelayReport(delivered=1)
    await sending.backends["koha"].aclose()

    assert [p["library_id"] for p in app.created] == ["BEL-CTR"]
    assert outbox_row(store, message_id).state == "delivered"


async def test_several_libraries_and_none_configured_wait_for_the_administrator(store, tmp_path):
    runtime = production(tmp_path, store)
    message_id = confirm_card(store, runtime)
    app = koha()

    sending = relay(store, runtime, app)
    assert await sending.run_once() == RelayReport(retried=1)  # kept: nothing the family must redo
    await sending.backends["koha"].aclose()
    row = outbox_row(store, message_id)
    assert row.state == "pending" and app.created == []
    assert row.last_error == ("Essai 1 : Koha gère 2 bibliothèques (BEL-CTR, BEL-LOI) : l'administrateur doit "
                              "choisir celle des nouvelles cartes (library_id dans [backends.koha]).")

    # The administrator names the library; the waiting card then goes there.
    runtime = production(tmp_path, store, 'library_id = "BEL-CTR"\n')
    with store.write() as session:
        session.execute(update(OutboxMessage).values(next_attempt_at=row.created_at))
    sending = relay(store, runtime, app)
    assert await sending.run_once() == RelayReport(delivered=1)
    await sending.backends["koha"].aclose()
    assert [p["library_id"] for p in app.created] == ["BEL-CTR"]


@pytest.fixture
def log_file(tmp_path):
    """The counter's own log file, as a counter writes it (counter.logs); put back as it was after."""
    from counter.logs import setup_logging

    logger = logging.getLogger("counter")
    before = logger.handlers[:], logger.level, logger.propagate
    path = setup_logging(tmp_path / "logs")
    yield path
    for handler in logger.handlers:
        handler.close()
    logger.handlers[:], logger.level, logger.propagate = before


async def test_a_refused_card_shows_koha_s_own_reason_in_the_outbox(store, tmp_path, capsys, log_file):
    from counter.cli import outbox as cli_outbox

    runtime = production(tmp_path, store, 'library_id = "ANNEXE"\n')  # a library Koha does not have
    message_id = confirm_card(store, runtime)
    with store.write() as session:
        session.add(Agent(login=SUPERVISOR, role="supervisor"))

    sending = relay(store, runtime, koha())
    assert await sending.run_once() == RelayReport(refused=1)
    await sending.backends["koha"].aclose()

    reason = "Refusé par « koha » (400) : Koha a refusé la fiche lecteur : « Given library_id does not exist. »."
    assert outbox_row(store, message_id).last_error == reason
    # `counter outbox list`…
    parser = argparse.ArgumentParser(prog="counter")
    cli_outbox.register(parser.add_subparsers(dest="command"))
    assert cli_outbox.run(runtime, parser.parse_args(["outbox", "list", "--state", "refused"])) == 0
    assert reason in capsys.readouterr().out
    # …and the supervisors' outbox screen (its detail panel) give Koha's reason.
    [view] = list_messages(store, "refused")
    assert f"Dernière erreur : {reason}" in message_lines(view)
    # The log says what happened to which message, never who it was about.
    logged = log_file.read_text(encoding="utf-8")
    assert f"message {message_id} (koha.patron) refused" in logged
    assert not any(name in logged for name in ("OUTBOXIER", "Camille", "camille@example.org"))


def test_the_library_setting_is_checked_when_the_configuration_is_read(store, tmp_path):
    from counter.config import ConfigError

    for value in ('""', '"BEL CTR"', '"BIBLIOTHEQUE-CENTRALE"', "12"):
        with pytest.raises(ConfigError, match=r"backends\.koha\.library_id"):
            production(tmp_path, store, f"library_id = {value}\n")
    assert production(tmp_path, store, 'library_id = "MED"\n').backends["koha"].library_id == "MED"
