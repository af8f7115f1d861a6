"""The carte scolaire from CSV: schools (by UAI) and street ranges → school sector.

Administrators' tool (``counter import schools|sectors``, docs/administration.md).
A file is checked whole before anything is written: every bad line is reported
with its line number, and a file with any error writes nothing. A valid file is
applied in one write transaction, audited.

The sectors file is the whole carte scolaire: after an import the street
rules are exactly the file's (rules missing from it are removed), sectors are
created or updated by name (a sector the database knows may be named without
its schools, which then stay), streets found by name, postal code and town
(ignoring case, accents, hyphens and apostrophes) or created. Importing the
same file again changes nothing. A sector no longer named by the file is
kept (reported as unused): addresses outside every rule simply get no sector.
"""

from __future__ import annotations

import csv
import itertools
import json
import re
import socket
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from counter.domain.names import fold
from counter.services.csv_input import ImportFileError, open_input, text_lines
from counter.store.engine import Store
from counter.store.models import AuditEntry, School, SchoolSector, SectorRule, Street

UAI = re.compile(r"[0-9]{7}[A-Z]")
POSTAL_CODE = re.compile(r"[0-9]{5}")
KINDS = ("maternelle", "elementaire", "primaire")
PARITIES = ("all", "odd", "even")
MAX_NUMBER = 9999
SCHOOL_COLUMNS = ("uai", "name", "kind")
SECTOR_COLUMNS = ("street", "postal_code", "city", "number_from", "number_to", "parity", "sector",
                  "maternelle_uai", "elementaire_uai")
REQUIRED_SECTOR_COLUMNS = ("street", "postal_code", "city", "sector")
MAX_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class SchoolRow:
    line: int
    uai: str
    name: str
    kind: str


@dataclass(frozen=True)
class RuleRow:
    line: int
    street: str
    postal_code: str
    city: str
    number_from: int
    number_to: int
    parity: str
    sector: str
    maternelle_uai: str | None
    elementaire_uai: str | None


@dataclass
class ImportReport:
    """What an import did (or, dry run, would do)."""

    dry_run: bool
    lines: int = 0
    schools_added: list[str] = field(default_factory=list)  # UAIs
    schools_updated: list[str] = field(default_factory=list)
    streets_added: list[str] = field(default_factory=list)  # "name, postal code city"
    sectors_added: list[str] = field(default_factory=list)
    sectors_updated: list[str] = field(default_factory=list)
    sectors_unused: list[str] = field(default_factory=list)
    rules_added: int = 0
    rules_removed: int = 0
    rules_kept: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.schools_added or self.schools_updated or self.streets_added or self.sectors_added
                     or self.sectors_updated or self.rules_added or self.rules_removed)


def street_key(name: str, postal_code: str, city: str) -> tuple[str, str, str]:
    """How a street of the file finds the street of the database: case, accents,
    hyphens, apostrophes and repeated spaces do not count."""
    def norm(text: str) -> str:
        return " ".join(re.sub(r"[-'’\s]+", " ", fold(text)).split())

    return norm(name), postal_code.strip(), norm(city)


# -- reading and checking -------------------------------------------------------------------


TOO_LARGE = f"larger than {MAX_BYTES // (1024 * 1024)} MiB: not a carte scolaire file"


def _open(path: Path):
    return open_input(path, MAX_BYTES, TOO_LARGE)


def _lines(handle):
    return text_lines(handle, MAX_BYTES, TOO_LARGE)


