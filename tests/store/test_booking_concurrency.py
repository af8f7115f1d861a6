"""Several counter processes booking the last places: never more bookings than places."""

from __future__ import annotations

import multiprocessing

from fixtures.booking import book_in_pool, prepare, tally

PROCESSES = 4
PER_PROCESS = 15
PLACES = 20


def test_the_last_places_are_never_given_twice(database_url):
    setup = prepare(database_url, PLACES, PROCESSES * PER_PROCESS)
    chunks = [list(setup.person_ids[i::PROCESSES]) for i in range(PROCESSES)]
    with multiprocessing.get_context("spawn").Pool(PROCESSES) as pool:
        results = pool.map(book_in_pool, [(database_url, setup.school_id, chunk, f"agent{i}")
                                     for i, chunk in enumerate(chunks)])
    outcomes = [state for worker in results for state, _ in worker]
    assert not [o for o in outcomes if o.startswith(("error", "refused"))]  # no agent saw a failure
    counts = tally(database_url, setup.school_id)
    assert counts["booked"] == counts["capacity"] == PLACES  # the last place was taken once
    assert counts["registered"] == PLACES
    assert counts["waiting"] == PROCESSES * PER_PROCESS - PLACES  # everyone else waits, none lost
    assert outcomes.count("registered") == PLACES
    # One outbox message per registration, one confirmed visit per child.
    assert counts["outbox"] == counts["confirmed"] == PROCESSES * PER_PROCESS
