"""A family new to the town, the member form and the likely duplicates, as the agent sees them at 80x24."""

from __future__ import annotations

import pytest

from screens.likely_duplicates import LikelyDuplicatesModal
from screens.member_form import MemberForm
from screens.new_family import NewFamilyScreen
from tests.pilot.helpers import until
from tests.pilot.test_new_family import member_keys

SIZE = (80, 24)


async def _family(pilot):
    app = pilot.app
    await until(pilot, lambda: app.ready, "services")
    app.push_screen(NewFamilyScreen())
    await until(pilot, lambda: isinstance(app.screen, NewFamilyScreen) and app.screen.streets, "street list")
    await pilot.press(*"louis-pasteur", "enter")
    # The street's numbers (the training town's BAN addresses) listed before the number is typed.
    await until(pilot, lambda: app.screen.numbers, "the street's numbers")
    await pilot.press(*"7")


def new_family():
    async def run_before(pilot):
        app = pilot.app
        await _family(pilot)
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.screen, MemberForm), "member form")
        await pilot.press(*member_keys(0, "Quenneville", "maëlle, Sophie", "f", "06/1990", "99109", ""))
        await until(pilot, lambda: isinstance(app.screen, NewFamilyScreen) and app.screen.members, "member")
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.screen, MemberForm), "member form")
        await pilot.press(*member_keys(0, "Quenneville", "anouk", "f", "28/02/2019", "", "45999"))
        await until(pilot, lambda: isinstance(app.screen, NewFamilyScreen) and len(app.screen.members) == 2, "two")
        # Under a loaded machine the picture was once taken before the screen
        # had settled: its workers done, the footer recomposed.
        await until(pilot, lambda: not any(w.node is app.screen and w.is_running for w in app.workers),
                    "the screen's workers")
        await pilot.pause()
        await pilot.pause()

    return run_before


def member_form():
    async def run_before(pilot):
        app = pilot.app
        await _family(pilot)
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.screen, MemberForm), "member form")
        # A birth in France without its commune: the error, wrapped, in view.
        await pilot.press(*member_keys(0, "Quenneville", "Paul", "m", "12/05/1984", "99100", ""))
        await until(pilot, lambda: app.screen.query_one("#error-birth_insee_code").shown, "commune error")
        await pilot.pause()

    return run_before


def likely_duplicates():
    async def run_before(pilot):
        app = pilot.app
        await _family(pilot)
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.screen, MemberForm), "member form")
        # Camille BENALI of the fictional town, typed again as a new family's parent.
        await pilot.press(*member_keys(0, "benali", "camille", "f", "08/11/1987", "99100", "49007"))
        await until(pilot, lambda: isinstance(app.screen, NewFamilyScreen) and app.screen.members, "member")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, LikelyDuplicatesModal), "the likely duplicates")
        await pilot.pause()
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("screen", ["new_family", "member_form", "likely_duplicates"])
def test_family_screens(snap_compare, town_store, make_app, screen):
    builders = {"new_family": new_family, "member_form": member_form, "likely_duplicates": likely_duplicates}
    assert snap_compare(make_app(town_store), terminal_size=SIZE, run_before=builders[screen]())
