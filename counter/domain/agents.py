"""An agent of the counter as commands and screens see it (no PIN, no database row)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AgentView:
    login: str  # the operating-system login: the agent's identity
    display_name: str
    role: str  # agent | supervisor | trainer
    active: bool
