"""``counter import families``: the town's families from its family software's CSV export.

One row a person, grouped into families by the family identifier. The whole
file is read and checked first: a file that cannot be read as a CSV table of
the mapping's columns (not text, wrong encoding, a missing or duplicated
column, a row with another number of fields, too large) is refused and nothing
is written. Then each family is checked whole and written whole, or refused
with its rows in the reject file (the original row plus ``line``,
``reason_fr``, ``reason_en``; same separator and encoding, so that it can be
fixed and imported again as it is).

Families are written in batches, one transaction each (FAMILIES_PER_TRANSACTION):
no transaction holds 100,000 persons, a crash leaves only whole families (the
next import finishes the job: it matches on the source ids), and within a
batch a family the database refuses is rolled back to its own savepoint
(:func:`counter.services.family_apply.apply_families`).
"""

from __future__ import annotations

import csv
import io
import json
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from counter.domain.family_checks import Reason
from counter.domain.family_rows import REQUIRED, PersonRow, assemble, read_row
from counter.files import FILE_MODE, atomic_file
from counter.services.csv_input import ImportFileError, open_input, text_lines
from counter.services.family_addresses import AddressBook
from counter.services.family_apply import CREATED, UNCHANGED, FamilyRejected, apply_families
from counter.services.family_mapping import DEFAULT, SEPARATORS, Mapping
from counter.store.engine import Store
from counter.store.indexing import compact_search_index
from counter.store.models import AuditEntry

MAX_BYTES = 256 * 1024 * 1024  # ~1M persons; a town's export is far smaller
MAX_COLUMNS = 300
MAX_FILE_PROBLEMS = 20
FAMILIES_PER_TRANSACTION = 500
COMPACT_AFTER = 5000  # persons written: the search index is compacted after the import
REJECT_COLUMNS = ("line", "reason_fr", "reason_en")
TOO_LARGE = f"larger than {MAX_BYTES // (1024 * 1024)} MiB: not a families file"

NewPersons = Callable[[object, list[int]], "int | None"]  # (session, person ids) → pairs recorded
Progress = Callable[[int, int], None]  # (rows done, rows in all)


@dataclass
class _Row:
    line: int
    raw: list[str]
    person: PersonRow | None
    reasons: list[Reason]


@dataclass
class FamiliesFile:
    """The file, read: its header, separator, encoding, and rows by family (file order)."""

    header: list[str]
    separator: str
    encoding: str
    families: dict[str, list[_Row]]
    unplaced: list[_Row]  # rows without a family identifier
    ignored_columns: list[str]
    their_header: dict[str, str]  # our column -> the file's header, as written

    @property
    def rows(self) -> int:
        return sum(len(r) for r in self.families.values()) + len(self.unplaced)


@dataclass
class FamiliesReport:
    dry_run: bool
    rows: int = 0
    families: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected_families: int = 0
    rejected_lines: list[int] = field(default_factory=list)
    persons_created: int = 0
    persons_updated: int = 0
    persons_detached: int = 0
    likely_duplicates: int = 0  # pairs put on the review list (counter duplicates list)
    ignored_columns: list[str] = field(default_factory=list)
    rejects_path: Path | None = None


def read_families_file(path: Path, mapping: Mapping = DEFAULT) -> FamiliesFile:
    """The file, read and grouped; ImportFileError when it cannot be read as the mapping says."""
    path = Path(path)
    with open_input(path, MAX_BYTES, TOO_LARGE) as handle:
        try:
            return _read(handle, mapping)
        except OSError as exc:
            raise ImportFileError([(0, f"cannot read {path}: {exc.strerror or exc}")]) from None


def _guess_separator(first: str) -> str:
    counts = {s: first.count(s) for s in SEPARATORS}
    best = max(SEPARATORS, key=lambda s: counts[s])
    return best if counts[best] else ";"


