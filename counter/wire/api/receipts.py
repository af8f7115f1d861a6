"""A confirmed visit's receipt again: shown, and printed by the service (it holds the files)."""

from __future__ import annotations

from dataclasses import dataclass

from counter.domain.receipt import Receipt
from counter.wire.endpoints import endpoint


@dataclass(frozen=True, slots=True)
class ReceiptVisitArgs:
    visit_id: int


@dataclass(frozen=True, slots=True)
class StoredReceipt:
    receipt: Receipt
    # Where the service keeps its files, under its receipts directory (« 2026/11/RCP-….pdf »);
    # None when they could not be written there.
    saved_as: str | None


@dataclass(frozen=True, slots=True)
class Printed:
    ok: bool
    message: str  # French, for the status line


STORED_RECEIPT = endpoint("receipts.stored", ReceiptVisitArgs, StoredReceipt)
REPRINT_RECEIPT = endpoint("receipts.reprint", ReceiptVisitArgs, Printed)
