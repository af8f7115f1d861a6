"""The visit's forms at 80x24, by keyboard: the school year, errors that get the
focus and go when corrected, the declared QF, prices that wait for the agencies."""

from __future__ import annotations

from sqlalchemy import text
from textual.widgets import Input, Select

from counter.settings import EmulatorKnobs
from registrations.creche.form import CrecheForm
from registrations.library.form import LibraryForm
from registrations.school.form import SchoolForm
from screens.forms import FieldErrorLabel
from screens.receipt import ReceiptScreen
from screens.visit import ConfirmVisit, DeclareQf, VisitScreen
from tests.pilot.helpers import started, status_text, until
from tests.pilot.test_visit import HOUSEHOLD, fill, open_visit, person_id

SIZE = (80, 24)


def shown(form, field: str) -> str:
    label = form.query_one(f"#error-{field}", FieldErrorLabel)
    return str(label.render()) if label.shown else ""


def in_view(form, widget) -> bool:
    """The widget is inside the visible part of the form's scrolling box."""
    box = form.query_one("#box")
    region = widget.virtual_region
    top = box.scroll_offset.y
    return region.height > 0 and top <= region.y and region.bottom <= top + box.scrollable_content_region.height


async def open_form(app, pilot, key: str, kind):
    await pilot.press(key)
    await until(pilot, lambda: isinstance(app.screen, kind), f"{kind.__name__}")
    await pilot.pause()
    return app.screen


async def test_a_family_moving_in_registers_for_the_year_under_way(town_store, make_app):
    jade = person_id(town_store, "DELAUNAY", "Jade")
    app = make_app(town_store, backends="training")
    async with started(app, SIZE) as pilot:
        visit = await open_visit(app, pilot)
        form = await open_form(app, pilot, "e", SchoolForm)
        year = form.query_one("#year", Select)
        # Today is 25/11/2026: the year under way and the coming one, the coming one proposed.
        assert [value for _, value in form._year_options()] == [2026, 2027] and year.value == 2027
        assert app.focused is form.query_one("#person")
        await fill(pilot, form, {"#person": jade})
        assert "Niveau en 2027-2028" in str(form.query_one("#level-info").render())
        await fill(pilot, form, {"#year": 2026})
        info = str(form.query_one("#level-info").render())
        # The level, the sector school and the places follow the year.
        assert "Niveau en 2026-2027 (née le 23/06/2024) : TPS" in info
        school = form.query_one("#school", Select).value
        left = form.context.places_left(school, 2026, "TPS")
        assert left != form.context.places_left(school, 2027, "TPS")  # the town's data: two different counts
        assert f"Places restantes en TPS : {left}" in info
        await fill(pilot, form, {"#separated": "non"})
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, VisitScreen), "back to the visit")
        assert (visit.draft.requests[0].school_year, visit.draft.requests[0].level) == (2026, "TPS")

        # One live registration per child and year: the same year again is refused at its field.
        form = await open_form(app, pilot, "e", SchoolForm)
        await fill(pilot, form, {"#year": 2026, "#person": jade, "#separated": "non"})
        await pilot.press("ctrl+s")
        await until(pilot, lambda: shown(form, "person_id"), "duplicate")
        assert "déjà dans la visite" in shown(form, "person_id")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, VisitScreen), "visit")

        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmVisit), "summary")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ReceiptScreen), "receipt")
    with town_store.engine.connect() as c:
        row = c.execute(text("SELECT school_year, level, school_id FROM registration")).one()
        now = c.execute(text("SELECT capacity - booked FROM school_capacity WHERE school_id = :s "
                             "AND school_year = 2026 AND level = 'TPS'"), {"s": school}).scalar_one()
    assert (row.school_year, row.level, row.school_id) == (2026, "TPS", school)
    assert now == left - 1  # the place taken is the chosen year's


