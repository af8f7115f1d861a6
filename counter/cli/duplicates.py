"""`counter duplicates`: the supervisors' review of likely duplicates (list, merge, dismiss).

Administrators' command: English output. Through the counter service unless a
configuration file is given (as `outbox`, `audit`…): ``remote(client, args)``
and ``run(runtime, args)`` print the same. Names are shown to the supervisor
(reviewing them is the job) and never logged.
"""

from __future__ import annotations

import argparse

from counter.cli import common
from counter.cli.common import message_id
from counter.domain.duplicates import REASON_ENGLISH, words
from counter.domain.people import household_label
from counter.domain.text import shown
from counter.terminal import echo

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
NAME_LIMIT = 80  # characters of a name on the listing


def register(subparsers) -> argparse.ArgumentParser:
    duplicates = subparsers.add_parser("duplicates", help="likely duplicate persons to review (supervisors)")
    actions = duplicates.add_subparsers(dest="duplicates_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="the pairs to review (ids, reasons, source, date, names)")
    listing.add_argument("--state", choices=("pending", "merged", "dismissed", "all"), default="pending",
                         help="pairs in this state (default: pending)")
    merge = actions.add_parser("merge", help="make DROP the same person as KEEP (person ids, from the list)")
    merge.add_argument("keep", type=message_id, metavar="KEEP", help="the person id that stays")
    merge.add_argument("drop", type=message_id, metavar="DROP", help="the person id merged into KEEP, then removed")
    dismiss = actions.add_parser("dismiss", help="not the same person: the pair is never proposed again")
    dismiss.add_argument("review", type=message_id, metavar="ID", help="the review id, from the list")
    return duplicates


def run(runtime, args) -> int:
    """Direct on the database (a configuration file given: the service's account)."""
    store = common.open_current_store(runtime)
    if store is None:
        return EXIT_FAILED
    from counter.services import audit
    from counter.services.duplicate_review import DuplicateError, ReviewService

    try:
        service = ReviewService(store, audit.actor_for(store, runtime.agent_login, runtime.training))
        return _act(service.pairs, service.merge, service.dismiss, args)
    except audit.Forbidden as exc:
        echo(f"counter: {exc.english()}", err=True)
        return EXIT_USAGE
    except DuplicateError as exc:
        echo(f"counter: {exc.english()}", err=True)
        return EXIT_FAILED
    finally:
        store.dispose()


def remote(client, args) -> int:
    """The same through the counter service (refusals are raised as ``Refused``)."""
    return _act(client.duplicates_list, client.duplicates_merge, client.duplicates_dismiss, args)


def _act(pairs, merge, dismiss, args) -> int:
    if args.duplicates_command == "list":
        state = None if args.state == "all" else args.state
        return print_pairs(pairs(state), args.state)
    if args.duplicates_command == "merge":
        return print_merged(merge(args.keep, args.drop))
    dismiss(args.review)
    echo(f"review {args.review} dismissed: the pair will not be proposed again")
    return EXIT_OK


def _person(summary) -> str:
    given = " ".join(summary.given_names)
    name = shown(f"{summary.display_name} {given}".strip(), NAME_LIMIT)
    where = "no household"
    if summary.household_id is not None:
        where = f"household {household_label(summary.household_id)}"
        if summary.address is not None:
            where += f", {shown(summary.address.short(), NAME_LIMIT)}"
    return f"person {summary.id}: {name}, born {summary.birth.display()}, {where}"


def print_pairs(pairs, state: str) -> int:
    if not pairs:
        echo("no duplicates to review" if state == "pending" else f"no {state} pairs")
        return EXIT_OK
    for pair in pairs:
        echo(f"review {pair.id}  {pair.state}  found {pair.created_at:%Y-%m-%d %H:%M} UTC by {pair.source}: "
             f"{words(pair.reasons, REASON_ENGLISH) or 'merged by hand'}")
        echo(f"  newer      {_person(pair.person)}")
        echo(f"  candidate  {_person(pair.candidate)}")
        if pair.state == "pending":
            echo(f"  counter duplicates merge {pair.candidate.id} {pair.person.id}"
                 f"  |  counter duplicates dismiss {pair.id}")
    echo(f"{len(pairs)} pair{'s' if len(pairs) != 1 else ''}")
    return EXIT_OK


def print_merged(report) -> int:
    echo(f"person {report.drop} merged into person {report.keep} and removed: moved "
         f"{report.memberships} household membership(s), {report.visits} visit(s), "
         f"{report.registrations} registration(s) (their outbox messages follow them), "
         f"{report.reviews} other pending review(s)")
    if report.filled:
        echo(f"taken from person {report.drop} (person {report.keep} had none): {', '.join(report.filled)}")
    if report.source_id == "moved":
        echo(f"the family system's id of person {report.drop} is now person {report.keep}'s")
    elif report.source_id == "both":
        echo(f"both persons have an id in the family system: person {report.keep} keeps its own, person "
             f"{report.drop} (removed) keeps the other; merge the two records in the family system too")
    return EXIT_OK
