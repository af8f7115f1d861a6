"""`counter tour prepare|sync|report|purge-dossiers`: the roaming bus's data (administrators, English; docs/tour.md).

Direct on the databases, like ``counter sync``:

- ``prepare`` runs with the town's service configuration (``--config``): the town's
  database is the configuration's ``[database]``; it writes a new replica file.
- ``sync`` runs with the bus's configuration: the replica is its ``[database]``, the
  town's database ``[mobile] central_url`` (a password the URL lacks comes from the
  keyring entry ``mobile.central``: ``counter credentials set mobile.central``).
- ``report`` says what the last syncs changed or refused: with the bus's
  configuration, what this bus heard back; with the town's, what every bus sent
  (``--bus`` to choose one). Codes, ids, states and central's messages only: no
  names, no dates of birth (the receipt code finds the family at the counter).
- ``purge-dossiers`` runs with the bus's configuration: it deletes the dossiers of the
  day's appointments that ``prepare --appointments`` took along in the replica.

Exit statuses: 0 done; 1 it could not (a database unreachable, another sync
running) — what a sync applied stays, the next one resumes; 2 a usage or
configuration error.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from counter.cli import common
from counter.terminal import echo

EXIT_OK, EXIT_FAILED, EXIT_USAGE = common.EXIT_OK, common.EXIT_FAILED, common.EXIT_USAGE


def register(subparsers) -> argparse.ArgumentParser:
    command = subparsers.add_parser("tour", help="the roaming bus: prepare its replica, sync it back, report")
    actions = command.add_subparsers(dest="tour_command", metavar="ACTION", required=True)
    prepare = actions.add_parser("prepare", help="make a bus's replica from the town's database (--config: the "
                                                 "town's service configuration)")
    prepare.add_argument("--replica", required=True, metavar="PATH", help="the new replica file (SQLite)")
    prepare.add_argument("--bus", required=True, metavar="NAME", help="the bus's name, as in its [mobile] bus")
    prepare.add_argument("--street", action="append", type=common.at_most(common.MAX_ID), metavar="ID",
                         dest="streets", help="only the families of this street (repeat for the day's route)")
    prepare.add_argument("--appointments", metavar="FILE",
                         help="household ids with an appointment on the tour, one a line ('#' comments): "
                              "their dossiers are asked of the agencies now and travel with the bus")
    actions.add_parser("sync", help="send what was done on board to the town's database (--config: the bus's "
                                    "configuration)")
    actions.add_parser("purge-dossiers", help="delete the appointments' dossiers the bus took along (--config: "
                                              "the bus's configuration)")
    report = actions.add_parser("report", help="what the last syncs changed or refused")
    report.add_argument("--bus", metavar="NAME", help="only this bus (with the town's configuration)")
    report.add_argument("--limit", type=common.at_most(100_000), default=500, metavar="N",
                        help="look at the N newest items (default 500)")
    return command


def run(runtime, args) -> int:
    return {"prepare": _prepare, "sync": _sync, "report": _report,
            "purge-dossiers": _purge_dossiers}[args.tour_command](runtime, args)


# -- prepare ------------------------------------------------------------------------------------


def _prepare(runtime, args) -> int:
    from counter.services.tour_prepare import PrepareError, prepare_replica

    if not args.replica.strip():
        echo("counter tour prepare: --replica needs the path of the new replica file", err=True)
        return EXIT_USAGE
    if _mobile(runtime) is not None:
        echo("counter tour prepare: this is a bus's configuration ([mobile]); give the town's service "
             "configuration (--config)", err=True)
        return EXIT_USAGE
    appointments = None
    if args.appointments is not None:
        appointments = _read_appointments(args.appointments)
        if appointments is None:
            return EXIT_USAGE
    central = common.open_current_store(runtime)
    if central is None:
        return EXIT_FAILED
    path = Path(args.replica).expanduser().absolute()
    try:
        report = prepare_replica(central, f"sqlite:///{path}", bus=args.bus, streets=args.streets,
                                 clock=runtime.clock, agent=runtime.agent_login, appointments=appointments,
                                 dossiers=_dossiers(runtime, central, args.bus))
    except PrepareError as exc:
        echo(f"counter tour prepare: {exc}; nothing written", err=True)
        return EXIT_USAGE if exc.usage else EXIT_FAILED
    except Exception as exc:  # noqa: BLE001 — the database gone mid-copy: the partial file is removed
        from counter.store.failures import admin_message

        echo(f"counter tour prepare: database error: {admin_message(exc)}; nothing written", err=True)
        return EXIT_FAILED
    finally:
        central.dispose()
    route = "the whole town" if report.route is None else f"streets {', '.join(map(str, report.route))}"
    counts = report.counts
    echo(f"replica for {report.bus} written to {report.path} in {report.seconds:.1f} s ({route}): "
         f"{counts.get('household', 0)} households, {counts.get('person', 0)} persons, "
         f"{counts.get('registration', 0)} live registrations")
    if report.counts.get("appointments") is not None:
        echo(f"dossiers of {report.counts['appointments']} appointment household(s) taken along: "
             f"{report.counts.get('tour_dossier', 0)} agency answers (shown on board until the day after; "
             "'counter tour purge-dossiers' deletes them)")
    echo("it holds personal data: keep it on the bus's encrypted disk, and purge it after the tour "
         "(docs/administration.md, Roaming bus)")
    return EXIT_OK


def _read_appointments(name: str) -> tuple[int, ...] | None:
    """The household ids of the appointments file, or None after saying why (one line)."""
    from counter.files import UnreadableFile, read_small_text
    from counter.services.tour_dossiers import MAX_FILE_BYTES, AppointmentsError, parse_appointments

    if not name.strip():
        echo("counter tour prepare: --appointments needs the path of the appointments file", err=True)
        return None
    path = Path(name).expanduser()
    try:
        return parse_appointments(read_small_text(path, "the appointments file", MAX_FILE_BYTES), str(path))
    except (UnreadableFile, AppointmentsError) as exc:
        echo(f"counter tour prepare: {exc}; nothing written", err=True)
        return None


def _dossiers(runtime, central, bus: str):
    """How the prepare asks the agencies for the appointments' dossiers: the service's
    own backends (the keyring's credentials), each consultation audited on central
    for the account running the command."""
    def ask(households):
        from counter.service.composition import build_backends
        from counter.services.audit import Actor
        from counter.services.dossier import DossierService
        from counter.services.tour_dossiers import take_along

        actor = Actor.here(runtime.agent_login, "")
        return take_along(lambda: DossierService(central, build_backends(runtime), runtime.clock), actor,
                          households, bus)

    return ask


# -- purge-dossiers -----------------------------------------------------------------------------


def _purge_dossiers(runtime, args) -> int:
    from counter.services.tour_dossiers import purge

    if _mobile(runtime) is None:
        echo("counter tour purge-dossiers: give the bus's configuration (--config) with a [mobile] table: "
             "the dossiers taken along are in its replica", err=True)
        return EXIT_USAGE
    replica = common.open_current_store(runtime)
    if replica is None:
        return EXIT_FAILED
    try:
        deleted = purge(replica)
    except Exception as exc:  # noqa: BLE001 — the replica locked or damaged: nothing deleted
        from counter.store.failures import admin_message

        echo(f"counter tour purge-dossiers: database error: {admin_message(exc)}; nothing deleted", err=True)
        return EXIT_FAILED
    finally:
        replica.dispose()
    echo(f"{deleted} dossier answer(s) taken along deleted" if deleted else "no dossier answer to delete")
    return EXIT_OK


# -- sync ---------------------------------------------------------------------------------------


def _mobile(runtime):
    """The configuration's [mobile] table, or None (training, or not a bus)."""
    if runtime.config_path is None:
        return None
    from counter.config import load_settings

    return load_settings(runtime.config_path).mobile


def _central_url(url: str) -> tuple[str, str | None]:
    """The town database's URL with its password when the keyring has one, and why the
    keyring could not be read, if so (said only when the database then refuses us: a
    server may not ask for a password at all — peer, certificate)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" or parsed.password:
        return url, None
    from counter.credentials import MOBILE_CENTRAL, read_secrets

    read = read_secrets([MOBILE_CENTRAL])
    secret = read.secrets.get(MOBILE_CENTRAL)
    if secret is None:
        return url, (f"the keyring entry {MOBILE_CENTRAL} could not be read: {read.problem}" if read.problem
                     else f"no password in central_url nor in the keyring entry {MOBILE_CENTRAL}")
    return parsed.set(password=secret).render_as_string(hide_password=False), None


def _sync(runtime, args) -> int:
    from counter.service.composition import delivery_targets
    from counter.services.tour_sync import TourBusy, TourError, central_store, sync_tour
    from counter.store import migrate
    from counter.store.failures import admin_message

    mobile = _mobile(runtime)
    if mobile is None:
        echo("counter tour sync: give the bus's configuration (--config) with a [mobile] table "
             "(bus, central_url)", err=True)
        return EXIT_USAGE
    url, keyring_note = _central_url(mobile.central_url)
    replica = common.open_current_store(runtime)
    if replica is None:
        return EXIT_FAILED
    central = None
    try:
        try:
            central = central_store(url)
            current = migrate.current_revision(central) == migrate.HEAD
        except Exception as exc:  # noqa: BLE001 — the link is down, the password refused…
            note = f" ({keyring_note})" if keyring_note else ""
            echo(f"counter tour sync: the town's database cannot be reached: {admin_message(exc)}{note}; "
                 "nothing sent, try again when the link is back", err=True)
            return EXIT_FAILED
        if not current:
            echo("counter tour sync: the town's database schema is not the one this counter expects: "
                 "upgrade both to the same version first", err=True)
            return EXIT_FAILED
        try:
            report = sync_tour(replica, central, runtime.clock, agent=runtime.agent_login,
                               targets=delivery_targets(runtime),
                               library=runtime.rules.library if runtime.rules is not None else None)
        except TourBusy as exc:
            echo(f"counter tour sync: {exc}; try again once it is done", err=True)
            return EXIT_FAILED
        except TourError as exc:
            echo(f"counter tour sync: {exc}", err=True)
            return EXIT_FAILED
        except Exception as exc:  # noqa: BLE001 — the link dropped mid-sync: the item under way rolled back
            echo(f"counter tour sync: stopped: {admin_message(exc)}; what was sent is kept, "
                 "the next sync resumes", err=True)
            return EXIT_FAILED
    finally:
        replica.dispose()
        if central is not None:
            central.dispose()
    if report.bus != mobile.bus:
        echo(f"note: the replica was prepared for {report.bus}, the configuration names {mobile.bus}")
    _summary(report)
    return EXIT_OK


def _summary(report) -> None:
    echo(f"{report.bus}: households {report.count('household', 'created')} created, "
         f"{report.count('household', 'joined')} joined to one the town knew; "
         f"persons added {report.count('person', 'added')}; visits {report.count('visit', 'confirmed')} confirmed, "
         f"{report.count('visit', 'refused')} refused, {report.count('visit', 'blocked')} blocked; "
         f"audit entries {report.count('audit')}")
    if report.count("visit_end"):
        echo(f"visits' ends (reasons, outcome, times for the statistics): {report.count('visit_end', 'ended')} sent")
    if report.reused:
        echo(f"{report.reused} item(s) the town's database already had (an earlier sync cut short): not applied again")
    if report.deferred:
        echo(f"{report.deferred} visit(s) made on board during this sync, for a family made meanwhile: "
             "left for the next sync (run it again)")
    if not report.items and not report.deferred:
        echo("nothing new to send" + (f" ({report.skipped} item(s) sent before)" if report.skipped else ""))
    _lines([(i.key, i.outcome) for i in report.items])


# -- report -------------------------------------------------------------------------------------


def _report(runtime, args) -> int:
    from counter.services.tour_sync import recorded

    mobile = _mobile(runtime)
    if mobile is not None and args.bus:
        echo("counter tour report: --bus is for the town's configuration; a bus reports its own syncs", err=True)
        return EXIT_USAGE
    store = common.open_current_store(runtime)
    if store is None:
        return EXIT_FAILED
    try:
        items = recorded(store, central=mobile is None, bus=args.bus, limit=args.limit)
    except Exception as exc:  # noqa: BLE001
        from counter.store.failures import admin_message

        echo(f"counter tour report: database error: {admin_message(exc)}", err=True)
        return EXIT_FAILED
    finally:
        store.dispose()
    where = f"bus {mobile.bus}" if mobile is not None else (f"bus {args.bus}" if args.bus else "every bus")
    echo(f"tour report ({where}, the {len(items)} newest item(s) looked at)")
    if not _lines([(i.key, i.outcome, i.at) for i in reversed(items)]):
        echo("nothing changed or refused: every visit was confirmed as on board, no family to review")
    return EXIT_OK


def _lines(items) -> int:
    """What someone must act on: a family to tell, a visit to take up again, a duplicate to
    review. Codes, ids and states only; central's own (French) refusal message as given."""
    said = 0
    for key, outcome, *at in items:
        when = f"{at[0]:%Y-%m-%d %H:%M} UTC  " if at and at[0] is not None else ""
        status = outcome.get("status")
        if status == "confirmed":
            for registration in outcome.get("registrations", ()):
                if registration.get("changed"):
                    rank = f" (rank {registration['rank']})" if registration.get("rank") is not None else ""
                    echo(f"{when}{key}: {registration.get('kind')} registration {registration.get('central')} "
                         f"is {_state(registration.get('state'))}{rank}, not {_state(registration.get('bus_state'))} "
                         "as on board's receipt: tell the family")
                    said += 1
        elif status == "refused":
            echo(f"{when}{key}: refused by the town's database: {outcome.get('message', '')}")
            said += 1
        elif status == "blocked":
            echo(f"{when}{key}: not sent, it needs {outcome.get('by')}, which was refused: take it up at the counter")
            said += 1
        if outcome.get("reviews"):
            echo(f"{when}{key}: household {outcome.get('household')}: {len(outcome['reviews'])} person(s) to review "
                 "as likely duplicates (counter duplicates list)")
            said += 1
    return said


def _state(value) -> str:
    return str(value or "?").replace("_", " ")
