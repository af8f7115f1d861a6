"""The statistics' kept days (migration 0011, counter.services.stats_days) on SQLite and
PostgreSQL: figures summed from kept days are the figures read afresh; any write to a
day over — a visit ended late (a tour's sync), reasons corrected, a visit deleted, an
agency answer — is counted at the next opening; a tally read while someone wrote is
not kept; a draft typed fires nothing; days cut in another time zone are not used."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import delete, insert, select, text, update

from counter.domain.statistics import StatsQuery
from counter.services import stats_days
from counter.services.audit import Actor
from counter.services.statistics import VISIT_DAYS, compute, forget_remembered
from counter.store.models import AgencyCall, StatsDay, Visit
from fixtures.activity import AGENTS, MONTH, load
from tests.activity import utc  # noqa: F401 — fixture

NOVEMBER = StatsQuery(date(2026, 11, 1), date(2026, 11, 30))
SUPERVISOR = Actor("chef", "supervisor")
TODAY = date(2026, 11, 25)  # the 1st to the 24th are over: kept
EVERYTHING_TODAY = date(2026, 11, 1)  # no day over: every day read afresh

pytestmark = pytest.mark.usefixtures("utc")


@pytest.fixture
def month(store):
    return load(store, MONTH)


def kept(store, kind: str = stats_days.VISITS) -> set[date]:
    with store.engine.connect() as connection:
        return set(connection.execute(select(StatsDay.day).where(StatsDay.kind == kind)).scalars())


def generation(store, kind: str) -> int:
    with store.engine.connect() as connection:
        return stats_days.generation_now(connection, kind)


def afresh(store, query: StatsQuery = NOVEMBER, actor: Actor = SUPERVISOR):
    """The figures with every day read from the visits and answers themselves."""
    forget_remembered()
    return compute(store, actor, query, today=EVERYTHING_TODAY)


def ended_visit(end: datetime, minutes: int = 12, **fields) -> dict:
    begun = end - timedelta(minutes=minutes)
    row = {"agent_login": AGENTS[0], "state": "confirmed", "draft": "{}", "created_at": begun, "updated_at": end,
           "site": "mairie", "arrived_at": begun - timedelta(minutes=5), "ended_at": end, "reasons": "qf",
           "outcome": "done"}
    return {**row, **fields}


def test_figures_from_kept_days_are_the_figures_read_afresh(store, month):
    first = compute(store, SUPERVISOR, NOVEMBER, today=TODAY)
    days_over = {date(2026, 11, d) for d in range(1, 25)}
    assert kept(store, stats_days.VISITS) == kept(store, stats_days.AGENCY) == days_over
    remembered = compute(store, SUPERVISOR, NOVEMBER, today=TODAY)
    forget_remembered()
    summed = compute(store, SUPERVISOR, NOVEMBER, today=TODAY)  # from the kept rows
    fresh = afresh(store)
    assert first == remembered == summed == fresh
    assert fresh.visits == month["visits"]
    for query in (replace(NOVEMBER, site="annexe-nord"), replace(NOVEMBER, agent=AGENTS[2]),
                  replace(NOVEMBER, site="mairie", agent=AGENTS[1])):
        forget_remembered()
        filtered = compute(store, SUPERVISOR, query, today=TODAY)
        assert filtered == afresh(store, query)
        assert (filtered.sites, filtered.agents) == (fresh.sites, fresh.agents)  # the filters' lists: all
    own = Actor(AGENTS[3], "agent")
    forget_remembered()
    assert compute(store, own, NOVEMBER, today=TODAY) == afresh(store, actor=own)


def test_a_write_to_a_day_over_is_counted_at_the_next_opening(store, month):
    before = compute(store, SUPERVISOR, NOVEMBER, today=TODAY)
    generations = generation(store, stats_days.VISITS), generation(store, stats_days.AGENCY)
    late = ended_visit(datetime(2026, 11, 10, 15, 0, tzinfo=UTC), reasons="caf")  # a tour's sync, weeks later
    with store.engine.begin() as connection:
        connection.execute(insert(Visit.__table__), [late])
        fifth = connection.execute(select(Visit.id).where(Visit.ended_at >= datetime(2026, 11, 5, tzinfo=UTC),
                                                          Visit.ended_at < datetime(2026, 11, 6, tzinfo=UTC))
                                   .limit(2)).scalars().all()
        connection.execute(update(Visit).where(Visit.id == fifth[0]).values(reasons="identite", outcome="come_back"))
        connection.execute(delete(Visit).where(Visit.id == fifth[1]))
        connection.execute(insert(AgencyCall.__table__), [{
            "at": datetime(2026, 11, 12, 9, 30, tzinfo=UTC), "site": "mairie", "source": "koha", "section": "carte",
            "status": "error", "elapsed_ms": 30000.0, "cached": False}])
    assert date(2026, 11, 10) not in kept(store) and date(2026, 11, 5) not in kept(store)
    assert date(2026, 11, 12) not in kept(store, stats_days.AGENCY)
    assert generation(store, stats_days.VISITS) == generations[0] + 3
    assert generation(store, stats_days.AGENCY) == generations[1] + 1
    after = compute(store, SUPERVISOR, NOVEMBER, today=TODAY)
    assert after == afresh(store)
    assert after.visits == before.visits  # one more, one fewer
    caf = {c.key: c.count for c in after.reasons}["caf"]
    assert caf == {c.key: c.count for c in before.reasons}["caf"] + 1
    koha = {a.source: a for a in after.agencies}["koha"]
    assert koha.calls == {a.source: a for a in before.agencies}["koha"].calls + 1
    assert kept(store) == {date(2026, 11, d) for d in range(1, 25)}  # kept again


def test_a_tally_read_while_someone_writes_is_not_kept(store, month):
    from functools import partial

    from counter.services.statistics import _read_visits

    written = []

    def read_while_an_agent_ends_a_visit(first: date, last: date):
        tallies = _read_visits(store, first, last)
        if not written:  # after the days over are read, before their tallies are kept
            with store.engine.begin() as connection:
                connection.execute(insert(Visit.__table__), [ended_visit(datetime(2026, 11, 3, 10, 0, tzinfo=UTC))])
            written.append(first)
        return tallies

    stale = VISIT_DAYS.sum(store, NOVEMBER.since, NOVEMBER.until, TODAY, read=read_while_an_agent_ends_a_visit,
                           keep=lambda _: True, filters=("test",))
    assert written == [NOVEMBER.since]
    assert kept(store) == set()  # what was read misses the visit: not kept
    fresh = VISIT_DAYS.sum(store, NOVEMBER.since, NOVEMBER.until, TODAY, read=partial(_read_visits, store),
                           keep=lambda _: True, filters=("test",))
    assert fresh.count == stale.count + 1 == month["visits"] + 1
    assert len(kept(store)) == 24


def test_typing_a_draft_leaves_the_kept_days_alone(store, month):
    compute(store, SUPERVISOR, NOVEMBER, today=TODAY)
    days, visits_generation = kept(store), generation(store, stats_days.VISITS)
    with store.engine.begin() as connection:
        connection.execute(update(Visit).where(Visit.ended_at < datetime(2026, 11, 20, tzinfo=UTC))
                           .values(draft='{"note": 1}', updated_at=datetime(2026, 11, 30, tzinfo=UTC)))
        connection.execute(insert(Visit.__table__), [{**ended_visit(datetime(2026, 11, 30, tzinfo=UTC)),
                                                     "ended_at": None, "state": "draft"}])
    assert kept(store) == days and generation(store, stats_days.VISITS) == visits_generation


def test_days_cut_in_another_time_zone_are_not_used(store, month, monkeypatch):
    compute(store, SUPERVISOR, NOVEMBER, today=TODAY)  # kept in UTC
    monkeypatch.setenv("TZ", "Pacific/Auckland")  # +13:00 in November: a day's visits move
    time.tzset()
    forget_remembered()
    there = compute(store, SUPERVISOR, NOVEMBER, today=TODAY)
    assert there == afresh(store)
    with store.engine.connect() as connection:
        zones = set(connection.execute(text("SELECT DISTINCT zone FROM stats_day")).scalars())
    assert len(zones) == 2


def test_the_service_keeps_the_last_year_s_days_once(store, month):
    from counter.services.statistics import keep_days

    december = date(2026, 12, 1)
    assert keep_days(store, december) == (0, 2 * 366)  # every day, empty ones too, visits and agencies
    assert keep_days(store, december) == (2 * 366, 0)
    forget_remembered()
    summed = compute(store, SUPERVISOR, NOVEMBER, today=december)
    assert summed == afresh(store) and summed.visits == month["visits"]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # SQLite's keeper holds writers off
def test_a_write_between_keeping_and_its_commit_leaves_nothing_stale(store, month):
    """PostgreSQL's writers do not wait for a keeper (the generation is a sequence): a
    visit ended while the kept days are being committed — its trigger's delete cannot
    see them yet — is caught by the check after the commit, which deletes them."""
    from sqlalchemy import event

    written = []

    def a_visit_ends_now(connection):
        if written or not connection.get_execution_options().get("counter_write"):
            return
        with store.engine.begin() as other:
            other.execute(insert(Visit.__table__), [ended_visit(datetime(2026, 11, 4, 16, 0, tzinfo=UTC))])
        written.append(True)

    event.listen(store.engine, "commit", a_visit_ends_now)
    try:
        during = compute(store, SUPERVISOR, NOVEMBER, today=TODAY)
    finally:
        event.remove(store.engine, "commit", a_visit_ends_now)
    assert written and during.visits == month["visits"]  # read before the visit ended
    assert date(2026, 11, 4) not in kept(store)
    assert compute(store, SUPERVISOR, NOVEMBER, today=TODAY).visits == month["visits"] + 1


def test_a_training_scenario_s_activity_is_loaded_once_and_makes_no_registration(store):
    from fixtures.training import load_training_activity

    day = date(2026, 11, 27)
    assert load_training_activity(store, day) is True
    assert load_training_activity(store, day) is False  # a second start of the scenario
    stats = compute(store, SUPERVISOR, NOVEMBER, today=day)
    with store.engine.connect() as connection:
        ended = connection.execute(text("SELECT count(*) FROM visit WHERE ended_at IS NOT NULL")).scalar()
        registrations = connection.execute(text("SELECT count(*) FROM registration")).scalar()
    assert 2000 < stats.visits < ended  # the 30 days before the 27th: late October's are not November's
    assert registrations == 0 and stats.outbox_pending == 0
