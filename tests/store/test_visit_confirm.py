"""The confirming transaction, on SQLite and PostgreSQL: all or nothing, once,
with its receipt; the same child never registered twice for one year; crèche
ranks built on the town's waiting list."""

from __future__ import annotations

import threading
from datetime import date
from functools import partial

import pytest
from sqlalchemy import text

from counter.clock import FixedClock
from counter.domain.receipt import PROVISIONAL_RANK_NOTE, Receipt, ReceiptLine, state_wording
from counter.domain.visits import VisitDraft, kind_of
from counter.services.receipts import ensure_saved, paths, restore_missing, stored_receipt
from counter.services.visits import VisitError, VisitService
from counter.store.engine import Store
from counter.store.models import Creche, School, SchoolCapacity
from registrations.creche.kind import CrecheRequest
from registrations.library.kind import LibraryRequest
from registrations.school.kind import SchoolRequest
from tests.factories import add_household, person

TODAY = date(2026, 11, 25)
YEAR = 2027
TABLES = ("registration", "outbox", "audit_entry")


def payloads(request, registration_id, state):
    return ("city.registration", {"registration": registration_id})


def receipt_builder(confirmation) -> Receipt:
    """What screens.visit words (counter.services.visit_summary.receipt_of), reduced to what this tests."""
    lines = []
    for outcome in confirmation.outcomes:
        kind = kind_of(outcome.request).value
        label, detail = state_wording(kind, outcome.state.value, outcome.rank)
        lines.append(ReceiptLine(kind=kind, who=f"n° {outcome.registration_id}", what="", state=outcome.state.value,
                                 state_label=label, detail=detail))
    return Receipt(code=confirmation.code, issued_on=TODAY, town="Bellerive-sur-Loire", agent="agent",
                   household="Foyer F-00001", lines=tuple(lines),
                   notes=tuple(o.note for o in confirmation.outcomes if o.note), training=True)


@pytest.fixture
def family(store):
    household = add_household(store, "rue des Sablons", 86, [
        (person("GIRAUD", "Nadia", (1984, 5, 14)), "parent"),
        (person("GIRAUD", "Léa", (2021, 3, 2)), "child"),
        (person("GIRAUD", "Thi", (2026, 6, 1)), "child"),
    ])
    with store.write() as session:
        school = School(uai="0459999A", name="École Jules-Ferry", kind="elementaire")
        creche = Creche(code="CR01", name="Les Lucioles", capacity=40)
        other = Creche(code="CR02", name="Arc-en-Ciel", capacity=30)
        session.add_all([school, creche, other])
        session.flush()
        session.add(SchoolCapacity(school_id=school.id, school_year=YEAR, level="CP", capacity=5))
        ids = school.id, creche.id, other.id
    visits = VisitService(store, FixedClock(TODAY), "agent1", host="poste-1")
    nadia, lea, thi = (m.person_id for m in visits.context(visits.start(household_id=household)).members)
    return {"household": household, "school": ids[0], "creche": ids[1], "other": ids[2],
            "nadia": nadia, "lea": lea, "thi": thi}


def school(family) -> SchoolRequest:
    return SchoolRequest(family["lea"], YEAR, "CP", family["school"], family["school"],
                         separated_parents=False)  # a lone parent: the family said


def creche(family, which: str = "creche") -> CrecheRequest:
    return CrecheRequest((family[which],), date(2027, 1, 4), 4, 32.0, person_id=family["thi"])


def visit(store, family, *requests, agent: str = "agent1",
          service=VisitService) -> tuple[VisitService, int, VisitDraft]:
    visits = service(store, FixedClock(TODAY), agent, host="poste-1")
    return visits, visits.start(household_id=family["household"]), VisitDraft(
        household_id=family["household"], requests=list(requests))


def counts(store) -> dict[str, int]:
    with store.engine.connect() as c:
        found = {t: c.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}
        found["booked"] = c.execute(text("SELECT sum(booked) FROM school_capacity")).scalar_one()
    return found


