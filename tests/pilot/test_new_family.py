"""A family new to the town, typed by keyboard at 80x24, then found by the search."""

from __future__ import annotations

from sqlalchemy import text
from textual.widgets import DataTable, Input, OptionList

from counter.services.households import HouseholdService
from screens.member_form import MemberForm
from screens.new_family import NewFamilyScreen
from screens.search import SearchScreen
from tests.pilot.helpers import started, status_text, table_rows, type_text, until


def street_options(app) -> list[str]:
    return [str(o.prompt) for o in app.screen.query_one("#streets", OptionList).options]


def form_error(app, field: str) -> str:
    return str(app.screen.query_one(f"#error-{field}").render())


async def open_screen(app, pilot, results: list) -> NewFamilyScreen:
    app.push_screen(NewFamilyScreen(), results.append)
    await until(pilot, lambda: isinstance(app.screen, NewFamilyScreen) and app.screen.streets, "street list")
    return app.screen


async def add_member(app, pilot, keys: list[str]) -> None:
    await pilot.press("f2")
    await until(pilot, lambda: isinstance(app.screen, MemberForm), "member form")
    await pilot.press(*keys)


def member_keys(role_down: int, birth_name: str, given: str, sex: str, born: str, country: str, commune: str):
    """Role, birth name, usage name (left blank), given names, sex, date, country, commune."""
    role = ["enter", *["down"] * role_down, "enter"] if role_down else []
    return [*role, "tab", *birth_name, "tab", "tab", *given, "tab", "enter", sex, "enter",
            "tab", *born, "tab", "ctrl+u", *country, "tab", *commune, "ctrl+s"]


