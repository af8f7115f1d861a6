"""Registrations and the outbox by keyboard, at 80×24, on the fictional town."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import text

from counter.clock import FixedClock
from counter.domain.visits import VisitDraft
from counter.services.visits import VisitService
from registrations.school.kind import SchoolRequest
from screens.outbox import OutboxScreen
from screens.registrations import CancelReason, RegistrationsScreen
from tests.conftest import TODAY
from tests.pilot.helpers import started, status_text, table_rows, type_text, until

HOUSEHOLD = 1403  # the DELAUNAY household: Jade, born 2024, starts school in 2027
CODE = "RCP-7K3M-Q2XD"
LATER = datetime(2100, 1, 1, tzinfo=UTC)  # the app's relay leaves these messages alone


def jade_receipt(confirmation):
    from counter.domain.receipt import Receipt, ReceiptLine

    line = ReceiptLine(kind="school", who="Jade DELAUNAY", what="École maternelle — PS, 2027-2028",
                       state="registered", state_label="inscrit(e)")
    return Receipt(code=confirmation.code, issued_on=TODAY, town="Bellerive-sur-Loire", agent="guichet1",
                   household="Foyer F-01403", lines=(line,), training=True)


def register_jade(store, receipt=None) -> int:
    """Jade's school registration, confirmed at another counter; its registration id."""
    visits = VisitService(store, FixedClock(TODAY), "guichet1", host="poste-1")
    visit_id = visits.start(household_id=HOUSEHOLD)
    context = visits.context(visit_id)
    jade = next(m for m in context.members if m.given_names[0] == "Jade")
    level = context.level_of(jade)
    school = context.sector_school_for(level)
    draft = VisitDraft(household_id=HOUSEHOLD,
                       requests=[SchoolRequest(jade.person_id, context.school_year, level, school, school,
                                                     separated_parents=False)])
    done = visits.confirm(visit_id, draft, code=CODE, payloads=lambda r, rid, s: ("city.registration", {}),
                          receipt=receipt)
    with store.write_connection() as connection:
        connection.execute(text("UPDATE outbox SET next_attempt_at = :t"), {"t": LATER})
    return done.outcomes[0].registration_id


def app_as(make_app, store, role: str):
    """A production counter whose agent has ``role`` in the agents table: the service reads it
    there (in training everyone is a trainer, who plays the supervisor's part)."""
    from fixtures.agents import give_role

    app = make_app(store, mode="production")
    give_role(store, "agent", role)
    return app


def with_printer(app, printer: str) -> None:
    """The town's printer, in the configuration of the service that prints."""
    from counter.domain.rules import default_rules

    core = app.local_service.service.core
    core.runtime = replace(core.runtime, rules=replace(default_rules(), printer=printer))


def one(store, sql: str, **params):
    with store.engine.connect() as connection:
        return connection.execute(text(sql), params).one()


async def open_registrations(app, pilot) -> RegistrationsScreen:
    await app.push_screen(RegistrationsScreen())
    await until(pilot, lambda: isinstance(app.screen, RegistrationsScreen), "registrations screen")
    return app.screen


async def test_a_supervisor_finds_a_registration_by_code_and_cancels_it(town_store, make_app):
    registration = register_jade(town_store)
    app = app_as(make_app, town_store, "supervisor")
    async with started(app) as pilot:
        await open_registrations(app, pilot)
        await type_text(pilot, CODE.lower())
        [row] = table_rows(app)
        assert row[0] == CODE and row[2] == "École" and "Jade" in row[3]
        assert row[4] in ("inscrit(e)", "sur liste d'…", "sur liste d'attente") and row[5] == "en attente"

        await pilot.press("enter")  # the detail, from the database
        detail = app.screen.query_one("#detail")
        await until(pilot, lambda: "Envoi à « city » : en attente" in str(detail.render()), "detail")

        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, CancelReason), "reason dialog")
        await pilot.press("enter")  # no reason: refused in the dialog
        assert "Indiquez le motif" in str(app.screen.query_one("#cancel-error").render())
        await pilot.press(*"Demenagement")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, RegistrationsScreen), "back to the list")
        await until(pilot, lambda: table_rows(app) and table_rows(app)[0][4] == "annulé(e)", "cancelled row")
        assert "Inscription annulée." in status_text(app) and "ne sera pas transmise" in status_text(app)
        assert table_rows(app)[0][5] == "annulé"

    row = one(town_store, "SELECT state, cancelled_by, cancel_reason FROM registration WHERE id = :id",
              id=registration)
    assert tuple(row) == ("cancelled", "agent", "Demenagement")
    assert one(town_store, "SELECT state FROM outbox WHERE registration_id = :id", id=registration)[0] == "cancelled"


async def test_an_agent_is_told_only_a_supervisor_may_cancel(town_store, make_app):
    registration = register_jade(town_store)
    app = app_as(make_app, town_store, "agent")
    async with started(app) as pilot:
        await open_registrations(app, pilot)
        await type_text(pilot, "delaunay jade")
        assert [r[0] for r in table_rows(app)] == [CODE]
        await pilot.press("down", "a")
        await until(pilot, lambda: "Seul un superviseur peut annuler une inscription." in status_text(app),
                    "refusal")
        assert isinstance(app.screen, RegistrationsScreen) and table_rows(app)[0][5] == "en attente"
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, RegistrationsScreen), "back")

    assert one(town_store, "SELECT state FROM registration WHERE id = :id", id=registration)[0] != "cancelled"
    assert one(town_store, "SELECT count(*) FROM audit_entry WHERE action = 'registration.cancel_refused' "
                           "AND target_id = :id", id=str(registration))[0] == 1


