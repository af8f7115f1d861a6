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
    from counter.service.handlers import people, session  # noqa: F401 — register

    return dict(_handlers)