async def test_new_family_by_keyboard_then_found_by_the_search(town_store, make_app):
    app = make_app(town_store)
    results: list = []
    async with started(app, (80, 24)) as pilot:
        screen = await open_screen(app, pilot, results)
        assert app.focused is screen.query_one("#street-filter", Input)

        # The street by part of its name; ↓ moves in the list without leaving the field.
        await pilot.press(*"moulin")
        await until(pilot, lambda: street_options(app) == ["rue des Moulins", "rue du Moulin", "rue Jean-Moulin"],
                    "three streets")
        await pilot.press("down", "down", "enter")
        assert screen._street_name(screen.street_id) == "rue Jean-Moulin"
        assert "Rue choisie : rue Jean-Moulin" in str(screen.query_one("#street-chosen").render())
        assert app.focused is screen.query_one("#number", Input)
        await pilot.press(*"12", "tab", "enter", "down", "enter", "tab", *"Bât. C")

        # A parent born in Germany; civil status gives no day.
        await add_member(app, pilot, member_keys(0, "Quenneville", "maëlle, Sophie", "f", "06/1990", "99109", ""))
        await until(pilot, lambda: isinstance(app.screen, NewFamilyScreen), "back with one member")

        # A child: the form proposes the child role once a parent is listed; a wrong date first.
        await add_member(app, pilot, member_keys(0, "Quenneville", "anouk", "f", "31/02/2019", "", "45999"))
        await until(pilot, lambda: "Cette date n'existe pas (31/02/2019)." in form_error(app, "birth_date"), "error")
        assert app.focused is app.screen.query_one("#birth_date", Input)
        await pilot.press("ctrl+u", *"28/02/2019", "ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, NewFamilyScreen), "back to the family")
        assert table_rows(app, "#members") == [
            ["1", "Parent", "QUENNEVILLE", "Maëlle, Sophie", "--/06/1990", "99109"],
            ["2", "Enfant", "QUENNEVILLE", "Anouk", "28/02/2019", "45999"],
        ]

        await pilot.press("ctrl+s")
        await until(pilot, lambda: results, "the new household")
        household_id = results[0]
        assert isinstance(household_id, int)
        assert isinstance(app.screen, SearchScreen)

        view = HouseholdService(town_store).get(household_id)
        assert view.address.one_line() == "12 bis rue Jean-Moulin, Bât. C, 45999 Bellerive-sur-Loire"
        with town_store.engine.connect() as connection:
            assert connection.execute(text(
                "SELECT action, agent FROM audit_entry WHERE target_id = :h AND target_type = 'household'"),
                {"h": str(household_id)}).all() == [("household.create", "agent")]

        await type_text(pilot, "quenneville anouk")
        assert [row[:2] for row in table_rows(app)] == [["QUENNEVILLE", "Anouk"]]
        await pilot.press("down", "enter")
        await until(pilot, lambda: getattr(app.screen, "view", None) is not None, "household screen")
        assert app.screen.view.id == household_id


async def test_enter_while_the_streets_are_still_loading_says_so_not_no_such_street(town_store, make_app):
    import threading

    gate = threading.Event()
    app = make_app(town_store, gate=gate)  # the service opens the store when the test says
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(NewFamilyScreen())
        await until(pilot, lambda: isinstance(app.screen, NewFamilyScreen), "the new family screen")
        await pilot.press(*"louis-pasteur", "enter")
        assert "se charge encore" in status_text(app) and "ne correspond" not in status_text(app)
        assert app.screen.street_id is None
        gate.set()
        await until(pilot, lambda: street_options(app) == ["avenue Louis-Pasteur"], "the street, as typed")
        await pilot.press("enter")
        assert app.screen._street_name(app.screen.street_id) == "avenue Louis-Pasteur"


async def test_remove_a_member_and_cancel_asks_first(town_store, make_app):
    app = make_app(town_store)
    results: list = []
    async with started(app, (80, 24)) as pilot:
        screen = await open_screen(app, pilot, results)
        await pilot.press("ctrl+s")  # nothing typed yet: every problem at its place
        await until(pilot, lambda: "Choisissez la rue" in form_error(app, "street"), "street error")
        assert "au moins un parent" in form_error(app, "members")
        assert app.focused is screen.query_one("#street-filter", Input)
        await pilot.press(*"tilleul")
        await until(pilot, lambda: len(street_options(app)) >= 1, "streets")
        await pilot.press("enter")
        await add_member(app, pilot, member_keys(0, "Quenneville", "Paul", "m", "1970", "", "2B033"))
        await until(pilot, lambda: "Né(e) en Corse avant 1976" in form_error(app, "birth_insee_code"), "error")
        await pilot.press("ctrl+u", *"20033", "ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, NewFamilyScreen) and len(screen.members) == 1, "member")

        # A family needs an adult: create refuses a household of one child, with the reason.
        table = screen.query_one("#members", DataTable)
        table.focus()
        await pilot.press("enter")  # Enter on a member edits it: make him a child
        await until(pilot, lambda: isinstance(app.screen, MemberForm), "edit form")
        await pilot.press("enter", "down", "enter", "ctrl+s")
        await until(pilot, lambda: "Un enfant du foyer a au plus 30 ans" in form_error(app, "birth_date"), "age rule")
        await pilot.press("escape")  # keep him a parent
        await until(pilot, lambda: isinstance(app.screen, NewFamilyScreen), "back")

        table.focus()
        await pilot.press("delete")
        assert screen.members == [] and table.row_count == 0
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "au moins un parent" in form_error(app, "members"), "family error")
        assert "Foyer non enregistré" in status_text(app)

        await pilot.press("escape")  # an address was chosen: ask first
        await until(pilot, lambda: not isinstance(app.screen, NewFamilyScreen), "confirmation")
        await pilot.press("escape")  # no: stay
        await until(pilot, lambda: isinstance(app.screen, NewFamilyScreen), "still there")
        await pilot.press("escape", "enter")
        await until(pilot, lambda: results == [None], "cancelled")
        assert isinstance(app.screen, SearchScreen)


async def test_f6_from_an_empty_search_creates_the_family_then_its_visit(town_store, make_app):
    from screens.new_family import NewFamilyScreen
    from screens.visit import VisitScreen
    from tests.pilot.helpers import started, type_text, until

    app = make_app(town_store)
    async with started(app, (80, 24)) as pilot:
        await type_text(pilot, "zzyzx")
        assert "F6" in str(app.screen.query_one("#status").render())
        await pilot.press("f6")
        await until(pilot, lambda: isinstance(app.screen, NewFamilyScreen), "new family screen")
        screen = app.screen
        # The screen's own tests type the family key by key; here: its result starts a visit.
        import asyncio

        from counter.domain.identity_checks import PersonInput

        street = (await asyncio.to_thread(app.counter.streets))[0][0]
        written = await asyncio.to_thread(app.counter.create_family, street, 3, None, None, [
            PersonInput(birth_name="NOUVEAU", given_names="Ana", sex="F", birth_date="02/03/1990",
                        birth_insee_code="45234", role="parent"),
        ])
        household = written.id
        screen.dismiss(household)
        await until(pilot, lambda: isinstance(app.screen, VisitScreen) and app.screen.context is not None, "visit")
        assert app.screen.context.household_id == household


async def test_a_house_number_is_required_and_member_errors_show_below_the_fold(town_store, make_app):
    from tests.pilot.test_visit_forms import in_view

    app = make_app(town_store)
    results: list = []
    async with started(app, (80, 16)) as pilot:  # smaller than 80x24: the member form must scroll
        screen = await open_screen(app, pilot, results)
        await pilot.press(*"louis-pasteur", "enter")
        await until(pilot, lambda: screen.street_id is not None, "street chosen")
        await add_member(app, pilot, member_keys(0, "Nouveau", "Ana", "f", "02/03/1990", "", "4523"))
        form = app.screen
        await until(pilot, lambda: "Code INSEE de commune" in form_error(app, "birth_insee_code"), "commune error")
        # The error is below the fold of the form: the focus and the view go to it.
        assert app.focused is form.query_one("#birth_insee_code", Input)
        assert in_view(form, form.query_one("#error-birth_insee_code"))
        await pilot.press("5")  # corrected: the message goes at once
        await until(pilot, lambda: not form.query_one("#error-birth_insee_code").shown, "error cleared")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, NewFamilyScreen) and len(screen.members) == 1, "member")

        await pilot.press("ctrl+s")  # avenue Louis-Pasteur without a number
        await until(pilot, lambda: "Le numéro est obligatoire" in form_error(app, "number"), "number error")
        assert app.focused is screen.query_one("#number", Input) and results == []
        await pilot.press(*"7")
        assert form_error(app, "number") == ""
        await pilot.press("ctrl+s")
        await until(pilot, lambda: results, "created")
    assert HouseholdService(town_store).get(results[0]).address.one_line().startswith("7 avenue Louis-Pasteur")


async def test_a_member_typed_in_one_burst_is_saved_whole(town_store, make_app):
    """« 45999⌃S » handed over at once (a paste, a fast link, a typist ahead of a slow
    terminal): Ctrl+S saves what was typed before it, not a value cut short."""
    from tests.pilot.test_keys_at_start import burst

    app = make_app(town_store)
    results: list = []
    async with started(app, (80, 24)) as pilot:
        await open_screen(app, pilot, results)
        await add_member(app, pilot, member_keys(0, "Quenneville", "anouk", "f", "28/02/1990", "", "")[:-1])
        burst(app, [*"45999", "ctrl+s"])
        await until(pilot, lambda: isinstance(app.screen, NewFamilyScreen), "back with the member")
        assert table_rows(app, "#members") == [["1", "Parent", "QUENNEVILLE", "Anouk", "28/02/1990", "45999"]]
