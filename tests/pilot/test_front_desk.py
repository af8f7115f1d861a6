"""The front desk by keyboard at 80x24: a ticket issued in a few keys, called, the
visit opened on it by F4 on the family, ended with its reasons in one or two keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text

from screens.front_desk import EndVisit, IssueTicket, QueueScreen
from screens.household import HouseholdScreen
from screens.search import SearchScreen
from screens.statistics import StatisticsScreen, TypedPeriod
from screens.visit import VisitScreen
from tests.journeys import JOURNEYS, app_for
from tests.pilot.helpers import screen_lines, started, status_text, table_rows, type_text, until
from tests.pilot.test_keys_at_start import burst

HOUSEHOLD = 1403  # the DELAUNAY household of the fictional town


def rows(store, sql: str, **params):
    with store.engine.connect() as c:
        return c.execute(text(sql), params).all()


async def test_ticket_call_visit_reasons(town_store, make_app):
    app = make_app(town_store, backends="training")
    async with started(app, (80, 24)) as pilot:
        await pilot.press("f12")
        await until(pilot, lambda: isinstance(app.screen, QueueScreen) and app.screen.view is not None, "queue")
        # Ticket 1: CAF and CPAM, an interpreter, an appointment; ticket 2: registrations.
        await pilot.press("t")
        await until(pilot, lambda: isinstance(app.screen, IssueTicket), "ticket modal")
        await pilot.press("3", "4", "b", "r", "enter")
        await until(pilot, lambda: "Ticket 1 émis" in status_text(app), "ticket 1")
        await pilot.press("t")
        await until(pilot, lambda: isinstance(app.screen, IssueTicket), "ticket modal")
        await pilot.press("enter")  # no reason: refused in French, nothing issued
        assert "au moins un motif" in str(app.screen.query_one("#error").render())
        await pilot.press("1", "enter")
        await until(pilot, lambda: "Ticket 2 émis" in status_text(app), "ticket 2")
        await until(pilot, lambda: len(app.screen.view.tickets) == 2, "the list")
        shown = table_rows(app, "#tickets")
        assert [r[0] for r in shown] == ["1", "2"]
        assert shown[0][2:5] == ["CAF, CPAM / C2S", "Interprète", "oui"]
        # The next ticket is called: the visit opens on it.
        await pilot.press("a")
        await until(pilot, lambda: app.screen.view.mine is not None, "the agent's ticket")
        assert app.screen.view.mine.number == 1
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, SearchScreen), "search")
        await type_text(pilot, "delaunay jade 2024")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, HouseholdScreen) and app.screen.view is not None, "household")
        await pilot.press("f4")
        await until(pilot, lambda: isinstance(app.screen, VisitScreen) and app.screen.context is not None, "visit")
        visit_id = app.screen.visit_id
        (ticket_visit,) = rows(town_store, "SELECT visit_id FROM ticket WHERE number = 1")
        assert ticket_visit[0] == visit_id  # the visit opened on the ticket
        # Information only: « t », the ticket's reasons proposed, « p » (papers to bring), Enter.
        await pilot.press("t")
        await until(pilot, lambda: isinstance(app.screen, EndVisit), "end modal")
        assert app.screen.chosen == ["caf", "cpam"]
        await pilot.press("p", "enter")
        await until(pilot, lambda: isinstance(app.screen, HouseholdScreen), "back at the household")
        # The statistics count it: one visit, its ticket's wait, its reasons and outcome.
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, SearchScreen), "search")
        await pilot.press("ctrl+t")
        await until(pilot, lambda: isinstance(app.screen, StatisticsScreen) and app.screen._stats is not None,
                    "the statistics")
        # The app's date is fixed (as a training scenario's), its clock's time is not: the
        # visit ended today, as the wall clock says — typed as the period.
        opened = app.screen._stats
        today = datetime.now().strftime("%d/%m/%Y")
        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, TypedPeriod), "the period's form")
        await pilot.press(*today, "tab", *today, "enter")
        await until(pilot, lambda: isinstance(app.screen, StatisticsScreen) and app.screen._stats is not opened
                    and not app.screen.workers, "today's figures")
        stats = app.screen._stats
        assert stats.visits == 1 and stats.waiting_all.count == 1 and stats.handling_all.count == 1
        assert {c.key: c.count for c in stats.reasons if c.count} == {"caf": 1, "cpam": 1}
        assert {c.key: c.count for c in stats.outcomes if c.count} == {"come_back": 1}
        summary = "\n".join(screen_lines(app))
        assert "Visites : 1" in summary and "Attente (1 ticket)" in summary
    (visit,) = rows(town_store, "SELECT state, household_id, site, reasons, outcome, outcome_detail, arrived_at, "
                                "ended_at FROM visit WHERE id = :id", id=visit_id)
    assert visit[:6] == ("ended", HOUSEHOLD, "mairie", "caf,cpam", "come_back", None)
    assert visit.arrived_at is not None and visit.ended_at is not None
    assert rows(town_store, "SELECT number, state FROM ticket ORDER BY number") == [(1, "served"), (2, "waiting")]
    actions = [r[0] for r in rows(town_store, "SELECT action FROM audit_entry WHERE action IN "
                                              "('ticket.issue', 'ticket.call', 'visit.end') ORDER BY id")]
    assert actions == ["ticket.issue", "ticket.issue", "ticket.call", "visit.end"]


async def end_of_visit_from_the_household(app, pilot) -> None:
    """Jade DELAUNAY's household, then « t »: the end of a visit for information."""
    await type_text(pilot, "delaunay jade 2024")
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, HouseholdScreen) and app.screen.view is not None, "household")
    await pilot.press("t")
    await until(pilot, lambda: isinstance(app.screen, EndVisit), "end modal")