async def test_school_errors_at_their_field_and_gone_once_corrected(town_store, make_app):
    jade = person_id(town_store, "DELAUNAY", "Jade")
    app = make_app(town_store, backends="training")
    async with started(app, SIZE) as pilot:
        await open_visit(app, pilot)
        form = await open_form(app, pilot, "e", SchoolForm)
        await pilot.press("ctrl+s")
        assert shown(form, "person_id") == "⚠ Choisissez l'enfant."
        assert app.focused is form.query_one("#person")
        await fill(pilot, form, {"#person": jade})
        assert shown(form, "person_id") == ""  # corrected: the message goes

        form.query_one("#school", Select).clear()
        await pilot.pause()
        await pilot.press("ctrl+s")
        assert shown(form, "school_id") == "⚠ Choisissez l'école."
        assert shown(form, "derogation_reason") == ""
        assert app.focused is form.query_one("#school")

        # A lone father: whether the parents are separated is asked, at its own field.
        await fill(pilot, form, {"#school": form.context.sector_school_for("PS")})
        await pilot.press("ctrl+s")
        assert "Parents séparés ou non" in shown(form, "separated_parents")
        assert app.focused is form.query_one("#separated") and in_view(form, form.query_one("#error-separated_parents"))
        await fill(pilot, form, {"#separated": "oui"})
        assert shown(form, "separated_parents") == ""
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, VisitScreen), "visit")
        # The custody judgment follows what the agent said.
        assert "Jugement fixant la résidence" in str(app.screen.query_one("#summary").render())


async def test_creche_errors_get_the_focus_and_the_form_opens_at_its_top(town_store, make_app):
    lina = person_id(town_store, "DELAUNAY", "Lina")
    app = make_app(town_store, backends="training")
    async with started(app, SIZE) as pilot:
        await open_visit(app, pilot)
        form = await open_form(app, pilot, "c", CrecheForm)
        box = form.query_one("#box")
        assert box.scroll_offset.y == 0 and in_view(form, form.query_one("#title"))
        await fill(pilot, form, {"#person": lina, "#start": "01/01/2020", "#days": "4", "#hours": "32",
                                 "#choice1": form.context.creches[0].id})
        if form.query("#resources"):
            await fill(pilot, form, {"#resources": "30000"})
        await pilot.press("ctrl+s")
        assert "passée" in shown(form, "start_date")
        assert app.focused is form.query_one("#start", Input)
        await pilot.press("ctrl+u", *"01/12/2026")  # next week: Lina is a year old, fine…
        await pilot.pause()
        assert shown(form, "start_date") == ""  # …the error goes as soon as it is right
        # A choice of crèches left out: the focus goes to the first choice, its message in view.
        form.query_one("#choice1", Select).clear()
        await fill(pilot, form, {"#start": "01/09/2027"})
        await pilot.press("ctrl+s")
        assert "au moins une crèche" in shown(form, "creche_ids")
        assert app.focused is form.query_one("#choice1")
        assert in_view(form, form.query_one("#error-creche_ids"))

        # An expected birth: 18 months away is too early, a start a day after the birth too soon.
        await fill(pilot, form, {"#person": -1, "#due": "01/06/2028", "#choice1": form.context.creches[0].id})
        await pilot.press("ctrl+s")
        assert "3e mois de grossesse" in shown(form, "due_date")
        assert app.focused is form.query_one("#due", Input)
        await fill(pilot, form, {"#due": "01/03/2027", "#start": "02/03/2027"})
        await pilot.press("ctrl+s")
        assert "à partir de 10 semaines" in shown(form, "start_date") and shown(form, "due_date") == ""
        assert app.focused is form.query_one("#start", Input)


async def test_library_errors_and_ages_in_french(town_store, make_app):
    app = make_app(town_store, backends="training")
    async with started(app, SIZE) as pilot:
        await open_visit(app, pilot)
        form = await open_form(app, pilot, "b", LibraryForm)
        prompts = [str(prompt) for prompt, _ in form.query_one("#person", Select)._options[1:]]
        assert "Lina DELAUNAY — 1 an" in prompts and "Jade DELAUNAY — 2 ans" in prompts
        form.query_one("#category", Select).clear()
        await pilot.press("ctrl+s")
        assert shown(form, "person_id") == "⚠ Choisissez le membre du foyer."
        assert shown(form, "category") == "⚠ Choisissez la catégorie de lecteur."
        assert app.focused is form.query_one("#person")


