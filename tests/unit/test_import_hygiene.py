"""The terminal stays light: it is a client of the counter service.

The TUI process (``counter``, the real command line) never imports the store,
the ORM, the validation library, the server stack, the agencies' adapters or
their emulators — those live in the service — and before the search screen's
first frame it imports no HTTP client either (the connection is made after it).
"""

import json
import subprocess
import sys

import pytest

# Never in the terminal's process: the service's side.
SERVICE_SIDE = ("sqlalchemy", "sqlmodel", "pydantic", "alembic", "psycopg", "starlette", "uvicorn", "keyring",
                "fpdf", "yaml", "backends", "fixtures")
OURS_SERVICE_SIDE = ("counter.store", "counter.services", "counter.service", "counter.settings",
                     "counter.app_factory_service")
# Not before the first frame either.
BEFORE_PAINT = (*SERVICE_SIDE, "httpx", "msgspec")

# Runs the real command line (``counter`` with no argument, the service named by
# COUNTER_SOCKET), headless at 80x24; notes the modules imported (1) when the
# first screen's first frame is displayed (the lock: a socket named so is taken
# for a site's service until the session says it trains) and (2) once the
# session has come from the service and a search has been answered; then quits.
TERMINAL = """
import json, sys

def modules():
    return sorted({m for m in list(sys.modules)})

from textual.app import App
from screens.app import CounterApp
import counter.terminal

events = []
display = App._display

def first_paint(self, screen, renderable):
    # The first screen: the search, or the lock (a site's service locks from the first frame).
    if renderable is not None and not events:
        events.append(["painted", modules()])
    return display(self, screen, renderable)

App._display = first_paint
counter.terminal.has_terminal = lambda: True

def headless(self, **_):
    async def drive():
        async with self.run_test(size=(80, 24)) as pilot:
            for _ in range(600):
                if self.ready and self.pin_checked:
                    break
                await pilot.pause(0.05)
            await pilot.press(*"roux")
            for _ in range(600):
                if self.screen.query_one("#results").row_count:
                    break
                await pilot.pause(0.05)
            events.append(["searched", modules()])
    import asyncio
    asyncio.run(drive())

CounterApp.run = headless
from counter.cli import main
status = main([])
print(json.dumps(events))
sys.exit(status)
"""


@pytest.fixture
def running_service(town_store, tmp_path, monkeypatch):
    """A service on the fictional town, its socket named to the command by COUNTER_SOCKET."""
    from fixtures.agents import preset_pin

    from counter.clock import FixedClock
    from counter.runtime import Runtime, os_login
    from counter.service.local import start_local_service
    from tests.conftest import TODAY

    preset_pin(town_store, os_login())
    runtime = Runtime(mode="training", data_dir=tmp_path, database_url=str(town_store.url),
                      clock=FixedClock(TODAY), agent_login=os_login())
    service = start_local_service(runtime, store=town_store, backends=[])
    monkeypatch.setenv("COUNTER_SOCKET", str(service.service.socket_path))
    yield service
    service.stop()


def _run_terminal() -> list:
    done = subprocess.run([sys.executable, "-c", TERMINAL], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _top(modules: list[str], names) -> list[str]:
    found = set()
    for module in modules:
        for name in names:
            if module == name or module.startswith(name + "."):
                found.add(name)
    return sorted(found)


def test_the_terminal_never_imports_the_service_side(running_service):
    events = _run_terminal()
    assert [name for name, _ in events] == ["painted", "searched"], events
    _, searched = events[1]
    assert "counter.client.connection" in searched and "textual" in searched  # the client did connect and search
    assert _top(searched, SERVICE_SIDE) == [], "imported by the terminal"
    assert _top(searched, OURS_SERVICE_SIDE) == [], "imported by the terminal"


def test_no_heavy_module_before_the_search_screen_is_painted(running_service):
    events = _run_terminal()
    painted = events[0][1]
    assert _top(painted, BEFORE_PAINT) == [], "imported before the first paint"
