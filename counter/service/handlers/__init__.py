"""Handlers: one function per endpoint, taking (core, actor, args).

A plain function runs in a worker thread (the store is synchronous); an async
generator function answers a stream, one item per line.
"""

from __future__ import annotations

from collections.abc import Callable

from counter.wire.endpoints import Endpoint

_handlers: dict[str, tuple[Endpoint, Callable]] = {}


def handles(endpoint: Endpoint):
    def register(function: Callable) -> Callable:
        if endpoint.name in _handlers:
            raise ValueError(f"two handlers for {endpoint.name!r}")
        _handlers[endpoint.name] = (endpoint, function)
        return function

    return register


def all_handlers() -> dict[str, tuple[Endpoint, Callable]]:
    """Every handler, each module of this package imported once (they register)."""
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    return dict(_handlers)
