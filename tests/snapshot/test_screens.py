"""Screens as the agent sees them, at 80x24 and 120x40, on the fictional town.

Review changes with `make snapshot-report` before accepting them
(`pytest tests/snapshot --snapshot-update`), in a commit of their own.
"""

from __future__ import annotations

import pytest

from screens.household import HouseholdScreen
from tests.pilot.helpers import type_text, until

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}


def typing(text: str):
    async def run_before(pilot) -> None:
        app = pilot.app
        await until(pilot, lambda: app.ready, "services")
        if text:
            await type_text(pilot, text)

    return run_before


def opening(text: str):
    async def run_before(pilot) -> None:
        await typing(text)(pilot)
        await pilot.press("enter")
        app = pilot.app
        await until(pilot, lambda: isinstance(app.screen, HouseholdScreen) and app.screen.view is not None, "household")

    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_search_empty(snap_compare, town_store, make_app, size):
    assert snap_compare(make_app(town_store), terminal_size=SIZES[size], run_before=typing(""))


@pytest.mark.parametrize("size", SIZES)
def test_search_results(snap_compare, town_store, make_app, size):
    assert snap_compare(make_app(town_store), terminal_size=SIZES[size], run_before=typing("roux j"))


@pytest.mark.parametrize("size", SIZES)
def test_search_no_result(snap_compare, town_store, make_app, size):
    assert snap_compare(make_app(town_store), terminal_size=SIZES[size], run_before=typing("zzyzx"))


@pytest.mark.parametrize("size", SIZES)
def test_search_nir_key_error(snap_compare, town_store, make_app, size):
    assert snap_compare(make_app(town_store), terminal_size=SIZES[size],
                        run_before=typing("2 55 08 14 168 025 39"))


@pytest.mark.parametrize("size", SIZES)
def test_household(snap_compare, town_store, make_app, size):
    assert snap_compare(make_app(town_store), terminal_size=SIZES[size], run_before=opening("besson guil"))


def test_console_theme_16_colours(snap_compare, town_store, make_app, monkeypatch):
    monkeypatch.setenv("TERM", "linux")
    monkeypatch.delenv("COLORTERM")
    assert snap_compare(make_app(town_store), terminal_size=SIZES["80x24"], run_before=typing("lefebvre alexis"))
