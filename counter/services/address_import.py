"""The town's addresses from the Base Adresse Nationale (``counter import addresses``).

The BAN's per-commune CSV export (docs/administration.md) is read as a stream
under a byte cap, checked whole (every bad line reported, nothing written on
any), then applied in one write transaction, audited with counts only:

- a street per BAN street key (``<insee>_<voie>``); a street the database has
  without a key (from ``import sectors`` or an older set-up) and of the same
  folded name and postal code is adopted, so the carte scolaire keeps working;
- a town address per BAN ``id``: number, suffix (``rep``), postal code; a
  lieu-dit without numbers is one address without a number;
- a newer export renames (same key, new name), adds, and retires what it no
  longer holds: retired rows are kept (families may live there), not offered;
  one that comes back is offered again.

Importing the same file again changes nothing.
"""

from __future__ import annotations

import csv
import itertools
import json
import socket
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import insert, select, update

from counter.domain.addresses import BAN_REQUIRED, BanAddress, read_ban_row
from counter.services.ban_input import ban_lines
from counter.services.csv_input import ImportFileError
from counter.services.sector_import import street_key as folded_street
from counter.store.engine import Store
from counter.store.models import Address, AuditEntry, Street, TownAddress

# A commune's export is a few MB; Paris, the largest, some 30 MB. Every address is
# held in memory while the file is checked whole: the cap bounds that too.
MAX_BYTES = 100 * 1024 * 1024
BATCH = 5_000  # rows per bulk statement
TOO_LARGE = f"larger than {MAX_BYTES // (1024 * 1024)} MiB: not the BAN export of one commune"
MAX_PROBLEMS = 1000  # then the check stops: the file is not a BAN export
OPTIONAL = ("nom_ld",)


@dataclass
class AddressReport:
    """What an import did (or, dry run, would do): counts, and street names for the administrator."""

    dry_run: bool
    lines: int = 0
    insee_code: str = ""
    postal_codes: tuple[str, ...] = ()
    streets_added: list[str] = field(default_factory=list)
    streets_adopted: list[str] = field(default_factory=list)  # known without a key: now the BAN's
    streets_renamed: list[tuple[str, str]] = field(default_factory=list)  # (old, new)
    streets_retired: list[str] = field(default_factory=list)
    streets_restored: list[str] = field(default_factory=list)
    streets_updated: int = 0  # same key and name, another postal code or commune name
    streets_outside: int = 0  # streets the BAN does not have (kept, numbers typed)
    addresses_added: int = 0
    addresses_updated: int = 0
    addresses_retired: int = 0
    addresses_restored: int = 0
    addresses_kept: int = 0
    retired_in_use: int = 0  # retired addresses a household still lives at

    @property
    def changed(self) -> bool:
        return bool(self.streets_added or self.streets_adopted or self.streets_renamed or self.streets_retired
                    or self.streets_restored or self.streets_updated or self.addresses_added or self.addresses_updated
                    or self.addresses_retired or self.addresses_restored)

    def counts(self) -> dict[str, int]:
        return {"lines": self.lines, "streets_added": len(self.streets_added),
                "streets_adopted": len(self.streets_adopted), "streets_renamed": len(self.streets_renamed),
                "streets_retired": len(self.streets_retired), "streets_restored": len(self.streets_restored),
                "streets_updated": self.streets_updated,
                "addresses_added": self.addresses_added, "addresses_updated": self.addresses_updated,
                "addresses_retired": self.addresses_retired, "addresses_restored": self.addresses_restored}


# -- reading and checking -------------------------------------------------------------------


def read_ban(path: Path) -> list[BanAddress]:
    """Every address of the export, checked (ImportFileError lists every problem)."""
    with ban_lines(Path(path), MAX_BYTES, TOO_LARGE) as lines:
        return ban_rows(lines)


