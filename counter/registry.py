"""Backend and emulator plugins, discovered through entry points.

The built-in adapters register in pyproject.toml exactly as a third-party
distribution would, under ``counter.backends`` (adapters) and
``counter.emulators`` (their emulated agencies, for training and tests); so do
the kinds of registration, under ``counter.registrations``
(counter.domain.kinds).
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points
from typing import Any

BACKENDS = "counter.backends"
EMULATORS = "counter.emulators"
REGISTRATIONS = "counter.registrations"


class PluginError(Exception):
    pass


@cache
def _group(group: str) -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group=group)}


def kinds(group: str = BACKENDS) -> list[str]:
    return sorted(_group(group))


def load(kind: str, group: str = BACKENDS) -> Any:
    """The plugin object registered for ``kind``."""
    entry = _group(group).get(kind)
    if entry is None:
        installed = ", ".join(kinds(group)) or "none"
        what = "backend kind" if group == BACKENDS else f"{group} plugin"
        raise PluginError(f"unknown {what} {kind!r} (installed: {installed})")
    return entry.load()


def refresh() -> None:
    """Forget what was discovered (tests install plugins on the fly)."""
    _group.cache_clear()
