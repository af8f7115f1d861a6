"""Synchronisation for pilot tests: wait on a condition, never on the clock."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

CONDITION_TIMEOUT = 15.0


async def until(pilot, condition: Callable[[], bool], what: str = "condition") -> None:
    """Let the app process its messages until ``condition()`` holds.

    The deadline only turns a hang into a clear failure; passing tests return
    as soon as the app has done the work.
    """
    deadline = time.monotonic() + CONDITION_TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.01)
    await pilot.pause()


def table_rows(app, selector: str = "#results") -> list[list[str]]:
    from textual.widgets import DataTable

    table = app.screen.query_one(selector, DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def status_text(app) -> str:
    from screens.widgets import StatusLine

    return str(app.screen.query_one(StatusLine).render())


@asynccontextmanager
async def started(app, size: tuple[int, int] = (80, 24)) -> AsyncIterator:
    """Run the app headless and wait until its store is open."""
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: app.ready, "services")
        await until(pilot, lambda: app.pin_checked, "the PIN check")
        if app.locked and not app.training:  # production starts locked: the agent types the PIN
            await unlock(pilot)
        yield pilot


async def unlock(pilot, pin: str | None = None) -> None:
    """Type the PIN on the lock screen (the test agent's preset one by default)."""
    from fixtures.agents import TEST_PIN

    app = pilot.app
    await pilot.press(*(pin or TEST_PIN), "enter")
    await until(pilot, lambda: not app.locked, "the unlock")


async def type_text(pilot, text: str) -> None:
    """Type like an agent, then wait for the answer to exactly that text."""
    await pilot.press(*text)
    screen = pilot.app.screen
    await until(pilot, lambda: screen._shown_for == screen.query_text, f"results for {screen.query_text!r}")


def _full_update(app):
    # What the app would paint now, the modal's background screens included.
    return app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)


def screen_lines(app) -> list[str]:
    """The screen as a person reads it: one string per terminal row."""
    return ["".join(strip.text for strip in line) for line in _full_update(app).strips]


def terminal_output(app) -> str:
    """What the app writes to the terminal to paint the screen (escape sequences included)."""
    return _full_update(app).render_segments(app.console)


def assert_layout_intact(app) -> list[str]:
    """No row wider than the terminal, no control character painted; the rows."""
    from rich.cells import cell_len

    from counter.domain.text import printable

    width, height = app.size
    lines = screen_lines(app)
    assert len(lines) == height
    for number, line in enumerate(lines):
        assert cell_len(line) <= width, f"row {number} is {cell_len(line)} cells wide: {line!r}"
        assert printable(line) == line, f"row {number} paints a control character: {line!r}"
    return lines
