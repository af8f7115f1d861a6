"""One 80x24 snapshot of each screen not pictured elsewhere, and the search and
dossier screens in the console (16-colour) theme. Reached through the shared
journeys (tests/journeys.py); times fixed (UTC), response times frozen."""

from __future__ import annotations

import time

import pytest

from tests.journeys import JOURNEYS, app_for

SIZE = (80, 24)
# Pictured in their own modules: search, household, dossier, visit forms,
# summary, receipt, F9, its cancel dialog, F10, new family, member form.
OTHERS = ["household_young_children", "corrections", "address_picker", "declare_qf", "stored_receipt",
          "queue", "issue_ticket", "end_visit"]


@pytest.fixture(autouse=True)
def utc_clock(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture(autouse=True)
def fixed_receipt_code(monkeypatch):
    monkeypatch.setattr("counter.domain.receipt.new_code", lambda rng=None: "RCP-TEST-0001")


@pytest.mark.parametrize("name", OTHERS)
def test_screen_at_80x24(snap_compare, town_store, make_app, name):
    journey = JOURNEYS[name]
    assert snap_compare(app_for(journey, make_app, town_store), terminal_size=SIZE,
                        run_before=journey.build(town_store))


@pytest.mark.parametrize("name", ["search_results", "household", "dossier", "visit"])
def test_console_theme_at_80x24(snap_compare, town_store, make_app, monkeypatch, name):
    """The Linux console: TERM=linux, no COLORTERM → the 16-colour theme."""
    monkeypatch.setenv("TERM", "linux")
    monkeypatch.delenv("COLORTERM", raising=False)
    journey = JOURNEYS[name]
    app = app_for(journey, make_app, town_store)
    assert app.theme == "ansi-dark"
    assert snap_compare(app, terminal_size=SIZE, run_before=journey.build(town_store))