async def test_an_open_list_says_how_to_close_it_in_french(town_store, make_app):
    app = make_app(town_store, backends="training")
    async with started(app, SIZE) as pilot:
        await open_visit(app, pilot)
        form = await open_form(app, pilot, "e", SchoolForm)
        await pilot.press("enter")  # open the list of children
        select = form.query_one("#person", Select)
        await until(pilot, lambda: select.expanded, "list open")
        footer = {key: b.binding.description for key, b in form.active_bindings.items() if b.binding.show}
        assert footer["escape"] == "Fermer la liste"
        assert "Dismiss menu" not in footer.values()
        await pilot.press("escape")
        await until(pilot, lambda: not select.expanded, "list closed")
        assert app.screen is form and app.focused is select  # Escape closed the list only
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, VisitScreen), "form cancelled")


async def test_a_declared_qf_is_typed_at_once_and_prices_say_declared(town_store, make_app):
    jade = person_id(town_store, "DELAUNAY", "Jade")
    app = make_app(town_store, backends="training", knobs={"api_particulier": EmulatorKnobs(down=True)})
    async with started(app, SIZE) as pilot:
        visit = await open_visit(app, pilot)
        facts = str(visit.query_one("#facts").render())
        assert "aucun quotient familial connu (la CAF n'a pas répondu) : tarif plein" in facts
        await pilot.press("q")
        await until(pilot, lambda: isinstance(app.screen, DeclareQf), "declared QF")
        assert app.focused is app.screen.query_one("#qf", Input)
        await pilot.press(*"640", "enter")
        await until(pilot, lambda: isinstance(app.screen, VisitScreen), "back to the visit")
        assert (visit.draft.qf_value, visit.draft.qf_source) == (640, "declared")
        assert "Tarifs : QF 640 déclaré" in str(visit.query_one("#facts").render())

        form = await open_form(app, pilot, "e", SchoolForm)
        await fill(pilot, form, {"#person": jade, "#separated": "non", "#canteen-lun": True})
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, VisitScreen), "visit")
        summary = str(visit.query_one("#summary").render())
        assert "Tarif selon QF 640 déclaré" in summary and "plein" not in summary


async def test_a_declared_qf_typed_in_one_burst_is_read_whole_before_enter(town_store, make_app):
    """« 640⏎ » handed over at once (a paste, a fast link): Enter keeps what was typed
    before it, never the field as the dialog opened."""
    from textual import events

    app = make_app(town_store, backends="training", knobs={"api_particulier": EmulatorKnobs(down=True)})
    async with started(app, SIZE) as pilot:
        visit = await open_visit(app, pilot)
        await pilot.press("q")
        await until(pilot, lambda: isinstance(app.screen, DeclareQf), "declared QF")
        for key, char in (("6", "6"), ("4", "4"), ("0", "0"), ("enter", "\r")):  # as the driver posts a burst
            app.post_message(events.Key(key, char))
        await until(pilot, lambda: isinstance(app.screen, VisitScreen), "back to the visit")
        assert (visit.draft.qf_value, visit.draft.qf_source) == (640, "declared")


async def test_no_confirmation_before_the_agencies_answer(town_store, make_app):
    """A resumed visit asks the agencies again: until they answer (here: until
    the CAF's deadline), no price is made up and Ctrl+S waits for them."""
    from counter.domain.visits import VisitDraft
    from registrations.school.kind import SchoolRequest

    jade = person_id(town_store, "DELAUNAY", "Jade")
    slow = {"api_particulier": EmulatorKnobs(latency_ms=60_000)}
    app = make_app(town_store, backends="training", knobs=slow)
    async with started(app, SIZE) as pilot:
        visits = app.local_service.service.core.services.visits  # the service's
        visit_id = visits.start(household_id=HOUSEHOLD)
        school = visits.context(visit_id).sector_school_for("PS")
        visits.save(visit_id, VisitDraft(household_id=HOUSEHOLD, requests=[SchoolRequest(
            jade, 2027, "PS", school, school, canteen_days=("lun",), separated_parents=False)]))
        app.push_screen(VisitScreen(visit_id))  # resumed, as from the drafts offered at start
        await until(pilot, lambda: isinstance(app.screen, VisitScreen) and app.screen.draft is not None, "visit")
        visit = app.screen
        assert visit.facts.pending
        assert "en attente du quotient familial de la CAF" in str(visit.query_one("#facts").render())
        summary = str(visit.query_one("#summary").render())
        assert "tarif calculé dès que la CAF donne le quotient familial" in summary and "plein" not in summary
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, VisitScreen)  # no summary priced without the CAF's answer
        assert "pas encore répondu" in status_text(app)
        # Once the CAF is given up (its deadline), the summary opens by itself, saying why the full price applies.
        await until(pilot, lambda: isinstance(app.screen, ConfirmVisit), "summary after the answers")
        lines = "\n".join(app.screen.lines)
        assert "Tarif plein : aucun quotient familial connu (la CAF n'a pas répondu)" in lines