def _read(handle, mapping: Mapping) -> FamiliesFile:
    not_text = (f"not {mapping.encoding} text" + (" (save the file as CSV UTF-8, or give its encoding in a "
                                                   "mapping: encoding = \"cp1252\")" if mapping.encoding == "utf-8"
                                                   else ""))
    lines = text_lines(handle, MAX_BYTES, TOO_LARGE, mapping.encoding, not_text)
    first = next(lines, "")
    separator = mapping.separator or _guess_separator(first)
    reader = csv.reader(_chain(first, lines), delimiter=separator, strict=True)
    try:
        header = next(reader, [])
    except csv.Error as exc:
        raise ImportFileError([(1, f"unreadable header: {exc}")]) from None
    if not any(h.strip() for h in header):
        raise ImportFileError([(0, "empty file: no header line")])
    if len(header) > MAX_COLUMNS:
        raise ImportFileError([(1, f"the header has {len(header)} columns (at most {MAX_COLUMNS}): "
                                   "not a families file")])
    position = {}
    for index, name in enumerate(header):
        position.setdefault(name.strip().casefold(), []).append(index)
    where: dict[str, int] = {}
    problems: list[tuple[int, str]] = []
    for ours, theirs in mapping.headers.items():
        found = position.get(theirs.strip().casefold(), [])
        if len(found) > 1:
            problems.append((1, f"the column {theirs!r} is named {len(found)} times in the header"))
        elif found:
            where[ours] = found[0]
    missing = [mapping.headers[c] for c in REQUIRED if c not in where]
    if missing:
        hint = ""
        if len(header) == 1:
            hint = f" (the header is one column: is the separator {separator!r} the file's? Say it in a mapping)"
        problems.append((1, f"missing column(s): {', '.join(repr(m) for m in missing)}{hint}"))
    if problems:
        raise ImportFileError(problems)
    used = set(where.values())
    ignored = [h for i, h in enumerate(header) if i not in used and h.strip().casefold() not in REJECT_COLUMNS]
    families: dict[str, list[_Row]] = {}
    unplaced: list[_Row] = []
    problems = []
    line = 1
    try:
        for values in reader:
            line, start = reader.line_num, line + 1
            if not any(v.strip() for v in values):
                continue  # blank lines are allowed
            if len(values) != len(header):
                problems.append((start, f"{len(values)} field(s), the header has {len(header)}"))
                if len(problems) >= MAX_FILE_PROBLEMS:
                    break
                continue
            row = {ours: values[i] for ours, i in where.items()}
            person, reasons = read_row(start, row, mapping.reading)
            entry = _Row(start, values, person, reasons)
            family_id = " ".join(row["family_id"].split())
            (families.setdefault(family_id, []) if family_id else unplaced).append(entry)
    except csv.Error as exc:
        problems.append((reader.line_num, f"unreadable CSV: {exc}"))
    if problems:
        raise ImportFileError(problems)
    if not families and not unplaced:
        raise ImportFileError([(0, "no data lines")])
    return FamiliesFile(header, separator, mapping.encoding, families, unplaced, ignored,
                        {ours: header[i] for ours, i in where.items()})


def _chain(first: str, rest):
    yield first
    yield from rest