def visit_row(store, visit_id: int):
    with store.engine.connect() as c:
        return c.execute(text("SELECT state, code, receipt FROM visit WHERE id = :v"), {"v": visit_id}).one()


# -- the same child twice ---------------------------------------------------------------------


def test_the_same_child_twice_in_one_visit_is_refused_in_french_and_writes_nothing(store, family):
    visits, visit_id, draft = visit(store, family, school(family), LibraryRequest(family["nadia"], "ADULTE"),
                                    school(family))
    problems = visits.check(visits.context(visit_id), draft, {"ADULTE"})
    assert [(i, e.message) for i, e in problems] == [(2, "Cette demande figure déjà dans la visite.")]
    before = counts(store)
    with pytest.raises(VisitError, match="Cette demande figure déjà dans la visite."):
        visits.confirm(visit_id, draft, code="RCP-AAAA-0001", payloads=payloads, receipt=receipt_builder)
    assert counts(store) == before and visit_row(store, visit_id).state == "draft"


def test_the_same_child_in_a_second_visit_is_refused_and_writes_nothing(store, family):
    first, first_id, draft = visit(store, family, school(family))
    first.confirm(first_id, draft, code="RCP-AAAA-0001", payloads=payloads)
    second, second_id, again = visit(store, family, school(family), LibraryRequest(family["nadia"], "ADULTE"))
    problems = second.check(second.context(second_id), again, {"ADULTE"})
    assert problems and "déjà" in problems[0][1].message  # said at the field, before confirming
    before = counts(store)
    # Confirmed anyway (a form opened before the first visit was confirmed): confirm checks again
    # (two counters at the very same moment meet the unique index instead: test below).
    with pytest.raises(VisitError) as caught:
        second.confirm(second_id, again, code="RCP-AAAA-0002", payloads=payloads, receipt=receipt_builder)
    assert "Cet enfant est déjà inscrit à l'école pour cette année." in str(caught.value)
    assert counts(store) == before  # not even the library card of the same visit
    assert visit_row(store, second_id) == ("draft", None, None)


class CheckedTogether(VisitService):
    """The real service, with both counters held after the screen's rules passed.

    Left to the scheduler, the second counter often starts after the first one
    committed and its pre-check already says "déjà inscrit" (test above); here both
    pass it first, so only the unique index can tell them apart.
    """

    def __init__(self, *args, checked: threading.Barrier, **kwargs):
        super().__init__(*args, **kwargs)
        self.checked = checked

    def check(self, *args, **kwargs):
        problems = super().check(*args, **kwargs)
        self.checked.wait()
        return problems