def stored_form(store, visit_id: int) -> dict:
    """The form being typed, as the database holds it (what a kill -9 leaves)."""
    from counter.domain.visits import VisitDraft

    with store.engine.connect() as c:
        raw = c.execute(text("SELECT draft FROM visit WHERE id = :id"), {"id": visit_id}).scalar_one()
    editing = VisitDraft.from_json(raw).editing or {}
    return editing.get("values") or {}


async def tick(pilot, form, selector: str) -> None:
    """Tick a checkbox the way an agent does: the focus on it, then Space."""
    form.query_one(selector).focus()
    await pilot.press("space")


async def test_ticking_student_alone_is_saved_and_prices_the_card_as_a_student(town_store, make_app):
    nicolas = person_id(town_store, "DELAUNAY", "Nicolas")
    app = make_app(town_store, backends="training")
    async with started(app, SIZE) as pilot:
        visit = await open_visit(app, pilot)
        form = await open_form(app, pilot, "b", LibraryForm)
        await fill(pilot, form, {"#person": nicolas})
        category = form.query_one("#category", Select)
        assert category.value == "ADULTE"
        await until(pilot, lambda: stored_form(town_store, visit.visit_id).get("person") == nicolas, "draft")

        await tick(pilot, form, "#student")  # the only change: no other field moves after it
        assert "✓" in str(form.query_one("#student").render())  # the mark, not a colour
        await until(pilot, lambda: stored_form(town_store, visit.visit_id).get("student") is True,
                    "the tick in the stored draft")
        assert category.value == "ETUDIANT"
        assert "Catégorie proposée : ETUDIANT" in str(form.query_one("#suggestion").render())
        assert stored_form(town_store, visit.visit_id)["category"] == "ETUDIANT"

        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, VisitScreen), "back to the visit")
        assert visit.draft.requests[-1].category == "ETUDIANT"
        summary = str(visit.query_one("#summary").render())
        assert "Carte Étudiant" in summary and "15,00 €" not in summary


async def test_renewal_and_days_ticked_alone_reach_the_stored_draft(town_store, make_app):
    jade = person_id(town_store, "DELAUNAY", "Jade")
    nicolas = person_id(town_store, "DELAUNAY", "Nicolas")
    app = make_app(town_store, backends="training")
    async with started(app, SIZE) as pilot:
        visit = await open_visit(app, pilot)
        form = await open_form(app, pilot, "b", LibraryForm)
        await fill(pilot, form, {"#person": nicolas})
        await until(pilot, lambda: stored_form(town_store, visit.visit_id).get("person") == nicolas, "draft")
        await tick(pilot, form, "#renew")
        await until(pilot, lambda: stored_form(town_store, visit.visit_id).get("renew") is True, "renewal stored")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, VisitScreen), "back to the visit")

        form = await open_form(app, pilot, "e", SchoolForm)
        await fill(pilot, form, {"#person": jade})
        await until(pilot, lambda: stored_form(town_store, visit.visit_id).get("person") == jade, "draft")
        await tick(pilot, form, "#canteen-jeu")
        await until(pilot, lambda: stored_form(town_store, visit.visit_id).get("canteen-jeu") is True,
                    "canteen day stored")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, VisitScreen), "back to the visit")

        await until(pilot, lambda: stored_form(town_store, visit.visit_id) == {}, "the school form closed")
        form = await open_form(app, pilot, "c", CrecheForm)
        await tick(pilot, form, "#disability")
        await until(pilot, lambda: stored_form(town_store, visit.visit_id).get("disability") is True,
                    "disability stored")
