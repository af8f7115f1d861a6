"""Start-up stays light: the heavy modules load after the first screen is painted.

"Start-up" here means: from the process start (``counter``, training mode, the
CLI's own path) until the search screen's first frame is handed to the
terminal. Before that frame no database, HTTP, configuration-validation,
keyring, PDF or server module may be imported; the store opens in a worker
started after that frame, and the agencies later still.
"""

import json
import subprocess
import sys

HEAVY = ("sqlalchemy", "sqlmodel", "pydantic", "alembic", "psycopg", "httpx", "keyring", "yaml", "fpdf",
         "starlette", "uvicorn")

BUILD = """
import sys
import counter.cli
from counter.logs import setup_logging
from counter.runtime import resolve
from counter.app_factory import build_app
import screens.search, screens.household
runtime = resolve()
setup_logging(runtime.log_dir)
build_app(runtime)
print(" ".join(sorted({m.split(".")[0] for m in sys.modules})))
"""

# Runs the real command line (``counter`` with no argument), headless at 80x24,
# and notes the heavy modules already imported (1) when the search screen's
# first frame is displayed and (2) when the worker starts opening the store;
# then quits.
TO_FIRST_PAINT = """
import json, sys
HEAVY = set(sys.argv[1].split(","))

def heavy():
    return sorted({m.split(".")[0] for m in list(sys.modules)} & HEAVY)

from textual.app import App
from screens.app import CounterApp
from screens.search import SearchScreen

events = []
display = App._display

def first_paint(self, screen, renderable):
    if renderable is not None and isinstance(screen, SearchScreen) and not events:
        events.append(["painted", heavy()])
    return display(self, screen, renderable)

App._display = first_paint

def headless(self, **_):
    def store_opens():
        events.append(["store opens", heavy()])
        self.call_from_thread(self.exit)
        raise RuntimeError("stop here: the measurement is done")
    self._opener = store_opens
    return App.run(self, headless=True, size=(80, 24))

CounterApp.run = headless
from counter.cli import main
main([])
print(json.dumps(events))
"""


def test_building_the_training_app_imports_no_heavy_module(isolated_environment):
    done = subprocess.run([sys.executable, "-c", BUILD], capture_output=True, text=True, timeout=60, check=True)
    loaded = set(done.stdout.split())
    assert "textual" in loaded
    assert not loaded & set(HEAVY), f"imported at start-up: {sorted(loaded & set(HEAVY))}"


def test_no_heavy_module_before_the_search_screen_is_painted(isolated_environment):
    done = subprocess.run([sys.executable, "-c", TO_FIRST_PAINT, ",".join(HEAVY)],
                          capture_output=True, text=True, timeout=120, check=True)
    events = json.loads(done.stdout.strip().splitlines()[-1])
    assert [name for name, _ in events] == ["painted", "store opens"], events
    (_, at_paint), _ = events
    assert at_paint == [], f"imported before the first paint: {at_paint}"