def test_two_counters_registering_the_same_child_at_once_one_wins_the_other_writes_nothing(
        store, family, database_url):
    stores = [Store(database_url), Store(database_url)]
    checked = threading.Barrier(2, timeout=60)
    held = partial(CheckedTogether, checked=checked)
    prepared = [visit(s, family, school(family), creche(family) if i == 0 else creche(family, "other"),
                      agent=f"guichet{i}", service=held) for i, s in enumerate(stores)]
    results: list[object] = [None, None]

    def confirm(i: int) -> None:
        visits, visit_id, draft = prepared[i]
        try:
            results[i] = visits.confirm(visit_id, draft, code=f"RCP-AAAA-000{i}", payloads=payloads,
                                        receipt=receipt_builder)
        except VisitError as exc:
            results[i] = exc

    try:
        threads = [threading.Thread(target=confirm, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        for s in stores:
            s.dispose()
    assert not checked.broken  # both counters did pass the rules before writing
    errors = [r for r in results if isinstance(r, VisitError)]
    assert len(errors) == 1 and "Un autre guichet vient d'inscrire cet enfant" in str(errors[0])
    winner = 1 - results.index(errors[0])
    loser_visit = prepared[1 - winner][1]
    with store.engine.connect() as c:
        registrations = c.execute(text("SELECT visit_id, kind FROM registration ORDER BY id")).all()
        outbox = c.execute(text("SELECT count(*) FROM outbox")).scalar_one()
        audited = c.execute(text("SELECT count(*) FROM audit_entry WHERE agent = :a AND action != 'visit.start'"),
                            {"a": f"guichet{1 - winner}"}).scalar_one()
    assert [r.visit_id for r in registrations] == [prepared[winner][1]] * 2  # the winner's school and crèche
    assert outbox == 2 and audited == 0 and counts(store)["booked"] == 1
    assert visit_row(store, loser_visit) == ("draft", None, None)


class HeldAfterCheck(VisitService):
    """The real service, every counter held once the rules passed, then let go together."""

    def __init__(self, *args, ready: threading.Barrier, **kwargs):
        super().__init__(*args, **kwargs)
        self.ready = ready

    def check(self, *args, **kwargs):
        problems = super().check(*args, **kwargs)
        self.ready.wait()
        return problems


COUNTERS = 8


@pytest.mark.parametrize("kinds", ["library", "school+creche+library"])
def test_counters_confirming_the_same_visit_at_once_one_writes_the_others_get_the_same_receipt(
        store, family, database_url, kinds):
    """Issue 11, point 6: on PostgreSQL 7 of 8 got DeadlockDetected (the visit row was
    only key-share locked by each registration's foreign key, then updated — its
    unique code — by the winner), or « Un autre guichet… » from the unique index."""
    requests = [LibraryRequest(family["nadia"], "ADULTE")]
    if kinds != "library":
        requests = [school(family), creche(family), *requests]
    _, visit_id, draft = visit(store, family, *requests)
    ready = threading.Barrier(COUNTERS, timeout=60)
    stores = [Store(database_url) for _ in range(COUNTERS)]
    services = [HeldAfterCheck(s, FixedClock(TODAY), f"guichet{i}", host=f"poste-{i}", ready=ready)
                for i, s in enumerate(stores)]
    results: list[object] = [None] * COUNTERS

    def confirm(i: int) -> None:
        try:
            results[i] = services[i].confirm(visit_id, draft, code=f"RCP-AAAA-{i:04d}", payloads=payloads,
                                             receipt=receipt_builder)
        except Exception as exc:  # noqa: BLE001 — what the screen would have been handed
            results[i] = exc

    try:
        threads = [threading.Thread(target=confirm, args=(i,)) for i in range(COUNTERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    finally:
        for s in stores:
            s.dispose()
    assert not ready.broken  # every counter passed the rules before writing
    assert [f"{type(r).__name__}: {str(r)[:60]}" for r in results if not hasattr(r, "already")] == []
    winners = [r for r in results if not r.already]
    assert len(winners) == 1
    # Every loser is handed the winner's confirmation: its code, its registrations, its receipt.
    for loser in results:
        assert loser.code == winners[0].code and loser.receipt == winners[0].receipt
        assert [o.registration_id for o in loser.outcomes] == [o.registration_id for o in winners[0].outcomes]
    with store.engine.connect() as c:
        registrations = c.execute(text("SELECT visit_id FROM registration")).scalars().all()
        confirmed = c.execute(text("SELECT count(*) FROM audit_entry WHERE action = 'visit.confirm'")).scalar_one()
    assert registrations == [visit_id] * len(requests) and confirmed == 1
    assert counts(store)["outbox"] == len(requests)
    assert counts(store)["booked"] == (kinds != "library")
    assert visit_row(store, visit_id).code == winners[0].code


class OvertakenBeforeCheck(VisitService):
    """The real service; another counter confirms the same visit between this one's
    reading of the visit (a draft) and its check of the rules."""

    def __init__(self, *args, other, **kwargs):
        super().__init__(*args, **kwargs)
        self.other = other

    def context(self, visit_id):
        if self.other is not None:
            self.other()
            self.other = None
        return super().context(visit_id)


def test_a_counter_overtaken_on_the_same_visit_gets_its_receipt_not_already_registered(
        store, family, database_url):
    first, visit_id, draft = visit(store, family, school(family), LibraryRequest(family["nadia"], "ADULTE"))
    won = []

    def first_confirms() -> None:
        won.append(first.confirm(visit_id, draft, code="RCP-AAAA-0001", payloads=payloads, receipt=receipt_builder))

    late = OvertakenBeforeCheck(Store(database_url), FixedClock(TODAY), "guichet2", host="poste-2",
                                other=first_confirms)
    try:
        replayed = late.confirm(visit_id, draft, code="RCP-AAAA-0002", payloads=payloads, receipt=receipt_builder)
    finally:
        late.store.dispose()
    assert replayed.already and replayed.code == "RCP-AAAA-0001" and replayed.receipt == won[0].receipt
    assert counts(store)["registration"] == 2


# -- all or nothing, once -------------------------------------------------------------------------


@pytest.mark.parametrize("fails", ["payload", "receipt"])
def test_a_confirmation_failing_midway_writes_nothing_at_all(store, family, fails):
    visits, visit_id, draft = visit(store, family, school(family), creche(family),
                                    LibraryRequest(family["nadia"], "ADULTE"))
    before = counts(store)
    seen = []

    def failing_payloads(request, registration_id, state):
        seen.append(registration_id)
        if fails == "payload" and len(seen) == 3:  # the school place and the rank are taken by then
            raise RuntimeError("disk full")
        return payloads(request, registration_id, state)

    def failing_receipt(confirmation):
        raise RuntimeError("font file unreadable")

    with pytest.raises(RuntimeError):
        visits.confirm(visit_id, draft, code="RCP-AAAA-0001", payloads=failing_payloads,
                       receipt=failing_receipt if fails == "receipt" else receipt_builder)
    assert len(seen) == 3  # it did get that far
    assert counts(store) == before  # registrations, outbox, audit, places
    assert visit_row(store, visit_id) == ("draft", None, None)
    # Nothing of it stays behind: the same visit confirms afterwards, first on the list.
    done = visits.confirm(visit_id, draft, code="RCP-AAAA-0002", payloads=payloads, receipt=receipt_builder)
    assert done.outcomes[1].rank == 1 and counts(store)["booked"] == 1


def test_replaying_a_confirmation_returns_the_first_and_books_nothing_twice(store, family, tmp_path):
    visits, visit_id, draft = visit(store, family, school(family), creche(family))
    first = visits.confirm(visit_id, draft, code="RCP-AAAA-0001", payloads=payloads, receipt=receipt_builder)
    after_first = counts(store)
    again = visits.confirm(visit_id, draft, code="RCP-ZZZZ-9999", payloads=payloads, receipt=receipt_builder)
    assert again.already and not first.already
    assert again.code == first.code == "RCP-AAAA-0001"
    assert [(o.registration_id, o.state, o.rank) for o in again.outcomes] == \
        [(o.registration_id, o.state, o.rank) for o in first.outcomes]
    assert again.receipt == first.receipt  # the receipt handed over the first time
    assert counts(store) == after_first


# -- the receipt ------------------------------------------------------------------------------------


def test_the_receipt_is_stored_by_the_confirmation_and_its_lost_files_come_back_identical(store, family, tmp_path):
    visits, visit_id, draft = visit(store, family, school(family), creche(family))
    done = visits.confirm(visit_id, draft, code="RCP-AAAA-0001", payloads=payloads, receipt=receipt_builder)
    assert stored_receipt(store, visit_id) == done.receipt
    # Killed right after the commit: no files yet. The next start writes them.
    where = paths(done.receipt, tmp_path)
    assert not where.text_path.exists() and not where.pdf_path.exists()
    report = restore_missing(store, tmp_path)
    assert (report.checked, report.rewritten, report.failed) == (1, 1, 0)
    text_bytes, pdf_bytes = where.text_path.read_bytes(), where.pdf_path.read_bytes()
    assert b"RCP-AAAA-0001" in text_bytes and pdf_bytes.startswith(b"%PDF")
    # A file lost later (the PDF) is written again byte for byte; the other is left alone.
    where.pdf_path.unlink()
    assert restore_missing(store, tmp_path).rewritten == 1
    assert where.pdf_path.read_bytes() == pdf_bytes and where.text_path.read_bytes() == text_bytes
    assert restore_missing(store, tmp_path).rewritten == 0  # nothing missing: nothing written
    assert ensure_saved(stored_receipt(store, visit_id), tmp_path) == where


def test_a_visit_without_a_stored_receipt_is_left_alone(store, family, tmp_path):
    visits, visit_id, draft = visit(store, family, school(family))
    visits.confirm(visit_id, draft, code="RCP-AAAA-0001", payloads=payloads)  # confirmed before 0003
    assert stored_receipt(store, visit_id) is None
    assert restore_missing(store, tmp_path).checked == 0


# -- crèche ranks ------------------------------------------------------------------------------------


def test_the_rank_counts_the_towns_list_and_this_counters_undelivered_applications(store, family):
    with store.write_connection() as c:  # one town-wide list of 423, as GET /v1/capacities (1.2) says
        c.execute(text("UPDATE creche SET waiting_list = 'town', waiting_list_length = 423"))
    visits, visit_id, draft = visit(store, family, creche(family, "other"))
    first = visits.confirm(visit_id, draft, code="RCP-AAAA-0001", payloads=payloads, receipt=receipt_builder)
    assert first.outcomes[0].rank == 424 and first.outcomes[0].note == PROVISIONAL_RANK_NOTE
    assert "rang provisoire 424" in first.receipt.lines[0].detail
    # Another crèche of the same list: after the town's 423 and the application not sent yet.
    newborn = add_household(store, "rue des Lilas", 3, [(person("MARTIN", "Zoé", (2026, 8, 1)), "child")])
    others = VisitService(store, FixedClock(TODAY), "agent2", host="poste-2")
    other_visit = others.start(household_id=newborn)
    zoe = others.context(other_visit).members[0].person_id
    second = others.confirm(other_visit, VisitDraft(household_id=newborn, requests=[
        CrecheRequest((family["creche"],), date(2027, 1, 4), 4, 32.0, person_id=zoe)]),
        code="RCP-AAAA-0002", payloads=payloads)
    assert second.outcomes[0].rank == 425
    # Once the town has the first one, it is counted in the town's list, not twice.
    with store.write_connection() as c:
        c.execute(text("UPDATE registration SET delivery = 'delivered', town_rank = 424 WHERE id = :r"),
                  {"r": first.outcomes[0].registration_id})
        c.execute(text("UPDATE creche SET waiting_list_length = 424"))
    third_family = add_household(store, "rue des Iris", 5, [(person("DURAND", "Léo", (2026, 7, 1), sex="M"), "child")])
    third = VisitService(store, FixedClock(TODAY), "agent3", host="poste-3")
    third_visit = third.start(household_id=third_family)
    leo = third.context(third_visit).members[0].person_id
    done = third.confirm(third_visit, VisitDraft(household_id=third_family, requests=[
        CrecheRequest((family["other"],), date(2027, 1, 4), 4, 32.0, person_id=leo)]),
        code="RCP-AAAA-0003", payloads=payloads)
    assert done.outcomes[0].rank == 426  # 424 at the town + Zoé's, not yet sent, + 1


def test_without_the_towns_lists_each_creche_counts_its_own_applications(store, family):
    visits, visit_id, draft = visit(store, family, creche(family))
    assert visits.confirm(visit_id, draft, code="RCP-AAAA-0001", payloads=payloads).outcomes[0].rank == 1
    newborn = add_household(store, "rue des Lilas", 3, [(person("MARTIN", "Zoé", (2026, 8, 1)), "child")])
    others = VisitService(store, FixedClock(TODAY), "agent2", host="poste-2")
    other_visit = others.start(household_id=newborn)
    zoe = others.context(other_visit).members[0].person_id
    done = others.confirm(other_visit, VisitDraft(household_id=newborn, requests=[
        CrecheRequest((family["other"],), date(2027, 1, 4), 4, 32.0, person_id=zoe)]),
        code="RCP-AAAA-0002", payloads=payloads)
    assert done.outcomes[0].rank == 1  # another crèche, never synchronised: a list of its own
