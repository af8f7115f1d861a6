"""The dossier as the agent sees it: complete, one source down, one source slow.

Response times are frozen to 42 ms before the picture: everything else shown
comes from the fictional town and the emulated agencies, deterministically.
"""

from __future__ import annotations

import dataclasses

import pytest

from counter.settings import EmulatorKnobs
from screens.dossier import DossierScreen, SectionPanel
from tests.pilot.helpers import type_text, until

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}
CASES = {
    "complete": {},
    "caf_down": {"api_particulier": EmulatorKnobs(down=True)},
    "library_slow": {"koha": EmulatorKnobs(latency_ms=120_000)},
}


def opening_dossier(query: str, waiting_for: tuple[str, ...] = ()):
    async def run_before(pilot) -> None:
        app = pilot.app
        await until(pilot, lambda: app.ready, "services")
        await type_text(pilot, query)
        await pilot.press("f3")

        def answered() -> bool:
            if not isinstance(app.screen, DossierScreen) or not app.screen.panels:
                return False
            return all(p.answer is not None for p in app.screen.query(SectionPanel) if p.ref.source not in waiting_for)

        await until(pilot, answered, "the dossier")
        for panel in app.screen.query(SectionPanel):
            if panel.answer is not None:
                frozen = dataclasses.replace(panel.answer.provenance, elapsed_ms=42.0)
                panel.show(dataclasses.replace(panel.answer, provenance=frozen))
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("case", CASES)
def test_dossier(snap_compare, town_store, make_app, case, size):
    knobs = CASES[case]
    app = make_app(town_store, backends="training", knobs=knobs)
    slow = tuple(name for name, k in knobs.items() if k.latency_ms)
    assert snap_compare(app, terminal_size=SIZES[size], run_before=opening_dossier("giraud anne", slow))


def test_dossier_on_the_bus_offline(snap_compare, town_store, make_app, monkeypatch):
    """The roaming bus with its link down (the town's database: a port nobody listens
    on) and the CAF's emulator down: « indisponible hors ligne » in that section, and
    « Hors ligne depuis 10:15 » on the status line (the service's clock and the zone fixed)."""
    import socket
    import time
    from datetime import UTC, date, datetime
    from datetime import time as dtime
    from zoneinfo import ZoneInfo

    from counter import clock

    monkeypatch.setenv("TZ", "Europe/Paris")
    time.tzset()
    # Lost today at 10:15, Paris time: the line says the time alone, whatever the date of the run.
    lost = datetime.combine(date.today(), dtime(10, 15), tzinfo=ZoneInfo("Europe/Paris")).astimezone(UTC)
    monkeypatch.setattr(clock, "utc_now", lambda: lost)
    with socket.socket() as closed:  # a port that was free: nothing listens there now
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    mobile = {"bus": "bus-1", "central_url": f"postgresql://counter@127.0.0.1:{port}/town"}
    app = make_app(town_store, backends="training", knobs=CASES["caf_down"], mobile=mobile)
    app.BUS_SESSION_REFRESH_SECONDS = 0.2  # the session saying offline comes at once
    opening = opening_dossier("giraud anne")

    async def run_before(pilot) -> None:
        await until(pilot, lambda: app.link_warning, "the offline line")
        await opening(pilot)

    try:
        assert snap_compare(app, terminal_size=SIZES["80x24"], run_before=run_before)
    finally:
        monkeypatch.undo()
        time.tzset()
