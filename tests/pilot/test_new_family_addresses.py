"""The new-family form picks the street, then the number from the town's BAN addresses
(80x24, by keyboard); typed numbers where the town has not imported them."""

from __future__ import annotations

from sqlalchemy import text
from textual.widgets import Input, OptionList

from screens.new_family import NewFamilyScreen
from tests.pilot.helpers import started, until
from tests.pilot.test_new_family import add_member, form_error, member_keys, open_screen, street_options

PARENT = member_keys(0, "Quenneville", "Maëlle", "f", "06/1990", "99109", "")


def number_options(app) -> list[str]:
    return [str(o.prompt) for o in app.screen.query_one("#numbers", OptionList).options]


def address_of(store, household_id: int) -> tuple:
    with store.engine.connect() as connection:
        return tuple(connection.execute(text(
            "SELECT s.name, a.number, a.suffix, a.complement, a.ban_id FROM household h "
            "JOIN address a ON a.id = h.address_id JOIN street s ON s.id = a.street_id WHERE h.id = :h"),
            {"h": household_id}).one())


async def test_street_then_number_from_the_list(town_store, make_app):
    app = make_app(town_store)
    results: list = []
    async with started(app, (80, 24)) as pilot:
        screen = await open_screen(app, pilot, results)
        await pilot.press(*"jean-moulin", "enter")
        await until(pilot, lambda: screen.numbers, "the street's numbers")
        number = screen.query_one("#number", Input)
        assert app.focused is number and screen.query_one("#numbers", OptionList).display
        await pilot.press(*"12")
        await until(pilot, lambda: number_options(app) == ["12", "12 bis"], "numbers starting with 12")
        assert screen.ban_id == "45999_1540_00012"  # "12" alone is an address of the street
        await pilot.press("down", "enter")  # ↓ moves in the list without leaving the field
        await until(pilot, lambda: screen.ban_id == "45999_1540_00012_bis", "12 bis picked")
        assert app.focused is screen.query_one("#complement", Input)
        assert "Adresse choisie : 12 bis rue Jean-Moulin" in str(screen.query_one("#street-chosen").render())
        await pilot.press(*"Bât. C")
        await add_member(app, pilot, PARENT)
        await until(pilot, lambda: isinstance(app.screen, NewFamilyScreen) and screen.members, "member")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: results, "created")
    assert address_of(town_store, results[0]) == ("rue Jean-Moulin", 12, "bis", "Bât. C", "45999_1540_00012_bis")


async def test_a_number_off_the_list_is_refused_and_a_lieu_dit_needs_none(town_store, make_app):
    app = make_app(town_store)
    results: list = []
    async with started(app, (80, 24)) as pilot:
        screen = await open_screen(app, pilot, results)
        await pilot.press(*"jean-moulin", "enter")
        await until(pilot, lambda: screen.numbers, "the street's numbers")
        await pilot.press(*"9999")
        await until(pilot, lambda: number_options(app) == [], "no such number")
        await add_member(app, pilot, PARENT)
        await until(pilot, lambda: isinstance(app.screen, NewFamilyScreen) and screen.members, "member")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "pas dans la liste des adresses" in form_error(app, "number"), "number error")
        assert results == []

        # A lieu-dit: its one address has no number, picked as soon as it is chosen.
        screen.query_one("#street-filter", Input).focus()
        await pilot.press("ctrl+u", *"metairie")
        await until(pilot, lambda: street_options(app) == ["La Métairie"], "the lieu-dit")
        await pilot.press("enter")
        # The number typed for the other street goes; the lieu-dit's one address is picked.
        await until(pilot, lambda: number_options(app) == ["sans numéro"], "no number")
        assert screen.query_one("#number", Input).value == ""
        assert screen.ban_id == "45999_a001_99999"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: results, "created")
    assert address_of(town_store, results[0]) == ("La Métairie", None, None, None, "45999_a001_99999")


async def test_without_a_ban_import_the_number_is_typed(town_store, make_app):
    with town_store.write() as session:  # a town whose streets came from `import sectors` only
        session.execute(text("DELETE FROM town_address"))
    app = make_app(town_store)
    results: list = []
    async with started(app, (80, 24)) as pilot:
        screen = await open_screen(app, pilot, results)
        await pilot.press(*"louis-pasteur", "enter")
        await until(pilot, lambda: screen.street_id is not None, "street chosen")
        await pilot.press(*"7", "tab", "enter", "down", "down", "enter")  # 7 ter
        await add_member(app, pilot, PARENT)
        await until(pilot, lambda: isinstance(app.screen, NewFamilyScreen) and screen.members, "member")
        assert not screen.query_one("#numbers", OptionList).display and screen.numbers == []
        await pilot.press("ctrl+s")
        await until(pilot, lambda: results, "created")
    assert address_of(town_store, results[0]) == ("avenue Louis-Pasteur", 7, "ter", None, None)


async def test_the_dossier_correction_picks_the_address_from_the_town_list(town_store, make_app):
    from screens.address_picker import AddressPicker
    from screens.corrections import ChooseCorrection
    from screens.dossier import DossierScreen
    from tests.pilot.test_dossier import answered, open_dossier

    app = make_app(town_store, backends="training")
    async with started(app, (80, 24)) as pilot:
        await open_dossier(app, pilot, "giraud anne")
        await until(pilot, lambda: answered(app), "every section")
        household = app.screen.subject.household.id
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, ChooseCorrection), "choices")
        await pilot.press("end", "enter")  # the last: pick it from the town's list
        await until(pilot, lambda: isinstance(app.screen, AddressPicker) and app.screen.streets, "the picker")
        picker = app.screen
        # The agency's address (another town's street) is not in the list: the agent picks one.
        await until(pilot, lambda: "introuvable" in str(picker.query_one("#status").render()), "not found")
        assert picker.query_one("#street-filter", Input).value  # prefilled with the agency's street
        picker.query_one("#street-filter", Input).focus()
        await pilot.press("ctrl+u", *"jean-moulin", "enter")
        await until(pilot, lambda: picker.numbers, "the street's numbers")
        await pilot.press("ctrl+u", *"12", "down", "enter")
        await until(pilot, lambda: picker.ban_id == "45999_1540_00012_bis", "12 bis")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, DossierScreen)
                    and "mise à jour" in str(app.screen.query_one("#status").render()), "corrected")
    assert address_of(town_store, household)[0::2] == ("rue Jean-Moulin", "bis", "45999_1540_00012_bis")
