"""What a terminal learns from the service when it connects: who it is, where, which rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from counter.domain.front_desk import FrontDesk
from counter.domain.rules import TownRules


@dataclass(frozen=True, slots=True)
class ScenarioInfo:
    """The training scenario a trainer started (``counter train NAME``)."""

    name: str
    title: str
    description: str
    day: date
    searches: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Session:
    protocol: int
    version: str
    login: str  # the peer's account, as the kernel told the service
    role: str  # agent | supervisor | trainer
    training: bool
    town_name: str
    today: date  # the service's day (a scenario's day in training)
    idle_lock_minutes: int
    rules: TownRules
    has_pin: bool
    host: str = ""  # the service's host, for the audit trail's wording
    theme: str = "auto"  # [ui] theme of the service's configuration
    scenario: ScenarioInfo | None = None
    # The agencies' sections, known once the service has connected them.
    sources_ready: bool = False
    notices: tuple[str, ...] = field(default=())  # French, shown once (a backend that failed to load…)
    # French: the town's families have not been synchronised with the family system for
    # longer than [sync] warn_after_hours (only when a family system is configured); "" when fine.
    sync_warning: str = ""
    # [keys] of the service's configuration, checked there: (binding id, key(s)) pairs.
    keymap: tuple[tuple[str, str], ...] = ()
    # [mobile]: the bus's name ("" at a town hall's counter) and, while the bus's link to
    # the town's database is down, since when (UTC, the service's clock); None when up.
    bus: str = ""
    offline_since: datetime | None = None
    # Training's bus (scenario bus-itinerant): the trainer may cut and restore its link.
    link_switch: bool = False
    # The bus: what the last sync that sent families or visits to the town hall changed
    # (French, counter.domain.mobile.tour_notice); "" when nothing to tell.
    tour_notice: str = ""
    # The site's front desk: its name, whether the reception issues tickets ([queue] enabled),
    # the reasons, redirections and needs the agents choose from (docs/front-desk.md).
    desk: FrontDesk = field(default_factory=FrontDesk)
