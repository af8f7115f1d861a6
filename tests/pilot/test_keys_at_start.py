"""Keys typed at start, faster than a person types, while the database opens and
the PIN is decided: each lands where the agent was typing, none is lost.

The database opening is held by a gate (the real services behind it), so that
the keys are sent exactly before, while and after the PIN screen opens.
"""

from __future__ import annotations

import threading

from textual import events

from counter.app_factory import build_app

from counter.service.composition import make_services
from counter.clock import FixedClock
from counter.runtime import Runtime
from counter.service.local import start_local_service
from fixtures.agents import TEST_PIN, preset_pin
from screens.lock import LockScreen, PinSetup
from screens.search import SearchScreen
from tests.conftest import TODAY
from tests.pilot.helpers import status_text, table_rows, until
from tests.pilot.test_search_flow import small_town

NAMED = {" ": "space"}


def burst(app, keys) -> None:
    """Keys as a terminal delivers a burst (over SSH, a fast typist): all at once."""
    for key in keys:
        if len(key) == 1:
            app.post_message(events.Key(NAMED.get(key, key), key))
        else:
            app.post_message(events.Key(key, None))


def gated_app(store, tmp_path, mode: str) -> tuple[CounterApp, threading.Event]:
    """The app on ``store``, its database opening only once the gate is set."""
    runtime = Runtime(mode=mode, data_dir=tmp_path, database_url=str(store.url), clock=FixedClock(TODAY),
                      agent_login="agent", role="agent" if mode == "production" else "trainer")
    gate = threading.Event()

    def open_store():
        gate.wait(30)
        return store

    service = start_local_service(runtime, opener=open_store, backends=[], background=False)
    app = build_app(runtime, service=service)
    return app, gate


def search_text(app) -> str:
    return app.screen_stack[0].query_one("#query").value


def pin_fields(screen) -> list[str]:
    return [field.value for field in screen.query("SafeInput")]


async def shown(pilot, kind):
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, kind) and getattr(app.screen, "shown_at", 0) is not None,
                f"{kind.__name__} on screen")
    return app.screen


async def test_first_use_a_name_typed_meanwhile_goes_to_the_search_never_to_the_pin(sqlite_store, tmp_path):
    from counter.services.lock import LockService

    small_town(sqlite_store)
    app, gate = gated_app(sqlite_store, tmp_path, "training")
    async with app.run_test(size=(80, 24)) as pilot:
        burst(app, "roux jea")  # while the database opens
        await pilot.pause()
        # The rest the moment the database is open: while the PIN is decided and its screen opens.
        app.watch(app, "ready", lambda ready: ready and burst(app, "nne 06/1987"), init=False)
        gate.set()
        setup = await shown(pilot, PinSetup)
        assert pin_fields(setup) == ["", ""]  # not a letter of the name
        burst(app, [*"1357", "enter", *"1357", "enter", *" stéphanie"])  # the PIN, then on with the search
        typed = "roux jeanne 06/1987 stéphanie"
        await until(pilot, lambda: not app.locked, "the PIN set, typed faster than a person")
        await until(pilot, lambda: search_text(app) == typed, "the search, every key in it")
        assert isinstance(app.screen, SearchScreen)
        await until(pilot, lambda: app.screen._shown_for == typed, "its results")
        assert [row[:2] for row in table_rows(app)] == [["ROUX", "Jeanne Stéphanie"]]
    assert LockService(sqlite_store).unlock("agent", "1357").ok  # the PIN is exactly what was typed for it


async def test_training_with_a_pin_keys_typed_while_the_database_opens_are_all_searched(sqlite_store, tmp_path):
    small_town(sqlite_store)
    preset_pin(sqlite_store, "agent")
    app, gate = gated_app(sqlite_store, tmp_path, "training")
    async with app.run_test(size=(80, 24)) as pilot:
        burst(app, ["r", "o", "u", "x", "z", "backspace", "e", "l"])
        await pilot.pause()
        # The search takes no key before the PIN is decided; none is lost.
        assert isinstance(app.screen, SearchScreen) and app.focused is None and search_text(app) == ""
        gate.set()
        burst(app, ["enter"])  # Enter before any result: the household opens once found
        await until(pilot, lambda: not isinstance(app.screen, SearchScreen), "the household")
        assert search_text(app) == "rouxel" and not app.locked


async def test_production_is_locked_from_the_first_frame_and_the_pin_typed_at_once_unlocks(sqlite_store, tmp_path):
    from counter.services.agents import AgentService

    small_town(sqlite_store)
    AgentService(sqlite_store).add("agent", "agent")
    preset_pin(sqlite_store, "agent")
    app, gate = gated_app(sqlite_store, tmp_path, "production")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, LockScreen)  # before the database is even open
        burst(app, [*TEST_PIN, "enter", *"rouxel"])
        await until(pilot, lambda: "vérifié dans un instant" in status_text(app), "the code kept")
        assert search_text(app) == ""  # nothing typed reached the search behind the lock
        gate.set()
        await until(pilot, lambda: not app.locked and search_text(app) == "rouxel", "unlocked, then the search")
        await until(pilot, lambda: len(table_rows(app)) == 1, "the result")


async def test_production_without_a_pin_yet_keeps_what_was_typed_on_the_lock_for_the_setup(sqlite_store, tmp_path):
    from counter.services.agents import AgentService
    from counter.services.lock import LockService

    AgentService(sqlite_store).add("agent", "agent")  # added by a supervisor: no PIN yet
    app, gate = gated_app(sqlite_store, tmp_path, "production")
    async with app.run_test(size=(80, 24)) as pilot:
        await shown(pilot, LockScreen)
        burst(app, "97")
        gate.set()
        burst(app, "53")  # while the lock becomes the setup
        setup = await shown(pilot, PinSetup)
        await until(pilot, lambda: pin_fields(setup) == ["9753", ""], "the code typed so far, kept")
        assert "Pas encore de code personnel" in status_text(app)
        burst(app, ["enter", *"9753", "enter", *"roux"])
        await until(pilot, lambda: not app.locked and search_text(app) == "roux", "unlocked, then the search")
    assert LockService(sqlite_store).unlock("agent", "9753").ok


async def test_production_a_database_that_fails_to_open_is_said_on_the_lock_and_retried(sqlite_store, tmp_path):
    from counter.services.agents import AgentService

    AgentService(sqlite_store).add("agent", "agent")
    preset_pin(sqlite_store, "agent")
    runtime = Runtime(mode="production", data_dir=tmp_path, database_url=str(sqlite_store.url),
                      clock=FixedClock(TODAY), agent_login="agent", role="agent")
    attempts = []

    def opener():
        attempts.append(1)
        if len(attempts) == 1:
            raise OSError("network down")
        return sqlite_store

    service = start_local_service(runtime, opener=opener, backends=[], background=False)
    app = build_app(runtime, make_services(sqlite_store, runtime, backends=[]), service=service)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: "Base de données indisponible" in status_text(app), "the failure, on the lock")
        assert isinstance(app.screen, LockScreen)
        burst(app, [*TEST_PIN, "enter", "f5"])  # F5 does not wait behind the code typed before it
        await until(pilot, lambda: not app.locked, "retried, then unlocked with the code typed meanwhile")
        assert len(attempts) == 2
