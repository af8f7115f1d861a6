"""The bad-input corpus: cases read from the TOML files beside this module."""

from __future__ import annotations

import os
import tomllib
from functools import cache
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
CATEGORIES = ("search", "identity", "visit_forms", "config", "cli", "agency", "import")


@cache
def load(category: str) -> tuple[dict, ...]:
    with (HERE / f"{category}.toml").open("rb") as handle:
        return tuple(tomllib.load(handle)["case"])


def params(category: str, select=None) -> list:
    """One pytest parameter per case, named by the case's id."""
    return [pytest.param(case, id=case["id"]) for case in load(category) if select is None or select(case)]


def text(case: dict, key: str) -> str:
    """A case's text: ``key``, or ``key_repeat = [piece, times]`` for very long values."""
    if f"{key}_repeat" in case:
        piece, times = case[f"{key}_repeat"]
        return piece * times
    return case[key]


def arg(value: str) -> str:
    """A command-line argument; ``hex:ff41`` stands for raw bytes, as Python hands
    undecodable ones over (lone surrogates)."""
    if value.startswith("hex:"):
        return os.fsdecode(bytes.fromhex(value[4:]))
    return value
