"""`counter import families FILE.csv [--mapping MAP.toml] [--dry-run] [--rejects PATH]`.

Exit status: 0 every family imported (or unchanged); 1 some families refused
(their rows are in the reject file) or the database failed; 2 the file or the
mapping cannot be used (nothing written). Standard output says counts and line
numbers, never a name: names are only in the reject file (mode 0640).
"""

from __future__ import annotations

import os
from pathlib import Path

from counter.cli import common
from counter.terminal import echo

EXIT_OK, EXIT_REFUSED, EXIT_BAD_FILE = 0, 1, 2
LINES_SHOWN = 20
PROBLEMS_SHOWN = 200


def run_families(runtime, args) -> int:
    from counter.files import NotRegularFile, check_output
    from counter.progress import ProgressBar
    from counter.services.csv_input import ImportFileError
    from counter.services.family_import import default_rejects_path, import_families, review_duplicates
    from counter.services.family_mapping import DEFAULT, MappingError, load_mapping

    try:
        mapping = load_mapping(Path(args.mapping)) if args.mapping else DEFAULT
    except MappingError as exc:
        echo(f"counter: bad mapping, nothing was written: {exc}", err=True)
        return EXIT_BAD_FILE
    rejects = Path(args.rejects) if args.rejects else None
    try:
        if rejects is not None and rejects.resolve() == Path(args.file).resolve():
            echo("counter: --rejects cannot be the file imported (it would be replaced): nothing was written",
                 err=True)
            return EXIT_BAD_FILE
        target = rejects or default_rejects_path(Path(args.file))
        check_output(target)
        folder = target.parent
        if not (folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)):
            echo(f"counter: the reject file cannot be written in {folder} (no such folder, or not writable by "
                 "this account): give --rejects PATH; nothing was written", err=True)
            return EXIT_BAD_FILE
    except (NotRegularFile, OSError) as exc:
        echo(f"counter: the reject file cannot be written there, nothing was written: {exc}", err=True)
        return EXIT_BAD_FILE
    store = common.open_current_store(runtime)
    if store is None:
        return EXIT_REFUSED
    bar = ProgressBar("importing families")
    try:
        report = import_families(
            store, Path(args.file), today=runtime.clock.today(), agent=runtime.agent_login or "admin",
            mapping=mapping, dry_run=args.dry_run, rejects_path=rejects,
            progress=bar,
            on_new_persons=review_duplicates)
    except ImportFileError as exc:  # said as the other imports say it, a problem a line
        bar.close()
        echo(f"counter: {args.file}: not imported, nothing was written:", err=True)
        for line, message in exc.problems[:PROBLEMS_SHOWN]:
            echo(f"  line {line}: {message}" if line else f"  {message}", err=True)
        if len(exc.problems) > PROBLEMS_SHOWN:
            echo(f"  … and {len(exc.problems) - PROBLEMS_SHOWN} more", err=True)
        return EXIT_BAD_FILE
    except (NotRegularFile, OSError) as exc:  # the reject file cannot be written
        bar.close()
        echo(f"counter: cannot write the reject file: {exc}", err=True)
        return EXIT_REFUSED
    except Exception as exc:  # noqa: BLE001 — the database gone mid-import: that batch rolled back
        bar.close()
        from counter.store.failures import admin_message

        echo(f"counter: database error, the import stopped (families written before it are kept, whole; "
             f"import the file again to finish): {admin_message(exc)}", err=True)
        return EXIT_REFUSED
    finally:
        store.dispose()
    bar.close()
    _print(report, args.file)
    return EXIT_REFUSED if report.rejected_lines else EXIT_OK


def _print(report, file: str) -> None:
    dry = report.dry_run
    verbs = ("to create", "to update") if dry else ("created", "updated")
    echo(f"{'dry run: ' if dry else ''}{file}: {report.rows:,} row(s), {report.families:,} family(ies)")
    echo(f"families: {report.created:,} {verbs[0]}, {report.updated:,} {verbs[1]}, {report.unchanged:,} unchanged, "
         f"{report.rejected_families:,} refused")
    echo(f"persons: {report.persons_created:,} {verbs[0]}, {report.persons_updated:,} {verbs[1]}, "
         f"{report.persons_detached:,} {'to detach' if dry else 'detached'} from their family")
    if report.likely_duplicates:
        echo(f"likely duplicates to review: {report.likely_duplicates:,} pair(s) (counter duplicates list; "
             "nothing was merged)")
    if report.ignored_columns:
        echo(f"columns not read: {', '.join(report.ignored_columns)}")
    if report.rejected_lines:
        shown = ", ".join(str(n) for n in report.rejected_lines[:LINES_SHOWN])
        more = f" and {len(report.rejected_lines) - LINES_SHOWN} more" if len(report.rejected_lines) > LINES_SHOWN \
            else ""
        echo(f"refused: {len(report.rejected_lines):,} row(s), lines {shown}{more}")
        echo(f"reject file: {report.rejects_path} (the rows with their reasons: fix them there and import "
             "that file again)")
    if dry:
        echo("dry run: nothing was written")
