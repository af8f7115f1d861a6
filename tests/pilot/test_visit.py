"""A whole visit by keyboard: three registrations for two children and a parent,
one confirmation, one receipt, and every registration delivered exactly once."""

from __future__ import annotations


from pathlib import Path

import pytest
from sqlalchemy import text
from textual.widgets import Select

from counter.domain.visits import VisitDraft

from registrations.creche.form import CrecheForm
from registrations.library.form import LibraryForm
from registrations.school.form import SchoolForm
from screens.household import HouseholdScreen
from screens.front_desk import EndVisit
from screens.receipt import ReceiptScreen
from screens.search import SearchScreen
from screens.visit import ConfirmVisit, VisitScreen
from tests.pilot.helpers import started, type_text, until

# The DELAUNAY household of the fictional town: Jade (2024: PS in 2027-2028,
# not yet at school), Lina (2025: crèche age, no application yet) and their
# father Nicolas DELAUNAY.


HOUSEHOLD = 1403


def person_id(store, birth_name: str, given: str) -> int:
    with store.engine.connect() as c:
        return c.execute(text(
            "SELECT p.id FROM person p JOIN household_member m ON m.person_id = p.id "
            "WHERE m.household_id = :h AND p.birth_name = :n AND p.given_names LIKE :g"),
            {"h": HOUSEHOLD, "n": birth_name, "g": f"{given}%"}).scalar_one()


def stored_draft(store, visit_id: int) -> VisitDraft:
    """The draft as the service saved it."""
    with store.engine.connect() as c:
        stored = c.execute(text("SELECT draft FROM visit WHERE id = :id"), {"id": visit_id}).scalar_one()
    return VisitDraft.from_json(stored)


async def settled(pilot, visit) -> None:
    """Every change acknowledged by the service, and its summary of the draft shown."""
    await until(pilot, lambda: visit._summarised == visit._revision == visit._written
                and not pilot.app.draft_unsent(visit.visit_id), "the service's answer to the draft")


async def open_visit(app, pilot) -> VisitScreen:
    await type_text(pilot, "delaunay jade 2024")
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, HouseholdScreen) and app.screen.view is not None, "household")
    assert app.screen.view.id == HOUSEHOLD
    await pilot.press("f4")
    await until(pilot, lambda: isinstance(app.screen, VisitScreen) and app.screen.context is not None, "visit")
    await until(pilot, lambda: not app.screen.facts.pending, "agency facts")
    await settled(pilot, app.screen)
    return app.screen


async def fill(pilot, form, values: dict) -> None:
    for selector, value in values.items():
        form.query_one(selector).value = value
    await pilot.pause()