async def test_the_outbox_lists_messages_and_relaunches_a_refused_one(town_store, make_app):
    registration = register_jade(town_store)
    with town_store.write_connection() as connection:
        connection.execute(text("UPDATE outbox SET state = 'refused', last_error = :e WHERE registration_id = :r"),
                           {"e": "Refusé par « city » (409) : dossier incomplet", "r": registration})
    app = app_as(make_app, town_store, "supervisor")
    async with started(app) as pilot:
        await app.push_screen(OutboxScreen())
        await until(pilot, lambda: isinstance(app.screen, OutboxScreen) and table_rows(app, "#messages"),
                    "messages")
        await pilot.press("r")
        await until(pilot, lambda: "1 message refusé." in status_text(app), "refused filter")
        [row] = table_rows(app, "#messages")
        assert row[1] == str(registration) and row[2] == "city" and row[4] == "refusé"
        assert "dossier incomplet" in str(app.screen.query_one("#detail").render())
        await pilot.press("e")
        await until(pilot, lambda: "relancé" in status_text(app), "relaunched")
        await until(pilot, lambda: table_rows(app, "#messages") == [], "no refused message left")
        await pilot.press("t")
        await until(pilot, lambda: "1 message." in status_text(app), "every message")
        assert table_rows(app, "#messages")[0][4] == "en attente"

    assert one(town_store, "SELECT state FROM outbox WHERE registration_id = :r", r=registration)[0] == "pending"


async def test_the_outbox_is_closed_to_agents(town_store, make_app):
    register_jade(town_store)
    app = app_as(make_app, town_store, "agent")
    async with started(app) as pilot:
        await app.push_screen(OutboxScreen())
        await until(pilot, lambda: isinstance(app.screen, OutboxScreen), "outbox screen")
        assert "réservé aux superviseurs" in str(app.screen.query_one("#refusal").render())
        assert not app.screen.query("#messages")
        await pilot.press("r", "e")  # nothing happens
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, OutboxScreen), "back")


async def test_f9_shows_a_visits_receipt_written_again_from_the_database_and_reprints_it(
        town_store, make_app, tmp_path, monkeypatch):
    from screens.receipt import StoredReceiptScreen

    register_jade(town_store, receipt=jade_receipt)
    (tmp_path / "bin").mkdir()
    log = tmp_path / "lp-args"
    lp = tmp_path / "bin" / "lp"
    lp.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" >> "{log}"\necho "request id is accueil-1"\n')
    lp.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    app = app_as(make_app, town_store, "agent")  # any agent may hand a receipt again
    with_printer(app, "accueil")
    pdf = tmp_path / "receipts" / "2026" / "11" / f"{CODE}.pdf"
    assert not pdf.exists()  # lost: the counter stopped before writing it
    async with started(app) as pilot:
        await open_registrations(app, pilot)
        await type_text(pilot, CODE)
        await pilot.press("down", "r")
        await until(pilot, lambda: isinstance(app.screen, StoredReceiptScreen), "the receipt")
        assert "Jade DELAUNAY" in str(app.screen.query_one("#receipt").render())
        assert pdf.exists() and (tmp_path / "receipts" / "2026" / "11" / f"{CODE}.txt").exists()
        await pilot.press("p")
        await until(pilot, lambda: "envoyé à l'imprimante « accueil »" in status_text(app), "printed")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, RegistrationsScreen), "back to the list")
        await pilot.press("p")  # straight from the list
        await until(pilot, lambda: "envoyé à l'imprimante « accueil »" in status_text(app), "printed again")
    assert log.read_text().splitlines() == ["-d", "accueil", str(pdf)] * 2
    assert one(town_store, "SELECT count(*) FROM audit_entry WHERE action = 'receipt.reprint'")[0] == 2


async def test_f9_says_when_a_visit_has_no_stored_receipt(town_store, make_app):
    register_jade(town_store)  # confirmed before receipts were kept
    app = app_as(make_app, town_store, "agent")
    async with started(app) as pilot:
        await open_registrations(app, pilot)
        await type_text(pilot, CODE)
        await pilot.press("down", "r")
        await until(pilot, lambda: "Récépissé non conservé pour cette visite" in status_text(app), "refusal")
        assert isinstance(app.screen, RegistrationsScreen)


async def test_a_code_typed_while_the_service_is_gone_is_searched_once_it_is_back(town_store, make_app):
    from counter.service.server import Service, ServiceThread

    register_jade(town_store)
    app = make_app(town_store)
    async with started(app) as pilot:
        screen = await open_registrations(app, pilot)
        gone = app.local_service.service
        app.local_service.stop()  # restarted, upgraded, killed
        await pilot.press(*CODE)
        await until(pilot, lambda: "injoignable" in status_text(app), "the service said to be gone")
        assert screen.query_text == CODE and table_rows(app) == []
        back = Service(gone.runtime, gone.socket_path, mode=0o600, identify=gone.core.identify, store=town_store)
        back.core.background = False
        app.local_service = ServiceThread(back).start()  # stopped with the app
        await until(pilot, lambda: [r[0] for r in table_rows(app)] == [CODE], "searched once back")
        assert "1 inscription trouvée." in status_text(app)
