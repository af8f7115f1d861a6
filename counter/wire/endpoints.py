"""Every request the service answers: its name, what it takes and what it gives.

One table for both sides: the service routes ``POST /v1/<name>`` to the handler
registered for the endpoint, the client sends ``args`` and decodes ``result``.
Streams answer one JSON document per line (``application/x-ndjson``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from counter.wire import PREFIX

A = TypeVar("A")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Endpoint(Generic[A, R]):
    name: str
    args: Any  # a dataclass type, or None for an empty body
    result: Any  # a type msgspec decodes (for a stream: the type of each line)
    stream: bool = False

    @property
    def path(self) -> str:
        return f"{PREFIX}/{self.name}"


@dataclass(frozen=True, slots=True)
class NoArgs:
    pass


_table: dict[str, Endpoint] = {}


def endpoint(name: str, args: Any, result: Any, *, stream: bool = False) -> Endpoint:
    if name in _table:
        raise ValueError(f"endpoint {name!r} declared twice")
    _table[name] = found = Endpoint(name, args, result, stream)
    return found
