"""JSON for the wire: domain dataclasses in, the same dataclasses out.

msgspec encodes and decodes dataclasses, dates, enums and tuples natively; what
it cannot do alone is a field typed with a base class whose value is one of
several subclasses (a section's facts, a visit's requests). Those subclasses are
registered here with a tag, written as ``"$type"`` beside their fields.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import types
import typing
from typing import Any, TypeVar

import msgspec

T = TypeVar("T")
TAG = "$type"

_tag_of: dict[type, str] = {}
_classes: dict[type, dict[str, type]] = {}  # base -> tag -> subclass
_decoders: dict[Any, msgspec.json.Decoder] = {}
_natives: dict[type, bool] = {}  # per class: can msgspec write it alone (no tag anywhere inside)?


class Encoded(bytes):
    """A handler's answer already in its wire form (a search ranked and encoded in a
    worker process): sent as is."""


class WireFormatError(ValueError):
    """A body that is not what its endpoint takes (English: for logs and developers)."""


def polymorphic(base: type, classes: dict[str, type]) -> None:
    """Fields typed ``base`` carry one of ``classes`` (tag -> subclass)."""
    _classes[base] = dict(classes)
    for tag, cls in classes.items():
        _tag_of[cls] = tag
    _decoders.clear()
    _natives.clear()


def _native(kind: type) -> bool:
    """Whether no value of ``kind`` can hold a tagged class: then msgspec writes it
    as it is, without the walk of ``to_builtins`` (a search answer: a few hundred
    values, at every keystroke of every terminal)."""
    found = _natives.get(kind)
    if found is None:
        found = _natives[kind] = dataclasses.is_dataclass(kind) and _plain_type(kind, set())
    return found


def _plain_type(hint: Any, seen: set) -> bool:
    if hint in _PLAIN or hint in seen:
        return True
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if hint in _tag_of or any(issubclass(hint, base) for base in _classes):
            return False
        seen.add(hint)
        try:
            hints = typing.get_type_hints(hint)
        except Exception:  # noqa: BLE001 — a hint that does not resolve: take the safe walk
            return False
        return all(_plain_type(h, seen) for h in hints.values())
    if isinstance(hint, type) and issubclass(hint, (enum.Enum, datetime.date, datetime.time)):
        return True
    args = typing.get_args(hint)
    origin = typing.get_origin(hint)
    if origin in (tuple, list, frozenset, set, dict, typing.Union, types.UnionType) and args:
        return all(a is Ellipsis or _plain_type(a, seen) for a in args)
    return False  # Any, object, a bare container, anything else: the safe walk


_PLAIN = frozenset({str, int, float, bool, type(None)})
_field_names: dict[type, tuple[str, ...] | None] = {}  # per class: its dataclass fields, or None


def to_builtins(value: Any) -> Any:
    """Dicts, lists and scalars msgspec writes as JSON; tags added where registered."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    names = _field_names.get(kind, ())
    if names == ():  # not seen yet: a search answer holds thousands of values of a few classes
        names = _field_names[kind] = (tuple(f.name for f in dataclasses.fields(kind))
                                      if dataclasses.is_dataclass(kind) else None)
    if names is not None:
        out = {name: to_builtins(getattr(value, name)) for name in names}
        tag = _tag_of.get(kind)
        if tag is not None:
            out[TAG] = tag
        return out
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_builtins(item) for item in value]
    if isinstance(value, dict):
        return {key: to_builtins(item) for key, item in value.items()}
    return value


def _dec_hook(kind: type, value: Any) -> Any:
    subclasses = _classes.get(kind)
    if subclasses is None or not isinstance(value, dict):
        raise NotImplementedError(f"no wire form for {kind!r}")
    fields = dict(value)
    cls = subclasses.get(fields.pop(TAG, None))
    if cls is None:
        raise ValueError(f"unknown {kind.__name__} tag")
    return msgspec.convert(fields, cls, dec_hook=_dec_hook)


def encode(value: Any) -> bytes:
    if isinstance(value, Encoded):
        return bytes(value)
    if _native(type(value)):
        return msgspec.json.encode(value)
    return msgspec.json.encode(to_builtins(value))


def decode(data: bytes | str, kind: type[T] | Any) -> T:
    decoder = _decoders.get(kind)
    if decoder is None:
        decoder = _decoders[kind] = msgspec.json.Decoder(kind, dec_hook=_dec_hook)
    try:
        return decoder.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError, TypeError) as exc:
        raise WireFormatError(str(exc)) from None


def convert(value: Any, kind: type[T] | Any) -> T:
    """Builtins (already parsed JSON) to ``kind``."""
    try:
        return msgspec.convert(value, kind, dec_hook=_dec_hook)
    except (msgspec.ValidationError, ValueError, TypeError) as exc:
        raise WireFormatError(str(exc)) from None
