"""The counter service restarted in the middle of a visit: the agent types on,
the status line says the service is gone, and once it is back the stored draft
holds everything typed; the visit is then confirmed once."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from counter.service.composition import build_backends
from counter.service.server import Service, ServiceThread
from registrations.library.form import LibraryForm
from registrations.school.form import SchoolForm
from screens.receipt import ReceiptScreen
from screens.visit import ConfirmVisit, VisitScreen
from tests.pilot.helpers import started, status_text, until
from tests.pilot.test_visit import fill, open_visit, person_id, settled, stored_draft


async def test_what_is_typed_while_the_service_restarts_reaches_it_once(town_store, make_app):
    jade, nicolas = person_id(town_store, "DELAUNAY", "Jade"), person_id(town_store, "DELAUNAY", "Nicolas")
    app = make_app(town_store, backends="training")
    app.RECONNECT_SECONDS = 0.05  # the app tries again at this pace while the service is gone
    async with started(app, (100, 40)) as pilot:
        visit = await open_visit(app, pilot)
        first = app.local_service
        await asyncio.to_thread(first.stop)  # an upgrade, a restart: the socket is gone

        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, SchoolForm), "school form")
        await fill(pilot, app.screen, {"#person": jade, "#separated": "non", "#canteen-lun": True})
        await pilot.press("ctrl+s")  # checked here, as typed: the form closes
        await until(pilot, lambda: isinstance(app.screen, VisitScreen), "back to the visit")
        await until(pilot, lambda: app.service_down, "the service's absence noticed")
        assert "Service du guichet injoignable" in status_text(app)
        assert "saisi reste à l'écran" in status_text(app)
        await pilot.press("b")
        await until(pilot, lambda: isinstance(app.screen, LibraryForm), "library form")
        await fill(pilot, app.screen, {"#person": nicolas})
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, VisitScreen), "back to the visit")
        assert len(visit.draft.requests) == 2 and visit._written < visit._revision
        assert stored_draft(town_store, visit.visit_id).requests == []  # nothing reached the service yet

        # The same socket, the same database: a new service, which knows nothing of the visit's answers.
        runtime = first.service.runtime
        app.local_service = ServiceThread(Service(
            runtime, first.service.socket_path, mode=0o600, identify=first.service.core.identify, store=town_store,
            backends=build_backends(runtime))).start()
        await until(pilot, lambda: not app.service_down, "reconnected")
        await settled(pilot, visit)
        stored = stored_draft(town_store, visit.visit_id)
        assert stored.requests == visit.draft.requests and len(stored.requests) == 2
        assert stored.revision == visit._revision
        assert "2 demande(s)" in status_text(app)

        # The new service asks the agencies again; the visit is confirmed once.
        await until(pilot, lambda: not visit.facts.pending, "the agencies' answers, asked again")
        await settled(pilot, visit)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmVisit), "summary")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ReceiptScreen), "receipt")

    with town_store.engine.connect() as c:
        visits = c.execute(text("SELECT state, count(*) FROM visit GROUP BY state")).all()
        registrations = c.execute(text("SELECT kind FROM registration ORDER BY id")).scalars().all()
    assert visits == [("confirmed", 1)]
    assert registrations == ["school", "library"]


async def test_a_draft_unsent_when_the_agent_leaves_the_visit_still_reaches_the_service(town_store, make_app):
    nicolas = person_id(town_store, "DELAUNAY", "Nicolas")
    app = make_app(town_store, backends="training")
    app.RECONNECT_SECONDS = 0.05
    async with started(app, (100, 40)) as pilot:
        visit = await open_visit(app, pilot)
        first = app.local_service
        await asyncio.to_thread(first.stop)
        await pilot.press("b")
        await until(pilot, lambda: isinstance(app.screen, LibraryForm), "library form")
        await fill(pilot, app.screen, {"#person": nicolas})
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, VisitScreen), "back to the visit")
        await until(pilot, lambda: app.service_down, "the service's absence noticed")
        await pilot.press("escape")  # the visit screen is gone; the app still holds its draft
        await until(pilot, lambda: not isinstance(app.screen, VisitScreen), "the visit left")
        assert app.draft_unsent(visit.visit_id)

        runtime = first.service.runtime
        app.local_service = ServiceThread(Service(
            runtime, first.service.socket_path, mode=0o600, identify=first.service.core.identify, store=town_store,
            backends=[])).start()
        await until(pilot, lambda: not app.draft_unsent(visit.visit_id), "the draft acknowledged")
        assert [r.person_id for r in stored_draft(town_store, visit.visit_id).requests] == [nicolas]
