"""Moved to counter.domain.visit_summary (pure rules, light: the terminal shows its types)."""

from counter.domain.visit_summary import *  # noqa: F403
