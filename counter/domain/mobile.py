"""The roaming bus as the agent reads it (docs/tour.md): the link to the town's
database, in French words for every status line. Pure: the terminal words what
the session says."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from counter.domain.reg_states import STATE_LABELS

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


@dataclass(frozen=True, slots=True)
class Placed:
    """A registration the town hall placed otherwise than the bus did, as sent back."""

    code: str  # the visit's receipt code (RCP-…): it finds the family
    state: str  # the town hall's state (counter.domain.reg_states.RegState)
    rank: int | None = None


def tour_notice(finished: datetime, families: int, visits: int, placed: list[Placed] | tuple = (),
                refused: int = 0) -> str:
    """What the bus's agents are told once what was done on board reached the town hall:
    « Envoyé à la mairie à 14:32 : 1 famille, 1 visite. » then, for each registration
    the town hall placed otherwise, the receipt's code, its state there and « prévenez
    la famille ». "" when nothing was sent but the audit trail."""
    if not (families or visits or placed or refused):
        return ""
    local = finished.astimezone() if finished.tzinfo else finished
    sent = [f"{n} {word}{'s' if n > 1 else ''}" for n, word in ((families, "famille"), (visits, "visite")) if n]
    lines = [f"Envoyé à la mairie à {local:%H:%M}" + (f" : {', '.join(sent)}." if sent else ".")]
    for registration in placed:
        label = STATE_LABELS.get(registration.state, registration.state.replace("_", " "))
        rank = f" (rang {registration.rank})" if registration.rank is not None else ""
        lines.append(f"{registration.code} : {label}{rank} à la mairie : prévenez la famille.")
    if refused:
        lines.append(f"{refused} envoi(s) refusé(s) par la mairie : prévenez un superviseur "
                     "(counter tour report).")
    return "\n".join(lines)
