"""F9 (registrations), its cancellation dialog and F10 (deliveries) at 80x24, as a supervisor sees them."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from screens.outbox import OutboxScreen
from screens.registrations import CancelReason, RegistrationsScreen
from tests.pilot.helpers import until
from tests.pilot.test_registrations_screens import CODE, register_jade

SIZE = (80, 24)
CREATED = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def utc_clock(monkeypatch):
    """Times show on this machine's clock: the same on every machine here."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def registered_at_fixed_times(store, receipt=None) -> int:
    """Jade registered at another counter, at fixed times, her message never due."""
    registration = register_jade(store, receipt=receipt)
    with store.write_connection() as c:
        c.execute(text("UPDATE registration SET created_at = :t"), {"t": CREATED})
        c.execute(text("UPDATE outbox SET created_at = :t, next_attempt_at = :n, attempts = 2, "
                       "last_error = 'Essai 2 : Source injoignable (connexion impossible ou interrompue).'"),
                  {"t": CREATED, "n": datetime(2100, 1, 1, 9, 45, tzinfo=UTC)})  # never due: the relay leaves it
    return registration


@pytest.fixture
def registered(town_store):
    return registered_at_fixed_times(town_store)


def supervisor_app(make_app, store):
    # Training: the service makes the agent a trainer, who plays the supervisor's part.
    return make_app(store)


def registrations(then_cancel: bool):
    async def run_before(pilot):
        app = pilot.app
        await until(pilot, lambda: app.ready, "services")
        await app.push_screen(RegistrationsScreen(CODE))
        await until(pilot, lambda: isinstance(app.screen, RegistrationsScreen) and app.screen._views, "list")
        await pilot.press("down")
        if then_cancel:
            await pilot.press("a")
            await until(pilot, lambda: isinstance(app.screen, CancelReason), "the dialog")
            await pilot.press(*"Famille partie")
        await pilot.pause()

    return run_before


async def _outbox(pilot):
    app = pilot.app
    await until(pilot, lambda: app.ready, "services")
    await app.push_screen(OutboxScreen())
    await until(pilot, lambda: isinstance(app.screen, OutboxScreen) and app.screen._messages, "messages")
    await pilot.pause()


@pytest.mark.parametrize("screen", ["registrations", "cancel_dialog", "outbox"])
def test_registration_screens(snap_compare, town_store, make_app, registered, screen):
    run_before = {"registrations": registrations(False), "cancel_dialog": registrations(True),
                  "outbox": _outbox}[screen]
    assert snap_compare(supervisor_app(make_app, town_store), terminal_size=SIZE, run_before=run_before)