def ban_rows(lines) -> list[BanAddress]:
    """The export's rows from its lines of text (the header first)."""
    first = next(lines, "")
    if not first.strip():
        raise ImportFileError([(0, "empty file: no header line")])
    reader = csv.reader(itertools.chain([first], lines), delimiter=";", strict=True)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except csv.Error as exc:
        raise ImportFileError([(1, f"unreadable header: {exc}")]) from None
    if len(header) == 1 and ("," in first or "\t" in first):
        separator = "commas" if first.count(",") >= first.count("\t") else "tabs"
        raise ImportFileError([(1, f"columns separated by {separator}, not by semicolons: "
                                   "not the BAN's CSV export (give adresses-<code INSEE>.csv as downloaded)")])
    problems: list[tuple[int, str]] = []
    twice = sorted({h for h in header if h and header.count(h) > 1})
    if twice:
        problems.append((1, f"column(s) named twice: {', '.join(twice)}"))
    missing = [c for c in BAN_REQUIRED if c not in header]
    if missing:
        problems.append((1, f"missing column(s): {', '.join(missing)} (the BAN export has them all)"))
    if problems:
        raise ImportFileError(problems)
    index = {name: header.index(name) for name in (*BAN_REQUIRED, *OPTIONAL) if name in header}
    addresses: list[BanAddress] = []
    first_line: dict[str, int] = {}
    try:
        for values in reader:
            line = reader.line_num
            if len(problems) >= MAX_PROBLEMS:
                problems.append((line, f"stopped after {MAX_PROBLEMS} problems"))
                break
            if not any(v.strip() for v in values):
                continue  # blank lines are allowed
            if len(values) != len(header):
                problems.append((line, f"{len(values)} field(s), the header has {len(header)}"))
                continue
            address, bad = read_ban_row(line, {name: values[i] for name, i in index.items()})
            if bad:
                problems += [(line, b) for b in bad]
            elif address.ban_id in first_line:
                problems.append((line, f"id {address.ban_id} already on line {first_line[address.ban_id]}"))
            else:
                first_line[address.ban_id] = line
                addresses.append(address)
    except csv.Error as exc:
        problems.append((reader.line_num, f"unreadable CSV: {exc}"))
    communes = sorted({a.insee_code for a in addresses})
    if len(communes) > 1:
        problems.append((0, f"addresses of {len(communes)} communes ({', '.join(communes[:5])}"
                            f"{'…' if len(communes) > 5 else ''}): import the town's own export"))
    if problems:
        raise ImportFileError(sorted(problems))
    if not addresses:
        raise ImportFileError([(0, "no data lines")])
    return addresses


# -- writing ---------------------------------------------------------------------------------------


class _DryRun(Exception):
    """Raised inside the transaction to roll a dry run back, after everything was checked."""


@dataclass
class _WantedStreet:
    key: str
    name: str
    postal_code: str  # the one most of its addresses have
    city: str
    insee_code: str
    lieu_dit: bool  # no numbered address


def _wanted_streets(addresses: list[BanAddress]) -> dict[str, _WantedStreet]:
    grouped: dict[str, list[BanAddress]] = {}
    for address in addresses:
        grouped.setdefault(address.street_key, []).append(address)
    streets = {}
    for key, rows in grouped.items():
        codes = Counter(a.postal_code for a in rows)
        postal_code = min(codes, key=lambda c: (-codes[c], c))
        first = rows[0]  # a street has one name in an export; the first line's wins
        streets[key] = _WantedStreet(key, first.street_name, postal_code, first.city, first.insee_code,
                                     all(a.number is None for a in rows))
    return streets


def import_addresses(store: Store, path: Path, agent: str, *, dry_run: bool = False,
                     audit: bool = True, progress=None) -> AddressReport:
    """Check the export whole, then apply it in one transaction (rolled back for a dry run).
    ``audit=False`` only for the training town's own set-up (its trail starts empty);
    ``progress(done, total)``, if given, follows the addresses as they are applied."""
    addresses = read_ban(path)
    report = AddressReport(dry_run, lines=len(addresses), insee_code=addresses[0].insee_code,
                           postal_codes=tuple(sorted({a.postal_code for a in addresses})))
    try:
        with store.write() as session:
            apply_addresses(session, addresses, report, progress)
            if report.changed and audit:
                session.add(AuditEntry(agent=agent, host=socket.gethostname(), action="addresses.import",
                                       target_type="town_addresses", target_id=report.insee_code,
                                       details=json.dumps(report.counts(), sort_keys=True)))
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return report


def apply_addresses(session, addresses: list[BanAddress], report: AddressReport, progress=None) -> None:
    """Bring the streets and town addresses in step with the export (in the caller's transaction)."""
    insee = report.insee_code
    other = session.execute(select(Street.insee_code).where(Street.insee_code.is_not(None),
                                                            Street.insee_code != insee).limit(1)).scalar()
    if other is not None:
        raise ImportFileError([(0, f"the database holds the addresses of commune {other}, "
                                   f"the file those of {insee}: not this town's export")])
    street_ids = _apply_streets(session, _wanted_streets(addresses), report)
    _apply_addresses(session, addresses, street_ids, report, progress)