def _read(path: Path, columns: tuple[str, ...], required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) of a CSV file with a header line; comma or semicolon separated, UTF-8."""
    with _open(path) as handle:
        try:
            return _rows(_lines(handle), columns, required)
        except OSError as exc:  # a read error half-way (a disk, a network share)
            raise ImportFileError([(0, f"cannot read {path}: {exc.strerror or exc}")]) from None


def _rows(lines, columns: tuple[str, ...], required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    first = next(lines, "")
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(itertools.chain([first], lines), delimiter=delimiter, strict=True)
    try:
        header = [h.strip().lower() for h in next(reader, [])]
    except csv.Error as exc:
        raise ImportFileError([(1, f"unreadable header: {exc}")]) from None
    problems: list[tuple[int, str]] = []
    unknown = [h for h in header if h not in columns]
    missing = [c for c in required if c not in header]
    if unknown:
        problems.append((1, f"unknown column(s): {', '.join(unknown)} (expected: {', '.join(columns)})"))
    if missing:
        problems.append((1, f"missing column(s): {', '.join(missing)}"))
    if len(set(header)) != len(header):
        problems.append((1, "a column is named twice"))
    if problems:
        raise ImportFileError(problems)
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for values in reader:
            line = reader.line_num
            if not any(v.strip() for v in values):
                continue  # blank lines are allowed
            if len(values) != len(header):
                problems.append((line, f"{len(values)} field(s), the header has {len(header)}"))
                continue
            rows.append((line, {h: v.strip() for h, v in zip(header, values)}))
    except csv.Error as exc:
        problems.append((reader.line_num, f"unreadable CSV: {exc}"))
    if problems:
        raise ImportFileError(problems)
    if not rows:
        raise ImportFileError([(0, "no data lines")])
    return rows


def read_schools(path: Path) -> list[SchoolRow]:
    """The schools file, checked whole (ImportFileError lists every problem)."""
    problems: list[tuple[int, str]] = []
    schools: list[SchoolRow] = []
    seen: dict[str, int] = {}
    for line, row in _read(path, SCHOOL_COLUMNS, SCHOOL_COLUMNS):
        uai, name, kind = row["uai"].upper(), " ".join(row["name"].split()), row["kind"].lower()
        bad = []
        if not UAI.fullmatch(uai):
            bad.append(f"uai: {row['uai']!r} is not a UAI (7 digits and a letter, e.g. 0459033Z)")
        elif uai in seen:
            bad.append(f"uai: {uai} already on line {seen[uai]}")
        if not name:
            bad.append("name: empty")
        elif len(name) > 120:
            bad.append("name: longer than 120 characters")
        if kind not in KINDS:
            bad.append(f"kind: {row['kind']!r} is not one of {', '.join(KINDS)}")
        if bad:
            problems += [(line, b) for b in bad]
            continue
        seen[uai] = line
        schools.append(SchoolRow(line, uai, name, kind))
    if problems:
        raise ImportFileError(problems)
    return schools


def _number(value: str, default: int, name: str, bad: list[str]) -> int:
    if not value:
        return default
    if not value.isdigit() or int(value) > MAX_NUMBER:
        bad.append(f"{name}: {value!r} is not a street number from 0 to {MAX_NUMBER}")
        return default
    return int(value)


def read_sectors(path: Path) -> list[RuleRow]:
    """The sectors file, checked line by line (the database is checked by :func:`import_sectors`)."""
    problems: list[tuple[int, str]] = []
    rules: list[RuleRow] = []
    for line, row in _read(path, SECTOR_COLUMNS, REQUIRED_SECTOR_COLUMNS):
        bad: list[str] = []
        street, city = " ".join(row["street"].split()), " ".join(row["city"].split())
        postal_code, sector = row["postal_code"], " ".join(row["sector"].split())
        if not street or len(street) > 120:
            bad.append("street: empty" if not street else "street: longer than 120 characters")
        if not POSTAL_CODE.fullmatch(postal_code):
            bad.append(f"postal_code: {postal_code!r} is not 5 digits")
        if not city or len(city) > 80:
            bad.append("city: empty" if not city else "city: longer than 80 characters")
        if not sector or len(sector) > 80:
            bad.append("sector: empty" if not sector else "sector: longer than 80 characters")
        low = _number(row.get("number_from", ""), 0, "number_from", bad)
        high = _number(row.get("number_to", ""), MAX_NUMBER, "number_to", bad)
        if low > high:
            bad.append(f"number_from ({low}) is greater than number_to ({high})")
        parity = (row.get("parity") or "all").lower()
        if parity not in PARITIES:
            bad.append(f"parity: {row.get('parity')!r} is not one of {', '.join(PARITIES)}")
        uais = {}
        for name in ("maternelle_uai", "elementaire_uai"):
            value = (row.get(name) or "").upper()
            if value and not UAI.fullmatch(value):
                bad.append(f"{name}: {row.get(name)!r} is not a UAI (7 digits and a letter)")
            uais[name] = value or None
        if bad:
            problems += [(line, b) for b in bad]
            continue
        rules.append(RuleRow(line, street, postal_code, city, low, high, parity, sector,
                             uais["maternelle_uai"], uais["elementaire_uai"]))
    problems += _coherence(rules)
    if problems:
        raise ImportFileError(sorted(problems))
    return rules


def _coherence(rules: list[RuleRow]) -> list[tuple[int, str]]:
    """A sector names the same schools everywhere; no two rules of a street leave a number ambiguous."""
    problems: list[tuple[int, str]] = []
    schools: dict[str, tuple[int, str | None, str | None]] = {}
    for rule in rules:
        named = schools.get(rule.sector)
        mine = (rule.maternelle_uai, rule.elementaire_uai)
        if named is None:
            schools[rule.sector] = (rule.line, *mine)
        elif tuple(named[1:]) != mine and any(mine):
            problems.append((rule.line, f"sector {rule.sector!r}: other schools than on line {named[0]}"))
    by_street: dict[tuple[str, str, str], list[RuleRow]] = {}
    for rule in rules:
        by_street.setdefault(street_key(rule.street, rule.postal_code, rule.city), []).append(rule)
    for street_rules in by_street.values():
        for i, a in enumerate(street_rules):
            for b in street_rules[i + 1:]:
                if _ambiguous(a, b):
                    problems.append((b.line, f"same street and range as line {a.line}: which sector is ambiguous"))
    return problems


def _ambiguous(a: RuleRow, b: RuleRow) -> bool:
    """Both cover a number and neither is narrower (counter.domain.sectors: the narrowest wins)."""
    if (a.number_to - a.number_from, a.parity == "all") != (b.number_to - b.number_from, b.parity == "all"):
        return False
    low, high = max(a.number_from, b.number_from), min(a.number_to, b.number_to)
    parities = {a.parity, b.parity} - {"all"}
    if len(parities) == 2:
        return False
    wanted = parities.pop() if parities else None
    return any(wanted is None or (n % 2 == 1) == (wanted == "odd") for n in range(low, min(high, low + 1) + 1))


# -- writing ---------------------------------------------------------------------------------------


def _audit(session, agent: str, action: str, details: dict) -> None:
    session.add(AuditEntry(agent=agent, host=socket.gethostname(), action=action, target_type="carte_scolaire",
                           target_id="", details=json.dumps(details, sort_keys=True)))


class _DryRun(Exception):
    """Raised inside the transaction to roll a dry run back, after everything was checked."""


def import_schools(store: Store, path: Path, agent: str, *, dry_run: bool = False) -> ImportReport:
    rows = read_schools(path)
    report = ImportReport(dry_run, lines=len(rows))
    try:
        with store.write() as session:
            known = {s.uai: s for s in session.execute(select(School)).scalars()}
            for row in rows:
                school = known.get(row.uai)
                if school is None:
                    session.add(School(uai=row.uai, name=row.name, kind=row.kind))
                    report.schools_added.append(row.uai)
                elif (school.name, school.kind) != (row.name, row.kind):
                    school.name, school.kind = row.name, row.kind
                    report.schools_updated.append(row.uai)
            if report.changed:
                _audit(session, agent, "schools.import", {"added": len(report.schools_added),
                                                          "updated": len(report.schools_updated),
                                                          "lines": report.lines})
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return report


def import_sectors(store: Store, path: Path, agent: str, *, dry_run: bool = False) -> ImportReport:
    rows = read_sectors(path)
    report = ImportReport(dry_run, lines=len(rows))
    try:
        with store.write() as session:
            schools = {s.uai: s for s in session.execute(select(School)).scalars()}
            problems = []
            for row in rows:
                for name, wanted in (("maternelle_uai", ("maternelle", "primaire")),
                                     ("elementaire_uai", ("elementaire", "primaire"))):
                    uai = getattr(row, name)
                    if uai is None:
                        continue
                    school = schools.get(uai)
                    if school is None:
                        problems.append((row.line, f"{name}: no school {uai} (import it first: "
                                                   "counter import schools FILE.csv)"))
                    elif school.kind not in wanted:
                        problems.append((row.line, f"{name}: {uai} is a school of kind {school.kind}"))
            # A sector whose schools no line gives must be one the database knows (its schools stay).
            known = {name for name in session.execute(select(SchoolSector.name)).scalars()}
            given = {r.sector for r in rows if r.maternelle_uai or r.elementaire_uai}
            first_line: dict[str, int] = {}
            for row in rows:
                first_line.setdefault(row.sector, row.line)
            problems += [(line, f"sector {sector!r} is new: give its maternelle_uai or elementaire_uai "
                                "(or both) on one of its lines")
                         for sector, line in first_line.items() if sector not in given and sector not in known]
            if problems:
                raise ImportFileError(sorted(problems))
            streets = _streets(session, rows, report)
            sectors = _sectors(session, rows, schools, report)
            session.flush()
            wanted_rules = {(streets[street_key(r.street, r.postal_code, r.city)].id, r.number_from, r.number_to,
                             r.parity, sectors[r.sector].id) for r in rows}
            for rule in session.execute(select(SectorRule)).scalars().all():
                key = (rule.street_id, rule.number_from, rule.number_to, rule.parity, rule.sector_id)
                if key in wanted_rules:
                    wanted_rules.discard(key)
                    report.rules_kept += 1
                else:
                    session.delete(rule)
                    report.rules_removed += 1
            for street_id, low, high, parity, sector_id in sorted(wanted_rules):
                session.add(SectorRule(street_id=street_id, number_from=low, number_to=high, parity=parity,
                                       sector_id=sector_id))
                report.rules_added += 1
            named = set(sectors)
            report.sectors_unused = sorted(s.name for s in session.execute(select(SchoolSector)).scalars()
                                           if s.name not in named)
            if report.changed:
                _audit(session, agent, "sectors.import", {
                    "lines": report.lines, "rules_added": report.rules_added, "rules_removed": report.rules_removed,
                    "streets_added": len(report.streets_added), "sectors_added": len(report.sectors_added),
                    "sectors_updated": len(report.sectors_updated)})
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return report


def _streets(session, rows: list[RuleRow], report: ImportReport) -> dict[tuple[str, str, str], Street]:
    streets: dict[tuple[str, str, str], Street] = {}
    for street in session.execute(select(Street).order_by(Street.id)).scalars():
        streets.setdefault(street_key(street.name, street.postal_code, street.city), street)
    for row in rows:
        key = street_key(row.street, row.postal_code, row.city)
        if key not in streets:
            streets[key] = Street(name=row.street, postal_code=row.postal_code, city=row.city)
            session.add(streets[key])
            report.streets_added.append(f"{row.street}, {row.postal_code} {row.city}")
    return streets


def _sectors(session, rows: list[RuleRow], schools: dict[str, School],
             report: ImportReport) -> dict[str, SchoolSector]:
    sectors = {s.name: s for s in session.execute(select(SchoolSector)).scalars()}
    wanted: dict[str, tuple[str | None, str | None]] = {}
    for row in rows:
        if row.maternelle_uai or row.elementaire_uai:
            wanted.setdefault(row.sector, (row.maternelle_uai, row.elementaire_uai))
    out: dict[str, SchoolSector] = {r.sector: sectors[r.sector] for r in rows if r.sector not in wanted}
    for name, (maternelle, elementaire) in wanted.items():
        ids = (schools[maternelle].id if maternelle else None, schools[elementaire].id if elementaire else None)
        sector = sectors.get(name)
        if sector is None:
            sector = SchoolSector(name=name, maternelle_id=ids[0], elementaire_id=ids[1])
            session.add(sector)
            report.sectors_added.append(name)
        elif (sector.maternelle_id, sector.elementaire_id) != ids:
            sector.maternelle_id, sector.elementaire_id = ids
            report.sectors_updated.append(name)
        out[name] = sector
    return out
