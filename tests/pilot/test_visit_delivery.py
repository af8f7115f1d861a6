"""Done when: the registrations reach the emulated family system and Koha exactly
once, even when both were down at the moment of confirming."""

from __future__ import annotations

import httpx
from sqlalchemy import text

from counter import registry
from counter.backend import BackendContext
from counter.config import TRAINING_BACKENDS
from fixtures.emulators.city.app import CityApp
from fixtures.emulators.city.app import error_body as city_error_body
from fixtures.emulators.knobs import in_process_transport
from fixtures.emulators.koha.app import KohaApp
from fixtures.emulators.koha.app import error_body as koha_error_body
from fixtures.emulators.plugin import EmulatorContext
from fixtures.emulators.town_data import town_data
from registrations.creche.form import CrecheForm
from registrations.library.form import LibraryForm
from registrations.school.form import SchoolForm
from screens.receipt import ReceiptScreen
from screens.visit import ConfirmVisit, VisitScreen
from tests.pilot.helpers import started, until
from tests.pilot.test_visit import fill, open_visit, person_id


async def another_round(service):
    """One more round of the service's outbox relay, on the service's own loop."""
    import asyncio

    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(service._relay.run_once(), service._loop))


class Switch(httpx.AsyncBaseTransport):
    """The network to an agency, which the test cuts and restores."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner, self.down = inner, True

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        return await self.inner.handle_async_request(request)


def backend(kind: str, transport) -> object:
    """The training agency of ``kind`` (its settings as training has them) on ``transport``."""
    plugin = registry.load(kind)
    settings = plugin.Settings.model_validate(dict(TRAINING_BACKENDS[kind]))
    return plugin.create(BackendContext(kind, settings, None, transport, training=True))


async def test_registrations_confirmed_while_agencies_are_down_arrive_once(town_store, make_app):
    town = town_data()
    city_app, koha_app = CityApp(EmulatorContext(town=town)), KohaApp(EmulatorContext(town=town))
    city = Switch(in_process_transport(city_app.asgi(), None, city_error_body))
    koha = Switch(in_process_transport(koha_app.asgi(), None, koha_error_body))
    app = make_app(town_store, backends=[backend("city", city), backend("koha", koha)])
    jade, lina = person_id(town_store, "DELAUNAY", "Jade"), person_id(town_store, "DELAUNAY", "Lina")
    nicolas = person_id(town_store, "DELAUNAY", "Nicolas")
    async with started(app, (100, 40)) as pilot:
        await open_visit(app, pilot)
        for key, form_type, values in (
            ("e", SchoolForm, {"#person": jade, "#separated": "non"}),
            ("c", CrecheForm, {"#person": lina, "#start": "01/09/2027", "#days": "3", "#hours": "24",
                               "#resources": "30000"}),
            ("b", LibraryForm, {"#person": nicolas}),
        ):
            await pilot.press(key)
            await until(pilot, lambda form_type=form_type: isinstance(app.screen, form_type), "form")
            if form_type is CrecheForm:
                values["#choice1"] = app.screen.context.creches[0].id
            await fill(pilot, app.screen, values)
            await pilot.press("ctrl+s")
            await until(pilot, lambda: isinstance(app.screen, VisitScreen), "visit")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmVisit), "summary")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ReceiptScreen), "receipt")  # confirmed at once

        def outbox():
            with town_store.engine.connect() as c:
                return c.execute(text("SELECT state, attempts, idempotency_key FROM outbox ORDER BY id")).all()

        await until(pilot, lambda: all(row.attempts >= 1 for row in outbox()), "delivery attempts")
        assert all(row.state == "pending" for row in outbox())  # kept, to be retried

        city.down = koha.down = False
        # The backoff would wait minutes: make the messages due now.
        with town_store.engine.connect() as c:
            c.execute(text("UPDATE outbox SET next_attempt_at = created_at"))
            c.commit()
        service = app.local_service.service.core  # the relay runs in the service
        service.wake_outbox()
        await until(pilot, lambda: all(row.state == "delivered" for row in outbox()), "deliveries")
        assert (await another_round(service)).total == 0  # nothing is sent again

    keys = [row.idempotency_key for row in outbox()]
    assert city_app.received[keys[0]] == 1 and city_app.received[keys[1]] == 1
    # Koha has no idempotency keys: the adapter looks the card up first; one card, never two.
    with town_store.engine.connect() as c:
        born = c.execute(text("SELECT birth_year, birth_month, birth_day FROM person WHERE id = :i"),
                         {"i": nicolas}).one()
    cards = [r for r in koha_app.all_rows() if r["surname"] == "DELAUNAY" and r["firstname"] == "Nicolas"
             and r["date_of_birth"] == f"{born[0]:04d}-{born[1]:02d}-{born[2]:02d}"]
    assert len(cards) == 1 and koha_app.request_ids[keys[2]] <= 1