def _apply_streets(session, wanted: dict[str, _WantedStreet], report: AddressReport) -> dict[str, int]:
    known = session.execute(select(Street).order_by(Street.id)).scalars().all()
    by_key = {s.ban_key: s for s in known if s.ban_key}
    unkeyed: dict[tuple[str, str], Street] = {}
    for street in known:
        if not street.ban_key:
            unkeyed.setdefault(folded_street(street.name, street.postal_code, "")[:2], street)
    for key, want in sorted(wanted.items()):
        street = by_key.get(key)
        adopted = False
        if street is None:
            street = unkeyed.pop(folded_street(want.name, want.postal_code, "")[:2], None)
            if adopted := street is not None:  # it takes the BAN's spelling: not a rename
                street.ban_key = key
                report.streets_adopted.append(want.name)
        if street is None:
            street = Street(name=want.name, postal_code=want.postal_code, city=want.city, ban_key=key)
            session.add(street)
            report.streets_added.append(f"{want.name}, {want.postal_code}")
        elif street.name != want.name and not adopted:
            report.streets_renamed.append((street.name, want.name))
        elif street.retired:
            report.streets_restored.append(want.name)
        elif not adopted and (street.postal_code, street.city, street.insee_code, street.lieu_dit) != (
                want.postal_code, want.city, want.insee_code, want.lieu_dit):
            report.streets_updated += 1  # its main postal code, its commune's name…
        street.name, street.postal_code, street.city = want.name, want.postal_code, want.city
        street.insee_code, street.lieu_dit, street.retired = want.insee_code, want.lieu_dit, False
        by_key[key] = street
    for key, street in by_key.items():
        if key not in wanted and not street.retired:
            street.retired = True
            report.streets_retired.append(street.name)
    report.streets_outside = len(unkeyed)
    session.flush()
    return {key: street.id for key, street in by_key.items()}


def _apply_addresses(session, addresses: list[BanAddress], street_ids: dict[str, int],
                     report: AddressReport, progress=None) -> None:
    columns = (TownAddress.id, TownAddress.ban_id, TownAddress.street_id, TownAddress.number,
               TownAddress.suffix, TownAddress.postal_code, TownAddress.retired)
    known = {row.ban_id: row for row in session.execute(select(*columns)).all()}
    # Bulk statements in batches, built as they go: a commune has up to hundreds of
    # thousands of addresses. One key set per statement.
    pending: dict[str, list[dict]] = {"added": [], "changed": [], "gone": []}
    statements = {"added": insert(TownAddress), "changed": update(TownAddress), "gone": update(TownAddress)}

    def queue(kind: str, row: dict) -> None:
        pending[kind].append(row)
        if len(pending[kind]) >= BATCH:
            session.execute(statements[kind], pending[kind])
            pending[kind] = []

    for done, address in enumerate(addresses, start=1):
        if progress and done % BATCH == 0:
            progress(done, len(addresses))
        values = {"street_id": street_ids[address.street_key], "number": address.number,
                  "suffix": address.suffix, "postal_code": address.postal_code, "retired": False}
        row = known.pop(address.ban_id, None)
        if row is None:
            queue("added", {"ban_id": address.ban_id, **values})
            report.addresses_added += 1
        elif (row.street_id, row.number, row.suffix, row.postal_code, row.retired) != tuple(values.values()):
            queue("changed", {"id": row.id, **values})
            if row.retired:
                report.addresses_restored += 1
            else:
                report.addresses_updated += 1
        else:
            report.addresses_kept += 1
    for row in known.values():
        if not row.retired:
            queue("gone", {"id": row.id, "retired": True})
            report.addresses_retired += 1
    for kind, rows in pending.items():
        if rows:
            session.execute(statements[kind], rows)
    if progress:
        progress(len(addresses), len(addresses))
    retired_ids = [row.ban_id for row in known.values()]
    for start in range(0, len(retired_ids), 500):
        chunk = retired_ids[start:start + 500]
        report.retired_in_use += len(session.execute(
            select(Address.ban_id).where(Address.ban_id.in_(chunk)).distinct()).all())
