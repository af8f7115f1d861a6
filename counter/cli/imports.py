"""`counter import schools|sectors|families|addresses`: the carte scolaire and the
town's families from CSV, the town's addresses from the Base Adresse Nationale
(administrators, English).

Wired into counter.cli.parser by ``register(subparsers)`` and ``run(runtime, args)``;
the formats are in docs/administration.md and docs/go-live.md, the rules
in counter.services.sector_import, counter.services.family_import and
counter.services.address_import.
"""

from __future__ import annotations

import argparse
import sys

from counter.cli import common

EXIT_OK, EXIT_FAILED, EXIT_BAD_FILE = 0, 1, 2  # a file that cannot be imported is 2, as a usage error
MAX_SHOWN = 200  # problems printed; the count says how many more


def register(subparsers) -> argparse.ArgumentParser:
    command = subparsers.add_parser(
        "import", help="import the carte scolaire (schools, street sectors), the families, the BAN addresses")
    actions = command.add_subparsers(dest="import_command", metavar="WHAT", required=True)
    schools = actions.add_parser("schools", help="schools by UAI (columns: uai, name, kind)")
    sectors = actions.add_parser(
        "sectors", help="street ranges -> school sector; the file is the whole carte scolaire")
    families = actions.add_parser(
        "families", help="the town's families from its family software (one row a person; re-import updates)")
    for action in (schools, sectors, families):
        action.add_argument("file", metavar="FILE.csv", help="UTF-8 CSV with a header line (comma or semicolon)")
        action.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
    families.add_argument("--mapping", metavar="MAP.toml", help="the export's columns, encoding, separator, "
                          "date formats and values (default: our format, docs/go-live.md)")
    families.add_argument("--rejects", metavar="PATH", help="where to write the refused rows "
                          "(default: FILE.rejects.csv beside FILE.csv)")
    addresses = actions.add_parser(
        "addresses", help="the town's streets and numbers from the BAN export (adresses-<INSEE>.csv[.gz])")
    addresses.add_argument("file", metavar="FILE", help="the BAN per-commune CSV export, gzipped or not")
    addresses.add_argument("--dry-run", action="store_true", help="check and say what would change, write nothing")
    return command


def run(runtime, args) -> int:
    from counter.services.sector_import import ImportFileError, import_schools, import_sectors
    from counter.terminal import echo

    if args.import_command == "families":
        from counter.cli.import_families import run_families

        return run_families(runtime, args)
    store = common.open_current_store(runtime)
    if store is None:
        return EXIT_FAILED
    options = {}
    if args.import_command == "addresses":
        from counter.progress import ProgressBar
        from counter.services.address_import import import_addresses as importer

        options["progress"] = ProgressBar("importing addresses")  # on a terminal, for a large commune
    else:
        importer = import_schools if args.import_command == "schools" else import_sectors
    try:
        report = importer(store, args.file, runtime.agent_login or "admin", dry_run=args.dry_run, **options)
    except ImportFileError as exc:
        # The file's own text (a header, a value) may hold controls: echo makes it safe.
        echo(f"counter: {args.file}: not imported, nothing was written:", err=True)
        for line, message in exc.problems[:MAX_SHOWN]:
            echo(f"  line {line}: {message}" if line else f"  {message}", err=True)
        if len(exc.problems) > MAX_SHOWN:
            echo(f"  … and {len(exc.problems) - MAX_SHOWN} more", err=True)
        return EXIT_BAD_FILE
    except Exception as exc:  # noqa: BLE001 — the database gone mid-import: rolled back
        print(f"counter: database error, nothing was written: {type(exc).__name__}: "
              f"{str(exc).splitlines()[0] if str(exc) else ''}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        if "progress" in options:
            options["progress"].close()
        store.dispose()
    if args.import_command == "addresses":
        _print_addresses(report)
    else:
        _print(report, args.import_command)
    return EXIT_OK


def _print(report, what: str) -> None:
    dry = report.dry_run
    added, removed, updated = ("to add", "to remove", "to update") if dry else ("added", "removed", "updated")
    print(f"{'dry run: ' if dry else ''}{report.lines} line(s) read")
    if what == "schools":
        print(f"schools: {len(report.schools_added)} {added}, {len(report.schools_updated)} {updated}")
    else:
        print(f"rules: {report.rules_added} {added}, {report.rules_removed} {removed}, {report.rules_kept} unchanged")
        print(f"sectors: {len(report.sectors_added)} {added}, {len(report.sectors_updated)} {updated}")
        for street in report.streets_added:
            print(f"new street: {street}")
        for sector in report.sectors_unused:
            print(f"sector no longer in the carte scolaire (kept): {sector}")
    if not report.changed:
        print("nothing to change: the database already matches the file")
    elif dry:
        print("dry run: nothing was written")


def _print_addresses(report) -> None:
    from counter.terminal import echo

    dry = report.dry_run
    added, retired, updated = ("to add", "to retire", "to update") if dry else ("added", "retired", "updated")
    echo(f"{'dry run: ' if dry else ''}{report.lines} address(es) read, commune {report.insee_code}, "
         f"postal code(s) {', '.join(report.postal_codes)}")
    echo(f"streets: {len(report.streets_added)} {added}, {len(report.streets_adopted)} "
         f"{'to adopt' if dry else 'adopted'} (known without a BAN key), {len(report.streets_renamed)} "
         f"{'to rename' if dry else 'renamed'}, {len(report.streets_retired)} {retired}, "
         f"{len(report.streets_restored)} {'to restore' if dry else 'restored'}, {report.streets_updated} {updated}")
    echo(f"addresses: {report.addresses_added} {added}, {report.addresses_updated} {updated}, "
         f"{report.addresses_retired} {retired}, {report.addresses_restored} {'to restore' if dry else 'restored'}, "
         f"{report.addresses_kept} unchanged")
    for old, new in report.streets_renamed[:MAX_SHOWN]:
        echo(f"renamed: {old} -> {new}")
    for name in report.streets_retired[:MAX_SHOWN]:
        echo(f"street retired (kept for the families living there, no longer offered): {name}")
    if report.retired_in_use:
        echo(f"{report.retired_in_use} retired address(es) still used by households: kept")
    if report.streets_outside:
        echo(f"{report.streets_outside} street(s) not in the BAN: kept, their numbers are typed")
    if not report.changed:
        echo("nothing to change: the database already matches the file")
    elif dry:
        echo("dry run: nothing was written")