@pytest.mark.parametrize("size", [(100, 40), (80, 24)], ids=["100x40", "80x24"])
async def test_three_registrations_one_confirmation_one_receipt(town_store, make_app, tmp_path, size):
    jade, lina = person_id(town_store, "DELAUNAY", "Jade"), person_id(town_store, "DELAUNAY", "Lina")
    nicolas = person_id(town_store, "DELAUNAY", "Nicolas")
    app = make_app(town_store, backends="training")
    async with started(app, size) as pilot:
        visit = await open_visit(app, pilot)

        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, SchoolForm), "school form")
        form = app.screen
        await fill(pilot, form, {"#person": jade})
        assert "PS" in str(form.query_one("#level-info").render())
        # A lone father: the form cannot guess whether the parents are separated.
        await fill(pilot, form, {"#separated": "non", "#canteen-lun": True, "#canteen-mar": True, "#after-mer": True})
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, VisitScreen), "back to the visit")

        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, CrecheForm), "crèche form")
        form = app.screen
        creche = form.context.creches[0].id
        await fill(pilot, form, {"#person": lina, "#start": "01/09/2027", "#days": "4", "#hours": "32",
                                 "#choice1": creche})
        if form.query("#resources"):
            await fill(pilot, form, {"#resources": "32000"})
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, VisitScreen), "back to the visit")

        await pilot.press("b")
        await until(pilot, lambda: isinstance(app.screen, LibraryForm), "library form")
        await fill(pilot, app.screen, {"#person": nicolas})
        assert app.screen.query_one("#category", Select).value is not Select.NULL  # proposed from the rules
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, VisitScreen), "back to the visit")

        assert len(visit.draft.requests) == 3
        await settled(pilot, visit)
        summary = str(visit.query_one("#summary").render())
        assert "Pièces à fournir" in summary

        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmVisit), "summary")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ReceiptScreen), "receipt")
        receipt = app.screen.receipt
        assert [line.kind for line in receipt.lines] == ["school", "creche", "library"]
        assert receipt.lines[1].state == "waiting_list" and receipt.lines[1].detail.startswith("rang ")
        assert any("Restauration scolaire" in p for p in receipt.lines[0].prices)
        assert Path(app.screen.saved.pdf_path).exists() and Path(app.screen.saved.text_path).exists()
        assert receipt.code in Path(app.screen.saved.text_path).read_text(encoding="utf-8")

        # The relay delivers each registration once to the emulated family system and Koha.
        def delivered() -> int:
            with town_store.engine.connect() as c:
                return c.execute(text("SELECT count(*) FROM outbox WHERE state = 'delivered'")).scalar_one()

        await until(pilot, lambda: delivered() == 3, "three deliveries")
        # Finishing: the visit's reasons and outcome are asked (issue 16); registrations, Enter.
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, EndVisit), "the visit's end")
        await pilot.press("1", "enter")
        await until(pilot, lambda: isinstance(app.screen, SearchScreen), "next family")
        with town_store.engine.connect() as c:
            ended = c.execute(text("SELECT state, reasons, outcome, ended_at IS NOT NULL FROM visit "
                                   "WHERE id = :id"), {"id": visit.visit_id}).one()
        assert tuple(ended) == ("confirmed", "inscriptions", "done", True)

    with town_store.engine.connect() as c:
        states = c.execute(text("SELECT kind, state, delivery FROM registration ORDER BY id")).all()
        audit = c.execute(text("SELECT action FROM audit_entry ORDER BY id")).scalars().all()
    assert [s.kind for s in states] == ["school", "creche", "library"]
    assert all(s.delivery == "delivered" for s in states)
    assert audit.count("registration.create") == 3 and "visit.confirm" in audit


async def test_bad_input_is_refused_at_the_field_and_nothing_is_lost(town_store, make_app):
    lina = person_id(town_store, "DELAUNAY", "Lina")
    app = make_app(town_store, backends="training")
    async with started(app, (100, 40)) as pilot:
        visit = await open_visit(app, pilot)
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, CrecheForm), "crèche form")
        form = app.screen
        first = form.context.creches[0].id
        await fill(pilot, form, {"#person": lina, "#start": "31/02/2027", "#days": "9", "#hours": "32",
                                 "#choice1": first, "#choice2": first})
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, CrecheForm)  # still open: nothing added
        assert "Date invalide" in str(form.query_one("#error-start_date").render())
        await fill(pilot, form, {"#start": "01/01/2020"})
        await pilot.press("ctrl+s")
        errors = {label.id: str(label.render()) for label in form.query(".-shown")}
        assert "passée" in errors["error-start_date"]
        assert "Entre 1 et 5" in errors["error-days_per_week"]
        assert "deux fois" in errors["error-creche_ids"]
        # What was typed is in the draft already (a crash would not lose it).
        await until(pilot, lambda: visit.draft.editing is not None, "draft of the form")
        await until(pilot, lambda: stored_draft(town_store, visit.visit_id).editing is not None, "saved draft")
        assert stored_draft(town_store, visit.visit_id).editing["values"]["days"] == "9"
        await pilot.press("escape")
        assert visit.draft.requests == []


async def test_a_change_arriving_as_the_form_closes_does_not_reopen_it(town_store, make_app):
    """Choosing the child sets the sector school a moment later: a Ctrl+S in
    between must leave the request in the visit and no form in the draft, or the
    next start after a crash would reopen an empty form for a request already made."""
    jade = person_id(town_store, "DELAUNAY", "Jade")
    app = make_app(town_store, backends="training")
    async with started(app, (100, 40)) as pilot:
        visit = await open_visit(app, pilot)
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, SchoolForm), "school form")
        form = app.screen
        await fill(pilot, form, {"#separated": "non", "#person": jade})
        form.action_save()
        await until(pilot, lambda: isinstance(app.screen, VisitScreen), "back to the visit")
        form.on_input_changed()  # the handler of a change that was still on its way to the form
        await pilot.pause()
        assert (len(visit.draft.requests), visit.draft.editing) == (1, None)
        await until(pilot, lambda: visit._written == visit._revision, "the draft saved")
        saved = stored_draft(town_store, visit.visit_id)
        assert (len(saved.requests), saved.editing) == (1, None)
