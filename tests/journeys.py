"""Every screen of the counter, reached by keyboard the way an agent reaches it.

Each journey is a ``run_before``-style coroutine factory: given the pilot of
an app made by ``make_app`` (the fictional town; the emulated agencies where
the screen needs them), it leaves that screen on top, its workers done. The
pilot tests at 80x24 and the snapshot tests share them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from tests.pilot.helpers import type_text, until


@dataclass(frozen=True)
class Journey:
    name: str
    build: Callable[[Any], Callable]  # store -> run_before(pilot)
    agencies: bool = False  # the emulated agencies of training mode
    supervisor: bool = False
    registered: bool = False  # Jade's school registration confirmed beforehand
    with_receipt: bool = False  # and its receipt stored


def _typing(text: str):
    async def run_before(pilot) -> None:
        await until(pilot, lambda: pilot.app.ready, "services")
        if text:
            await type_text(pilot, text)

    return run_before


def _household(query: str):
    async def run_before(pilot) -> None:
        from screens.household import HouseholdScreen

        app = pilot.app
        await _typing(query)(pilot)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, HouseholdScreen) and app.screen.view is not None,
                    "household")

    return run_before


def _dossier(query: str):
    from tests.snapshot.test_dossier_screens import opening_dossier

    return opening_dossier(query)


def _corrections(query: str):
    async def run_before(pilot) -> None:
        from screens.corrections import ChooseCorrection

        await _dossier(query)(pilot)
        await pilot.press("m")
        await until(pilot, lambda: isinstance(pilot.app.screen, ChooseCorrection), "the corrections")
        await pilot.pause()

    return run_before


def _declare_qf():
    async def run_before(pilot) -> None:
        from screens.visit import DeclareQf
        from tests.snapshot.test_visit_screens import _visit

        await _visit(pilot)
        pilot.app.push_screen(DeclareQf(None))
        await until(pilot, lambda: isinstance(pilot.app.screen, DeclareQf), "the QF dialog")
        await pilot.pause()

    return run_before


def _stored_receipt():
    async def run_before(pilot) -> None:
        from screens.receipt import StoredReceiptScreen
        from tests.snapshot.test_registrations_screens import registrations

        await registrations(False)(pilot)
        await pilot.press("r")
        await until(pilot, lambda: isinstance(pilot.app.screen, StoredReceiptScreen), "the stored receipt")
        await pilot.pause()

    return run_before


def _front_desk(final: str):
    """The waiting list with tickets 1 (called by the agent) and 2, or one of its modals."""

    async def run_before(pilot) -> None:
        from screens.front_desk import EndVisit, IssueTicket, QueueScreen

        app = pilot.app
        await until(pilot, lambda: app.ready and app.session is not None, "services")
        if final == "end_visit":
            await _household("delaunay jade 2024")(pilot)
            await pilot.press("t")
            await until(pilot, lambda: isinstance(app.screen, EndVisit), "the end of the visit")
            await pilot.press("2", "o")
            await pilot.pause()
            return
        await pilot.press("f12")
        await until(pilot, lambda: isinstance(app.screen, QueueScreen) and app.screen.view is not None, "queue")
        for keys in (("3", "4", "b", "r"), ("1",)):
            await pilot.press("t")
            await until(pilot, lambda: isinstance(app.screen, IssueTicket), "the ticket")
            if final == "issue_ticket" and len(keys) == 1:
                await pilot.press("1", "2", "b", "b")
                await pilot.pause()
                return
            await pilot.press(*keys, "enter")
            await until(pilot, lambda: isinstance(app.screen, QueueScreen) and "émis" in _status(app), "issued")
        await until(pilot, lambda: len(app.screen.view.tickets) == 2, "two tickets")
        await pilot.press("a")
        await until(pilot, lambda: app.screen.view.mine is not None, "the call")
        await pilot.pause()

    return run_before


def _status(app) -> str:
    from screens.widgets import StatusLine

    return str(app.screen.query_one(StatusLine).render())


def _visit_screen(final: str):
    def build(store):
        from tests.snapshot import test_visit_screens as visits

        if final in ("school_form", "creche_form", "library_form"):
            return getattr(visits, final)(store)
        return visits.with_requests(store, final)

    return build


def _registrations(screen: str):
    def build(_store):
        from tests.snapshot import test_registrations_screens as regs

        return {"registrations": regs.registrations(False), "cancel_dialog": regs.registrations(True),
                "outbox": regs._outbox}[screen]

    return build


def _address_picker(query: str):
    async def run_before(pilot) -> None:
        from screens.address_picker import AddressPicker

        app = pilot.app
        await _corrections(query)(pilot)
        await pilot.press("end", "enter")  # the last choice: pick the address from the town's list
        await until(pilot, lambda: isinstance(app.screen, AddressPicker) and app.screen.streets, "the street list")
        await until(pilot, lambda: not any(w.node is app.screen and w.is_running for w in app.workers),
                    "the screen's workers")
        await pilot.pause()

    return run_before


def _family(screen: str):
    def build(_store):
        from tests.snapshot import test_family_screens as family

        return getattr(family, screen)()

    return build


JOURNEYS = {j.name: j for j in [
    Journey("search_empty", lambda s: _typing("")),
    Journey("search_results", lambda s: _typing("roux")),
    Journey("household", lambda s: _household("besson guil")),
    # The DELAUNAY household: Jade (born 2024, "PS · crèche") and a baby, Lina.
    Journey("household_young_children", lambda s: _household("delaunay jade 2024")),
    Journey("dossier", lambda s: _dossier("giraud anne"), agencies=True),
    Journey("corrections", lambda s: _corrections("giraud anne"), agencies=True),
    Journey("address_picker", lambda s: _address_picker("giraud anne"), agencies=True),
    Journey("visit", _visit_screen("visit"), agencies=True),
    Journey("school_form", _visit_screen("school_form"), agencies=True),
    Journey("creche_form", _visit_screen("creche_form"), agencies=True),
    Journey("library_form", _visit_screen("library_form"), agencies=True),
    Journey("summary", _visit_screen("summary"), agencies=True),
    Journey("receipt", _visit_screen("receipt"), agencies=True),
    Journey("declare_qf", lambda s: _declare_qf(), agencies=True),
    Journey("registrations", _registrations("registrations"), supervisor=True, registered=True),
    Journey("cancel_dialog", _registrations("cancel_dialog"), supervisor=True, registered=True),
    Journey("stored_receipt", lambda s: _stored_receipt(), supervisor=True, registered=True, with_receipt=True),
    Journey("outbox", _registrations("outbox"), supervisor=True, registered=True),
    Journey("new_family", _family("new_family")),
    Journey("member_form", _family("member_form")),
    Journey("likely_duplicates", _family("likely_duplicates")),
    Journey("queue", lambda s: _front_desk("queue")),
    Journey("issue_ticket", lambda s: _front_desk("issue_ticket")),
    Journey("end_visit", lambda s: _front_desk("end_visit")),
]}


def app_for(journey: Journey, make_app, store):
    """The app a journey starts from (Jade registered first when it needs her)."""
    if journey.registered:
        from tests.snapshot.test_registrations_screens import registered_at_fixed_times

        from tests.pilot.test_registrations_screens import jade_receipt

        registered_at_fixed_times(store, receipt=jade_receipt if journey.with_receipt else None)
    app = make_app(store, backends="training") if journey.agencies else make_app(store)
    # journey.supervisor: training makes every agent a trainer, who may do what a supervisor may.
    return app
