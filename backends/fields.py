"""Typed reads of the fields of an agency's JSON answer.

A missing or mistyped field raises AgencyError(BAD_RESPONSE) with a French
message naming the field, never its value (values are personal data).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from backends.http import AgencyError, parse_date
from counter.backend import Status


def _unreadable(name: str, problem: str) -> AgencyError:
    return AgencyError(Status.BAD_RESPONSE, f"Réponse illisible : champ « {name} » {problem}.")


def typed(obj: dict, name: str, kind: type, *, required: bool = False) -> Any:
    """The field, None when absent; an exact type (a bool is not a number)."""
    value = obj.get(name)
    if value is None:
        if required:
            raise _unreadable(name, "absent")
        return None
    if type(value) is not kind:
        raise _unreadable(name, "mal typé")
    return value


def object_field(obj: dict, name: str, *, required: bool = False) -> dict | None:
    return typed(obj, name, dict, required=required)


def object_list(obj: dict, name: str) -> list[dict]:
    """A required list of objects."""
    items = typed(obj, name, list, required=True)
    if not all(isinstance(item, dict) for item in items):
        raise _unreadable(name, "mal typé")
    return items


def date_field(obj: dict, name: str) -> date | None:
    text = typed(obj, name, str)
    if text is None:
        return None
    parsed = parse_date(text)
    if parsed is None:
        raise _unreadable(name, "n'est pas une date")
    return parsed


def count_field(obj: dict, name: str) -> int:
    """A count, 0 when absent."""
    value = typed(obj, name, int) or 0
    if value < 0:
        raise _unreadable(name, "négatif")
    return value
