"""What confirming a visit gave: each registration's outcome, the receipt's code."""

from __future__ import annotations

from dataclasses import dataclass

from counter.domain.receipt import Receipt
from counter.domain.visits import RegState, Request


@dataclass(frozen=True)
class Outcome:
    """One confirmed registration."""

    registration_id: int
    request: Request
    state: RegState
    rank: int | None = None
    note: str = ""


@dataclass(frozen=True)
class Confirmation:
    visit_id: int
    code: str
    outcomes: tuple[Outcome, ...]
    already: bool = False  # the visit had been confirmed before (a replay after a crash)
    receipt: Receipt | None = None  # as stored with the visit (None: confirmed before receipts were kept)
