"""The export files' formats, written row by row (never the whole list in memory).

The same bytes whether the rows come from the database (the commands run with a
configuration file) or from the counter service (the commands through its
socket, which write the file in the administrator's own process).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import Any, TextIO

from counter.domain.text import printable, spreadsheet_cell

AUDIT_FIELDS = ("seq", "at", "agent", "host", "action", "target_type", "target_id", "details", "prev_hash", "hash")
REGISTRATION_COLUMNS = (
    "registration_id", "created_at", "visit_code", "kind", "state", "person_id",
    "birth_name", "given_names", "birth_date", "school_year", "school_uai", "level",
    "creche_code", "rank", "rank_confirmed", "delivery", "cancelled_at",
)


def write_registrations_csv(rows: Iterable[dict[str, Any]], out: TextIO) -> int:
    writer = csv.DictWriter(out, fieldnames=REGISTRATION_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow({k: "" if v is None else spreadsheet_cell(v) if isinstance(v, str) else v
                         for k, v in row.items()})
        count += 1
    return count


def write_registrations_json(rows: Iterable[dict[str, Any]], out: TextIO) -> int:
    """A JSON array written object by object."""
    count = 0
    out.write("[")
    for row in rows:
        out.write(",\n" if count else "\n")
        out.write(json.dumps({k: printable(v) if isinstance(v, str) else v for k, v in row.items()},
                             ensure_ascii=False))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


def write_registrations(rows: Iterable[dict[str, Any]], fmt: str, out: TextIO) -> int:
    return write_registrations_csv(rows, out) if fmt == "csv" else write_registrations_json(rows, out)


def write_audit(rows: Iterable[dict[str, Any]], fmt: str, out: TextIO) -> int:
    """Audit entries as CSV or JSON (an array, keys sorted); the count."""
    count = 0
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=AUDIT_FIELDS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
            count += 1
        return count
    out.write("[")
    for row in rows:
        out.write(("," if count else "") + "\n" + json.dumps(row, ensure_ascii=False, sort_keys=True))
        count += 1
    out.write("\n]\n")
    return count


def started(rows: Iterable) -> Iterable:
    """``rows`` with the first one already fetched: a refusal or a failure at the
    start of a stream comes before anything is written (no header alone on stdout)."""
    import itertools

    iterator = iter(rows)
    for first in iterator:
        return itertools.chain((first,), iterator)
    return iter(())
