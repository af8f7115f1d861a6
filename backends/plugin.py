"""The object a ``counter.backends`` entry point names.

A plugin module defines its settings model at import time (cheap: pydantic
only) and names its adapter class by path, imported when a backend is built,
so that validating a configuration does not import httpx.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module

from counter.backend import Backend, BackendContext


@dataclass(frozen=True)
class Plugin:
    kind: str
    label: str  # French
    Settings: type  # subclass of counter.backend.settings.BackendSettings
    adapter: str  # "package.module:ClassName", built with a BackendContext
    needs_secret: bool = True

    def create(self, context: BackendContext) -> Backend:
        module, _, name = self.adapter.partition(":")
        return getattr(import_module(module), name)(context)
