"""Each form of a visit, its summary and the receipt, as the agent sees them at 80x24."""

from __future__ import annotations

import pytest

from registrations.creche.form import CrecheForm
from registrations.library.form import LibraryForm
from registrations.school.form import SchoolForm
from screens.receipt import ReceiptScreen
from screens.visit import ConfirmVisit, VisitScreen
from tests.pilot.helpers import until
from tests.pilot.test_visit import fill, open_visit, person_id, settled

SIZE = (80, 24)


async def _visit(pilot):
    await until(pilot, lambda: pilot.app.ready, "services")
    await open_visit(pilot.app, pilot)


def school_form(store):
    jade = person_id(store, "DELAUNAY", "Jade")

    async def run_before(pilot):
        await _visit(pilot)
        await pilot.press("e")
        await until(pilot, lambda: isinstance(pilot.app.screen, SchoolForm), "school form")
        await fill(pilot, pilot.app.screen, {"#person": jade, "#separated": "non", "#canteen-lun": True,
                                             "#canteen-jeu": True})

    return run_before


def creche_form(store):
    lina = person_id(store, "DELAUNAY", "Lina")

    async def run_before(pilot):
        await _visit(pilot)
        await pilot.press("c")
        await until(pilot, lambda: isinstance(pilot.app.screen, CrecheForm), "crèche form")
        form = pilot.app.screen
        await fill(pilot, form, {"#person": lina, "#start": "31/02/2027", "#days": "4", "#hours": "32",
                                 "#choice1": form.context.creches[0].id})
        await pilot.press("ctrl+s")  # the date error shows at its field

    return run_before


def library_form(store):
    nicolas = person_id(store, "DELAUNAY", "Nicolas")

    async def run_before(pilot):
        await _visit(pilot)
        await pilot.press("b")
        await until(pilot, lambda: isinstance(pilot.app.screen, LibraryForm), "library form")
        await fill(pilot, pilot.app.screen, {"#person": nicolas})

    return run_before


def with_requests(store, final: str):
    jade, lina = person_id(store, "DELAUNAY", "Jade"), person_id(store, "DELAUNAY", "Lina")

    async def run_before(pilot):
        app = pilot.app
        await _visit(pilot)
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, SchoolForm), "school form")
        await fill(pilot, app.screen, {"#person": jade, "#separated": "non", "#canteen-lun": True,
                                       "#after-mer": True})
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, VisitScreen), "visit")
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, CrecheForm), "crèche form")
        await fill(pilot, app.screen, {"#person": lina, "#start": "01/09/2027", "#days": "4", "#hours": "32",
                                       "#choice1": app.screen.context.creches[0].id})
        if app.screen.query("#resources"):  # only without the CAF's figures
            await fill(pilot, app.screen, {"#resources": "30000"})
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, VisitScreen), "visit")
        await settled(pilot, app.screen)  # the service's summary of the two requests shown
        if final in ("summary", "receipt"):
            await pilot.press("ctrl+s")
            await until(pilot, lambda: isinstance(app.screen, ConfirmVisit), "summary")
        if final == "receipt":
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, ReceiptScreen), "receipt")
        await pilot.pause()

    return run_before


@pytest.fixture(autouse=True)
def fixed_receipt_code(monkeypatch):
    monkeypatch.setattr("counter.domain.receipt.new_code", lambda rng=None: "RCP-TEST-0001")


@pytest.mark.parametrize("screen", ["school_form", "creche_form", "library_form", "visit", "summary", "receipt"])
def test_visit_screens(snap_compare, town_store, make_app, screen):
    builders = {
        "school_form": school_form, "creche_form": creche_form, "library_form": library_form,
        "visit": lambda s: with_requests(s, "visit"), "summary": lambda s: with_requests(s, "summary"),
        "receipt": lambda s: with_requests(s, "receipt"),
    }
    app = make_app(town_store, backends="training")
    assert snap_compare(app, terminal_size=SIZE, run_before=builders[screen](town_store))
