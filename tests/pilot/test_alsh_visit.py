"""Done when, for the accueil de loisirs, at 80x24: a child registered for two
weeks of the Christmas holidays in a visit, the receipt saying it, delivered
once through the outbox to the emulated family system, in the export, then
cancelled (the cancellation delivered too)."""

from __future__ import annotations

import io
import json
from datetime import date

from sqlalchemy import text

from counter.services.export import export_registrations
from fixtures.emulators.city.app import CityApp
from fixtures.emulators.city.app import error_body as city_error_body
from fixtures.emulators.knobs import in_process_transport
from fixtures.emulators.plugin import EmulatorContext, emulated_transport
from fixtures.emulators.town_data import town_data
from registrations.alsh.form import AlshForm
from screens.household import HouseholdScreen
from screens.receipt import ReceiptScreen
from screens.registrations import CancelReason, RegistrationsScreen
from screens.visit import ConfirmVisit, VisitScreen
from tests.pilot.helpers import assert_layout_intact, screen_lines, started, table_rows, type_text, until
from tests.pilot.test_visit import fill, settled
from tests.pilot.test_visit_delivery import backend

HOUSEHOLD = 4365  # the DELAUNAY household of Abdoulaye (born 06/06/2022: maternelle) and Emma (8)
WEEKS = ("#week-20261221", "#week-20261228")


def abdoulaye(store) -> int:
    with store.engine.connect() as c:
        return c.execute(text(
            "SELECT p.id FROM person p JOIN household_member m ON m.person_id = p.id "
            "WHERE m.household_id = :h AND p.given_names LIKE 'Abdoulaye%'"), {"h": HOUSEHOLD}).scalar_one()


def outbox(store):
    with store.engine.connect() as c:
        return c.execute(text("SELECT operation, state, payload FROM outbox ORDER BY id")).all()


async def visit_of_abdoulaye(app, pilot) -> VisitScreen:
    await type_text(pilot, "delaunay abdoulaye")
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, HouseholdScreen) and app.screen.view is not None, "household")
    assert app.screen.view.id == HOUSEHOLD
    await pilot.press("f4")
    await until(pilot, lambda: isinstance(app.screen, VisitScreen) and app.screen.context is not None, "visit")
    await until(pilot, lambda: not app.screen.facts.pending, "agency facts")
    await settled(pilot, app.screen)
    return app.screen


async def test_two_holiday_weeks_from_the_visit_to_the_family_system_and_back(town_store, make_app):
    town = town_data()
    city_app = CityApp(EmulatorContext(town=town))
    city = backend("city", in_process_transport(city_app.asgi(), None, city_error_body))
    caf = backend("api_particulier", emulated_transport("api_particulier"))
    app = make_app(town_store, backends=[caf, city])
    child = abdoulaye(town_store)
    async with started(app, (80, 24)) as pilot:
        await visit_of_abdoulaye(app, pilot)
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, AlshForm), "the accueil de loisirs form")
        form = app.screen
        await until(pilot, lambda: "Vacances de Noël 2026 (zone B)" in "\n".join(screen_lines(app)), "\n".join(screen_lines(app)))
        await fill(pilot, form, {"#person": child})
        places = str(form.query_one("#weeks-box").render())
        assert "maternelle, 3-5 ans" in places and "21/12 : 24 places" in places
        await fill(pilot, form, {WEEKS[0]: True, WEEKS[1]: True})
        assert_layout_intact(app)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, VisitScreen), "back to the visit")
        await settled(pilot, app.screen)
        assert "vacances de Noël 2026, 2 sem." in "\n".join(screen_lines(app))

        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmVisit), "summary")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ReceiptScreen), "receipt")
        receipt = " ".join(str(app.screen.query_one("#receipt").render()).split())  # lines wrapped at 72
        for said in ("1. Loisirs — Abdoulaye DELAUNAY (né le 06/06/2022) Accueil de loisirs, vacances de Noël 2026 "
                     "(zone B) : semaines du 21/12 et du 28/12/2026",
                     "Semaine du 21/12/2026 : 4 jours", "place réservée",
                     "Attestation d'assurance extrascolaire"):
            assert said in receipt, said

        # Delivered once to the town's family system, which gives both weeks a place.
        await until(pilot, lambda: [m.state for m in outbox(town_store)] == ["delivered"], "delivery")
        [message] = outbox(town_store)
        sent = json.loads(message.payload)
        assert sent["kind"] == "alsh" and sent["weeks"] == ["2026-12-21", "2026-12-28"]
        [answer] = [r for r in city_app.registrations.values() if r["kind"] == "alsh"]
        assert [w["state"] for w in answer["alsh"]["weeks"]] == ["registered", "registered"]
        assert sum(city_app.received.values()) == 1

        # Cancelled from F9 (a trainer plays the supervisor in training): the town is told.
        await pilot.press("escape")
        await app.push_screen(RegistrationsScreen())
        await until(pilot, lambda: isinstance(app.screen, RegistrationsScreen), "registrations")
        with town_store.engine.connect() as c:
            code = c.execute(text("SELECT code FROM visit WHERE state = 'confirmed'")).scalar_one()
        await type_text(pilot, code.lower())
        await until(pilot, lambda: bool(table_rows(app)), "the registration listed")
        assert table_rows(app)[0][2] == "Loisirs"
        await pilot.press("enter")  # the detail, from the database
        detail = app.screen.query_one("#detail")
        await until(pilot, lambda: "Semaine du 28/12/2026 (maternelle, 3-5 ans) : place réservée"
                    in " ".join(str(detail.render()).split()), "detail")
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, CancelReason), "reason dialog")
        await pilot.press(*"Erreur de semaine")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, RegistrationsScreen), "back to the list")
        await until(pilot, lambda: table_rows(app)[0][4] == "annulé(e)", "cancelled")
        app.local_service.service.core.wake_outbox()
        await until(pilot, lambda: [m.state for m in outbox(town_store)] == ["delivered", "delivered"],
                    "the cancellation delivered")
    assert city_app.cancelled[answer["id"]]["kind"] == "alsh"
    assert outbox(town_store)[1].operation == "city.cancellation"

    out = io.StringIO()
    export_registrations(town_store, date(2026, 1, 1), "csv", out)
    [row] = [line for line in out.getvalue().splitlines() if ",alsh," in line]
    assert ",cancelled," in row and ",delivered," in row
