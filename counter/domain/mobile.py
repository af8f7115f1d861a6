"""The roaming bus as the agent reads it (docs/tour.md): the link to the town's
database, in French words for every status line. Pure: the terminal words what
the session says."""

from __future__ import annotations

from datetime import date, datetime

# Said after « Hors ligne depuis … »: true whether the link comes back on the road
# or the bus is synchronised at the town hall.
KEPT_ON_BOARD = "ce qui est saisi est gardé à bord"


def offline_line(offline_since: datetime | None, bus: str = "", today: date | None = None) -> str:
    """« Hors ligne depuis 14:05 (bus-1) : ce qui est saisi est gardé à bord. », or ""
    when the link is up (or not known yet). The time is the terminal's local time; a
    link lost on another day than ``today`` (local) says the date (jj/mm/aaaa)."""
    if offline_since is None:
        return ""
    local = offline_since.astimezone() if offline_since.tzinfo else offline_since
    today = today or date.today()
    when = f"{local:%H:%M}" if local.date() == today else f"le {local:%d/%m/%Y} à {local:%H:%M}"
    which = f" ({bus})" if bus else ""
    return f"Hors ligne depuis {when}{which} : {KEPT_ON_BOARD}."
