"""The lock screen, the PIN setup and the purpose question at 80x24 and 120x40."""

from __future__ import annotations

import pytest

from screens.lock import LockScreen, PinSetup, PurposeScreen
from tests.pilot.helpers import until
from tests.snapshot.test_screens import SIZES, opening


def locked_over(query: str):
    async def run_before(pilot) -> None:
        app = pilot.app
        await opening(query)(pilot)
        await pilot.press("ctrl+l")
        await until(pilot, lambda: isinstance(app.screen, LockScreen), "the lock screen")

    return run_before


async def _first_use(pilot) -> None:
    app = pilot.app
    await until(pilot, lambda: app.pin_checked and isinstance(app.screen, PinSetup), "the PIN setup")


def asking_purpose(query: str):
    async def run_before(pilot) -> None:
        app = pilot.app
        await opening(query)(pilot)
        await pilot.press("f3")
        await until(pilot, lambda: isinstance(app.screen, PurposeScreen), "the purpose")

    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_lock_screen_over_a_household(snap_compare, town_store, make_app, size):
    assert snap_compare(make_app(town_store), terminal_size=SIZES[size], run_before=locked_over("besson guil"))


@pytest.mark.parametrize("size", SIZES)
def test_pin_setup_at_first_use(snap_compare, town_store, make_app, size):
    assert snap_compare(make_app(town_store, pin=False), terminal_size=SIZES[size], run_before=_first_use)


@pytest.mark.parametrize("size", SIZES)
def test_purpose_question(snap_compare, town_store, make_app, size):
    assert snap_compare(make_app(town_store, backends="training", purpose=None), terminal_size=SIZES[size],
                        run_before=asking_purpose("besson guil"))