async def test_a_visit_for_information_from_the_household(town_store, make_app):
    app = make_app(town_store)
    async with started(app, (80, 24)) as pilot:
        await end_of_visit_from_the_household(app, pilot)
        await pilot.press("enter")  # no reason ticked: refused, nothing written
        assert "au moins un motif" in str(app.screen.query_one("#error").render())
        await pilot.press("6", "o", "o", "enter")  # identity papers; sent to the CPAM (second redirection)
        await until(pilot, lambda: isinstance(app.screen, HouseholdScreen) and "Visite terminée" in status_text(app),
                    "recorded")
    assert rows(town_store, "SELECT state, household_id, reasons, outcome, outcome_detail FROM visit "
                            "WHERE ended_at IS NOT NULL") == [("ended", HOUSEHOLD, "identite", "redirected", "cpam")]


async def test_keys_pressed_as_the_ticket_modal_opens_issue_the_ticket(town_store, make_app):
    """Reported: an Enter lost in the just-opened ticket modal. Keys pressed without
    any pause (the pilot's own pace), then as a terminal delivers a fast typist's
    burst (over SSH): all at once, « t » included — each ticket is issued with the
    reasons typed before its Enter."""
    app = make_app(town_store)

    def issued(number: int) -> bool:
        return isinstance(app.screen, QueueScreen) and f"Ticket {number} émis" in status_text(app)

    async with started(app, (80, 24)) as pilot:
        await pilot.press("f12")
        await until(pilot, lambda: isinstance(app.screen, QueueScreen) and app.screen.view is not None, "queue")
        await pilot.press("t", "3", "enter")
        await until(pilot, lambda: issued(1), "ticket 1")
        burst(app, ["t", "3", "4", "enter"])
        await until(pilot, lambda: issued(2), "ticket 2 (typed in a burst)")
        await pilot.press("t")
        await until(pilot, lambda: isinstance(app.screen, IssueTicket), "ticket modal")
        burst(app, ["1", "b", "enter"])  # the modal open: its keys in a burst
        await until(pilot, lambda: issued(3), "ticket 3 (typed in a burst)")
    assert rows(town_store, "SELECT number, reasons, need, state FROM ticket ORDER BY number") == [
        (1, "caf", None, "waiting"), (2, "caf,cpam", None, "waiting"), (3, "inscriptions", "interprete", "waiting")]


async def test_keys_typed_in_a_burst_in_the_end_of_visit_modal_are_applied_before_its_enter(town_store, make_app):
    app = make_app(town_store)
    async with started(app, (80, 24)) as pilot:
        await end_of_visit_from_the_household(app, pilot)
        burst(app, ["6", "o", "enter"])  # identity papers, sent to the CAF (first redirection), recorded
        await until(pilot, lambda: isinstance(app.screen, HouseholdScreen) and "Visite terminée" in status_text(app),
                    "recorded")
    assert rows(town_store, "SELECT reasons, outcome, outcome_detail FROM visit WHERE ended_at IS NOT NULL") == [
        ("identite", "redirected", "caf")]


async def test_the_queue_screen_fits_80_columns(town_store, make_app):
    """The header says the whole title and the lines above the list are not cut or
    broken mid-sentence at 80x24, the agent serving a ticket."""
    journey = JOURNEYS["queue"]
    app = app_for(journey, make_app, town_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await journey.build(town_store)(pilot)
        lines = screen_lines(app)
    assert lines[0].strip().endswith("Guichet unique · Bellerive-sur-Loire — File d'attente"), lines[0]
    assert lines[2:5] == [
        " mairie · 25/11/2026 · 1 en attente · attente la plus longue : 0 min".ljust(80),
        " Votre ticket : N° 1 (CAF, CPAM / C2S)".ljust(80),
        " Échap puis F4 sur la famille, ou « f » : terminer sans inscription.".ljust(80)]
    assert not any("…" in line for line in lines[:5])