def import_families(store: Store, path: Path, *, today: date, agent: str, mapping: Mapping = DEFAULT,
                    dry_run: bool = False, rejects_path: Path | None = None, progress: Progress | None = None,
                    on_new_persons: NewPersons | None = None) -> FamiliesReport:
    """Read, check and write the families of ``path``; the reject file (``rejects_path``,
    default beside the file: NAME.rejects.csv) when some are refused.

    ``on_new_persons(session, person_ids)`` is called in each batch's transaction with
    the persons it created (duplicate detection: it returns the pairs it recorded); not
    in a dry run.
    """
    path = Path(path)
    data = read_families_file(path, mapping)
    report = FamiliesReport(dry_run, rows=data.rows, families=len(data.families),
                            ignored_columns=data.ignored_columns)
    refused: dict[int, tuple[str, str]] = {}  # line -> (fr, en)
    for row in data.unplaced:
        refused[row.line] = _texts(row.reasons or [Reason("family_id", "L'identifiant de famille est obligatoire.",
                                                          "family_id: required")], data)
    pending: list[tuple[str, list[_Row]]] = []
    for family_id, rows in data.families.items():
        if any(r.reasons for r in rows):
            _refuse(rows, {r.line: r.reasons for r in rows}, data, refused)
            report.rejected_families += 1
        else:
            pending.append((family_id, rows))
    done = len(data.unplaced) + sum(len(rows) for _, rows in data.families.items() if any(r.reasons for r in rows))
    if progress:
        progress(done, data.rows)
    with store.read() as session:
        book = AddressBook(session)  # read once: batches resolve their addresses from it
    analysed_at = 0  # persons written when PostgreSQL's statistics were last refreshed
    for start in range(0, len(pending), FAMILIES_PER_TRANSACTION):
        batch = pending[start:start + FAMILIES_PER_TRANSACTION]
        families, kept = [], []
        for family_id, rows in batch:
            family, reasons = assemble(family_id, [r.person for r in rows])
            if family is None:
                _refuse(rows, {rows[0].line: reasons}, data, refused)
                report.rejected_families += 1
            else:
                families.append(family)
                kept.append(rows)
        try:
            _write_batch(store, families, kept, book, today, data, refused, report, dry_run, on_new_persons)
        except _DryRun:
            pass
        done += sum(len(rows) for _, rows in batch)
        if progress:
            progress(done, data.rows)
        written = report.persons_created + report.persons_updated
        if not dry_run and store.dialect == "postgresql" and written >= 2 * max(analysed_at, COMPACT_AFTER // 2):
            # The planner's statistics, as the tables double: planned for the empty tables
            # the import began with, each batch's duplicate look-ups read the whole table.
            with store.write_connection() as connection:
                compact_search_index(connection)
            analysed_at = written
    if not dry_run and report.persons_created + report.persons_updated >= COMPACT_AFTER:
        with store.write_connection() as connection:
            compact_search_index(connection)
    report.rejected_lines = sorted(refused)
    if refused:
        report.rejects_path = Path(rejects_path) if rejects_path else default_rejects_path(path)
        write_rejects(report.rejects_path, data, refused)
    if not dry_run and (report.created or report.updated):
        with store.write() as session:
            session.add(AuditEntry(agent=agent, host=socket.gethostname(), action="families.import",
                                   target_type="families", target_id="", details=json.dumps({
                                       "rows": report.rows, "created": report.created, "updated": report.updated,
                                       "unchanged": report.unchanged, "rejected": report.rejected_families,
                                       "persons_created": report.persons_created}, sort_keys=True)))
    return report


class _DryRun(Exception):
    """Raised inside a batch's transaction to roll a dry run back, once it is counted."""


def _write_batch(store: Store, families, kept: list[list[_Row]], book: AddressBook, today: date,
                 data: FamiliesFile, refused: dict[int, tuple[str, str]], report: FamiliesReport, dry_run: bool,
                 on_new_persons: NewPersons | None) -> None:
    """One transaction: the batch's families written (each whole), counted, refused ones noted."""
    with store.write() as session:
        results = apply_families(session, families, today=today, addresses=book)
        created: list[int] = []
        for rows, result in zip(kept, results, strict=True):
            if isinstance(result, FamilyRejected):
                by_line: dict[int, list[Reason]] = {}
                for reason in result.reasons:
                    line = next((r.line for r in rows if r.person.person.source_id == reason.person), rows[0].line)
                    by_line.setdefault(line, []).append(reason)
                _refuse(rows, by_line, data, refused)
                report.rejected_families += 1
                continue
            if result.status == CREATED:
                report.created += 1
            elif result.status == UNCHANGED:
                report.unchanged += 1
            else:
                report.updated += 1
            report.persons_created += len(result.created_person_ids)
            report.persons_updated += len(result.updated_person_ids)
            report.persons_detached += len(result.detached_person_ids)
            created += result.created_person_ids
        if dry_run:
            raise _DryRun
        if created and on_new_persons is not None:
            # Duplicate detection, in the same transaction: pairs to review, never merged.
            report.likely_duplicates += on_new_persons(session, created) or 0


def review_duplicates(session, person_ids: list[int]) -> int:
    """What the command does with the persons a batch created: their likely duplicates
    go to the review list (never merged); the pairs recorded."""
    from counter.services.duplicates import review_new_persons

    return review_new_persons(session, person_ids, "import")


def default_rejects_path(path: Path) -> Path:
    """``families.csv`` → ``families.rejects.csv``, beside it."""
    return path.with_name(f"{path.stem}.rejects.csv")


def _texts(reasons: list[Reason], data: FamiliesFile) -> tuple[str, str]:
    def named(reason: Reason) -> str:
        return data.their_header.get(reason.field, reason.field)

    return ("; ".join(f"{named(r)} : {r.fr}" for r in reasons), "; ".join(f"{named(r)}: {r.en}" for r in reasons))


def _refuse(rows: list[_Row], reasons_by_line: dict[int, list[Reason]], data: FamiliesFile,
            refused: dict[int, tuple[str, str]]) -> None:
    """Every row of a refused family goes to the reject file: its own reasons, or the family's."""
    faulty = sorted(line for line, reasons in reasons_by_line.items() if reasons)
    shown = ", ".join(str(n) for n in faulty[:10])
    for row in rows:
        own = reasons_by_line.get(row.line)
        if own:
            refused[row.line] = _texts(own, data)
        else:
            refused[row.line] = (f"Famille refusée : voir la ou les ligne(s) {shown}.",
                                 f"family refused: see line(s) {shown}")


def write_rejects(target: Path, data: FamiliesFile, refused: dict[int, tuple[str, str]]) -> None:
    """The refused rows as the file gave them, plus line and reasons; same separator and
    encoding; mode 0640 (personal data). Columns ``line``, ``reason_fr``, ``reason_en`` of
    a reject file imported again are replaced, not repeated."""
    header = list(data.header)
    places = []
    for name in REJECT_COLUMNS:
        found = [i for i, h in enumerate(header) if h.strip().casefold() == name]
        if found:
            places.append(found[0])
        else:
            header.append(name)
            places.append(len(header) - 1)
    rows = {r.line: r for rows in data.families.values() for r in rows if r.line in refused}
    rows.update({r.line: r for r in data.unplaced})
    with atomic_file(Path(target), FILE_MODE) as handle:
        text = io.TextIOWrapper(handle, encoding=data.encoding, errors="replace", newline="")
        writer = csv.writer(text, delimiter=data.separator, lineterminator="\r\n")
        writer.writerow(header)
        for line in sorted(refused):
            values = list(rows[line].raw) + [""] * (len(header) - len(data.header))
            for place, value in zip(places, (str(line), *refused[line]), strict=True):
                values[place] = value
            writer.writerow(values)
        text.flush()
        text.detach()
