"""Staying in step with the town's family system: one pass of its change feed
(``GET /v1/changes``, contract 1.3) applied to the counter's households.

- **One pass at a time**, even with two services on one PostgreSQL: the pass
  holds the ``sync_state`` row's lease (``holder``, ``lease_until``), taken by a
  conditional UPDATE (a free or expired lease only), renewed with every page. A
  crashed holder's lease runs out (``LEASE``) and the next pass takes over.
- **Resumable**: each page is one write transaction that applies its changes
  and stores the page's ``next`` cursor — only if this pass still holds the
  lease and the stored cursor is still the one the page was asked from (a
  fencing check). An interrupted pass resumes from the last page committed.
- **Never half a family**: each family is applied in a savepoint of the
  page's transaction (``counter.services.family_apply``, the import's writer).
  A family the counter's rules refuse is rolled back alone, counted, written in
  the audit trail (``sync.rejected``, the family's id and the reason's code)
  and skipped: the cursor moves on, and the family is tried again the next time
  the feed brings it (or with ``counter sync --restart``).
- **Merges**: the merged id's person takes the kept id when the counter knows
  only them; when the counter knows both, the merged record is marked removed
  if it has no history at the counter (no visit, no registration), else the
  pair goes to the duplicates' review list for a supervisor: never merged
  silently.
- **Removals** mark ``removed_at`` (household, persons): nothing is deleted, a
  person's visits and registrations stay. Removed persons are left out of the
  search; a family or person the feed brings back is live again.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, exists, or_, select, update
from sqlalchemy.exc import IntegrityError

from counter.clock import utc_now
from counter.domain.dates import as_utc
from counter.domain.family_feed import (
    ChangesPage,
    FamilyChanged,
    FamilyRemoved,
    PersonMerged,
    PersonRemoved,
    SyncReport,
    SyncStatus,
    UnreadableChange,
)
from counter.domain.family_records import SourceFamily
from counter.store.engine import Store
from counter.store.models import (
    AuditEntry,
    Household,
    HouseholdMember,
    Person,
    Registration,
    SyncState,
    Visit,
)

log = logging.getLogger("counter.sync")

FEED = "city.changes"  # SyncState.name
LEASE = timedelta(minutes=5)  # renewed with every page
MAX_REJECTED_IDS = 50
MAX_ERROR = 300  # SyncState.last_error
SYNC_AGENT = "sync"  # the audit trail's agent for what a pass writes


class SyncBusy(Exception):
    """Another pass holds the lease (this service or another one on the same database)."""

    def __init__(self, holder: str | None, until: datetime | None) -> None:
        super().__init__(f"a sync is already running ({holder or 'unknown holder'}"
                         + (f", lease until {until:%Y-%m-%d %H:%M} UTC)" if until else ")"))
        self.holder = holder
        self.until = until


class SyncFailed(Exception):
    """The pass stopped before the end of the feed; what was committed stays. ``message``
    is French (supervisors), ``english`` for the command line and the log."""

    def __init__(self, message: str, english: str, report: SyncReport) -> None:
        super().__init__(english)
        self.message = message
        self.english = english
        self.report = report


class LeaseLost(Exception):
    """Another pass took the lease over (ours had run out): this page is rolled back."""


Progress = Callable[[int, int | None], None]  # (changes done, changes remaining if known)


def holder_name(owner: str = "counter") -> str:
    return f"{socket.gethostname()}/{owner}/{os.getpid()}/{uuid.uuid4().hex[:8]}"[:120]


def review_new_persons(session, person_ids: list[int]) -> int:
    """Duplicate detection for the persons a page created: likely duplicates go to the
    review list (source "sync"), in the page's transaction; never merged."""
    from counter.services.duplicates import review_new_persons as review

    return review(session, person_ids, source="sync")


@dataclass
class _Tally:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    merges: int = 0
    merges_to_review: int = 0
    removals: int = 0
    rejected_ids: list[str] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)  # family id → reason code

    def add_to(self, report: SyncReport) -> SyncReport:
        ids = (*report.rejected_ids, *self.rejected_ids)[:MAX_REJECTED_IDS]
        return replace(report, created=report.created + self.created, updated=report.updated + self.updated,
                       unchanged=report.unchanged + self.unchanged, rejected=report.rejected + self.rejected,
                       merges=report.merges + self.merges,
                       merges_to_review=report.merges_to_review + self.merges_to_review,
                       removals=report.removals + self.removals, pages=report.pages + 1, rejected_ids=ids)

    @property
    def counts(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in ("created", "updated", "unchanged", "rejected", "merges",
                                              "merges_to_review", "removals")}


class FamilySync:
    """One pass over the feed of ``backend`` (the city adapter: ``changes(after, limit)``)."""

    def __init__(self, store: Store, backend: Any, *, clock: Callable[[], datetime] = utc_now,
                 holder: str | None = None, limit: int = 0,
                 review: Callable[[Any, list[int]], int] = review_new_persons) -> None:
        self.store = store
        self.backend = backend
        self.clock = clock
        self.holder = holder or holder_name()
        self.limit = limit
        self._review = review

    def now(self) -> datetime:
        return as_utc(self.clock())

    async def run(self, *, restart: bool = False, max_pages: int | None = None,
                  progress: Progress | None = None) -> SyncReport:
        """Pull pages until the feed has no more (or ``max_pages``). Raises SyncBusy when
        another pass runs, SyncFailed when the family system fails or answers badly."""
        from backends.http import AgencyError

        stored = await asyncio.to_thread(self._acquire, self.now())
        cursor = None if restart else stored
        report = SyncReport(cursor=cursor)
        done = 0
        try:
            while True:
                try:
                    page = await self.backend.changes(cursor, self.limit)
                except AgencyError as exc:
                    if _expired(exc) and cursor is not None and not report.restarted:
                        log.warning("sync: the family system no longer knows our cursor; starting from the beginning")
                        cursor, report = None, replace(report, restarted=True)
                        continue
                    raise
                tally = await asyncio.to_thread(self._apply_page, page, stored)
                report = replace(tally.add_to(report), cursor=page.next)
                cursor = stored = page.next
                done += len(page.changes)
                if progress is not None:
                    progress(done, page.remaining if page.more else 0)
                if not page.more:
                    break
                if max_pages is not None and report.pages >= max_pages:
                    report = replace(report, complete=False)
                    break
        except AgencyError as exc:
            await asyncio.to_thread(self._release, self.now(), exc.message)
            log.warning("sync stopped after %d page(s): %s", report.pages, exc.status)
            english = {"unavailable": "unreachable or out of order", "timeout": "no answer in time",
                       "unauthorized": "the credential is refused (counter credentials check)",
                       "rate_limited": "too many requests", "bad_response": "an answer counter cannot read",
                       "not_found": "no such route"}.get(str(exc.status), str(exc.status))
            raise SyncFailed(f"Synchronisation interrompue : {exc.message}",
                             f"the family system failed: {english}", report) from None
        except LeaseLost:
            log.warning("sync: lease taken over by another pass after %d page(s)", report.pages)
            raise SyncFailed("Synchronisation interrompue : une autre synchronisation a pris le relais.",
                             "another sync took the lease over (ours had run out)", report) from None
        except BaseException:
            # A crash, a cancellation (the service stopping), a database failure: the lease is
            # given back when we can; otherwise it runs out.
            try:
                await asyncio.shield(asyncio.to_thread(self._release, self.now(), "Synchronisation interrompue."))
            except BaseException:  # noqa: BLE001
                pass
            raise
        await asyncio.to_thread(self._release, self.now(), None, report.complete)
        log.info("sync: %d page(s), families %d created, %d updated, %d unchanged, %d rejected; "
                 "%d merge(s), %d to review, %d removal(s)", report.pages, report.created, report.updated,
                 report.unchanged, report.rejected, report.merges, report.merges_to_review, report.removals)
        return report

    # -- the lease -----------------------------------------------------------------------

    def _acquire(self, now: datetime) -> str | None:
        """Take the lease; the stored cursor. Raises SyncBusy."""
        try:
            with self.store.write() as session:
                if session.get(SyncState, FEED) is None:
                    session.add(SyncState(name=FEED))
        except IntegrityError:  # another service created the row at the same moment
            pass
        free = or_(SyncState.holder.is_(None), SyncState.lease_until.is_(None), SyncState.lease_until <= now)
        with self.store.write() as session:
            taken = session.execute(update(SyncState).where(SyncState.name == FEED, free)
                                    .values(holder=self.holder, lease_until=now + LEASE, last_attempt_at=now))
            state = session.get(SyncState, FEED)
            session.refresh(state)
            if taken.rowcount != 1:
                raise SyncBusy(state.holder, as_utc(state.lease_until))
            return state.cursor

    def _release(self, now: datetime, error: str | None, complete: bool = True) -> None:
        """Give the lease back; a pass that reached the end of the feed is the last success
        (one stopped by a page limit is not: the counter is not in step yet)."""
        values: dict[str, Any] = {"holder": None, "lease_until": None}
        if error is None:
            values.update(last_error=None)
            if complete:
                values.update(last_success_at=now)
        else:
            values.update(last_error=error[:MAX_ERROR])
        with self.store.write() as session:
            session.execute(update(SyncState).where(SyncState.name == FEED, SyncState.holder == self.holder)
                            .values(**values))

    # -- a page --------------------------------------------------------------------------

    def _apply_page(self, page: ChangesPage, stored: str | None) -> _Tally:
        """The page's changes and its cursor, in one transaction; ``stored`` is the cursor
        this pass found or last stored."""
        tally = _Tally()
        now = self.now()
        with self.store.write() as session:
            # Ours still, and nobody moved the cursor meanwhile (a fencing check).
            same_cursor = SyncState.cursor.is_(None) if stored is None else SyncState.cursor == stored
            mine = session.execute(update(SyncState)
                                   .where(SyncState.name == FEED, SyncState.holder == self.holder, same_cursor)
                                   .values(cursor=page.next, lease_until=now + LEASE))
            if mine.rowcount != 1:
                raise LeaseLost
            from counter.services.family_addresses import AddressBook

            created_persons: list[int] = []
            addresses = AddressBook(session) if any(isinstance(c, FamilyChanged) for c in page.changes) else None
            for change in page.changes:
                self._apply_change(session, change, now, tally, created_persons, addresses)
            if created_persons:
                self._review(session, created_persons)
            if not page.changes:
                return tally  # nothing new: no audit entry every few minutes
            session.add(AuditEntry(agent=SYNC_AGENT, host=socket.gethostname(), action="sync.page",
                                   target_type="feed", target_id=FEED,
                                   details=_json({**tally.counts, "rejected_ids": tally.rejected_ids,
                                                  "reasons": tally.reasons})))
        return tally

    def _apply_change(self, session, change, now: datetime, tally: _Tally, created: list[int],
                      addresses) -> None:
        if isinstance(change, UnreadableChange):
            tally.rejected += 1
            if change.family_id:
                tally.rejected_ids.append(change.family_id)
                tally.reasons[change.family_id] = "unreadable"
            log.warning("sync: unreadable change (%s)", change.reason)
            return
        if isinstance(change, FamilyChanged):
            self._family(session, change.family, now, tally, created, addresses)
        elif isinstance(change, FamilyRemoved):
            tally.removals += _remove_family(session, change.family_id, now)
        elif isinstance(change, PersonRemoved):
            tally.removals += _remove_person(session, change.person_id, now)
        elif isinstance(change, PersonMerged):
            outcome = _merge(session, change.merged_id, change.kept_id, now)
            if outcome == "review":
                tally.merges_to_review += 1
            elif outcome == "merged":
                tally.merges += 1

    def _family(self, session, family: SourceFamily, now: datetime, tally: _Tally, created: list[int],
                addresses) -> None:
        from counter.services.family_apply import CREATED, UPDATED, FamilyRejected, apply_family

        if _kept_apart(session, family):
            tally.unchanged += 1
            return
        try:
            with session.begin_nested():
                claimed = _claim_household(session, family)
                outcome = apply_family(session, family, today=now.date(), addresses=addresses)
        except FamilyRejected as exc:
            tally.rejected += 1
            tally.rejected_ids.append(family.source_id)
            tally.reasons[family.source_id] = _reason_code(exc)
            log.info("sync: family %s rejected (%s)", family.source_id, tally.reasons[family.source_id])
            return
        if outcome.status == CREATED:
            tally.created += 1
        elif outcome.status == UPDATED or claimed:
            tally.updated += 1
        else:
            tally.unchanged += 1
        created.extend(outcome.created_person_ids)


# -- the pieces of a change -----------------------------------------------------------------------


def _reason_code(exc: Exception) -> str:
    """The fields a rejection names (``nir``, ``birth_date``…): never their values."""
    reasons = getattr(exc, "reasons", None) or []
    fields = sorted({getattr(r, "field", "") for r in reasons} - {""})
    return ",".join(fields)[:80] or type(exc).__name__


def _kept_apart(session, family: SourceFamily) -> bool:
    """A family the counter already keeps, differently, in a household of its own making:
    every one of its persons is known and lives in one counter household, and either

    - that household carries another family id (a brother registered at the counter
      after his sister: the city put each in a family of its own), or
    - the family has no parent or guardian while the household has members the family
      system does not know (a family created at the counter: the city knows only the
      child it registered).

    The city links such families later in its software; until then the counter's
    household stays as it is: no duplicate, no half-family refused by the rules."""
    ids = [m.source_id for m in family.members]
    persons = session.scalars(select(Person.id).where(Person.source_id.in_(ids))).all()
    if len(persons) != len(set(ids)):
        return False
    homes = set(session.scalars(select(HouseholdMember.household_id).where(HouseholdMember.person_id.in_(persons))))
    if len(homes) != 1:
        return False
    home = session.get(Household, homes.pop())
    if home.source_id is not None and home.source_id != family.source_id:
        return session.scalar(select(Household.id).where(Household.source_id == family.source_id)) is None
    if any(m.role in ("parent", "other_guardian") for m in family.members):
        return False
    return bool(session.scalar(select(exists().where(
        HouseholdMember.household_id == home.id, HouseholdMember.person_id == Person.id,
        Person.source_id.is_(None)))))


def _claim_household(session, family: SourceFamily) -> bool:
    """The household of persons the counter already links to this family's people, with
    no family id yet (a family created at the counter, sent through the outbox): it is
    this family from now on, so the writer updates it rather than creating another."""
    if session.scalar(select(Household.id).where(Household.source_id == family.source_id)) is not None:
        return False
    ids = [m.source_id for m in family.members]
    homes = session.scalars(
        select(HouseholdMember.household_id).join(Person, Person.id == HouseholdMember.person_id)
        .join(Household, Household.id == HouseholdMember.household_id)
        .where(Person.source_id.in_(ids), Household.source_id.is_(None))
        .order_by(HouseholdMember.household_id)).all()
    if not homes:
        return False
    session.execute(update(Household).where(Household.id == homes[0]).values(source_id=family.source_id))
    return True


def _remove_family(session, family_id: str, now: datetime) -> int:
    household = session.scalar(select(Household).where(Household.source_id == family_id))
    if household is None:
        return 0
    if household.removed_at is None:
        household.removed_at = now
        session.add(household)
    # Its persons are removed too, unless they also live in a household still on file.
    members = session.scalars(select(HouseholdMember.person_id).where(
        HouseholdMember.household_id == household.id)).all()
    for person_id in members:
        elsewhere = session.scalar(select(exists().where(
            HouseholdMember.person_id == person_id, HouseholdMember.household_id != household.id,
            HouseholdMember.household_id == Household.id, Household.removed_at.is_(None))))
        if not elsewhere:
            session.execute(update(Person).where(Person.id == person_id, Person.removed_at.is_(None))
                            .values(removed_at=now))
    return 1


def _remove_person(session, person_id: str, now: datetime) -> int:
    done = session.execute(update(Person).where(Person.source_id == person_id, Person.removed_at.is_(None))
                           .values(removed_at=now))
    return 1 if done.rowcount else 0


def _has_history(session, person_id: int) -> bool:
    return bool(session.scalar(select(exists().where(Visit.person_id == person_id)))
                or session.scalar(select(exists().where(Registration.person_id == person_id))))


def _merge(session, merged_id: str, kept_id: str, now: datetime) -> str:
    """"merged", "review" (a supervisor decides) or "nothing" (the counter does not know the merged id)."""
    merged = session.scalar(select(Person).where(Person.source_id == merged_id))
    kept = session.scalar(select(Person).where(Person.source_id == kept_id))
    if merged is None or (kept is not None and merged.id == kept.id):
        return "nothing"
    if kept is None:  # the counter knew only the merged record: it is the kept person now
        merged.source_id = kept_id
        session.add(merged)
        return "merged"
    if not _has_history(session, merged.id):
        # Nothing of the counter's points at the merged record but its memberships: the
        # kept person's family (given by the feed) says where they belong.
        session.execute(delete(HouseholdMember).where(HouseholdMember.person_id == merged.id))
        merged.removed_at = now
        session.add(merged)
        return "merged"
    from counter.domain.duplicates import MERGED_BY_SOURCE
    from counter.services.duplicates import record_pair

    record_pair(session, merged.id, kept.id, [MERGED_BY_SOURCE], "sync")
    return "review"


def _expired(exc: Exception) -> bool:
    from backends.city.adapter import CursorExpired

    return isinstance(exc, CursorExpired)


def _json(value: dict) -> str:
    import json

    return json.dumps(value, sort_keys=True)


# -- for supervisors and the status line ------------------------------------------------------------


def sync_status(store: Store, now: datetime, *, configured: bool, warn_after_hours: int) -> SyncStatus:
    with store.read() as session:
        state = session.get(SyncState, FEED)
    if state is None:
        return SyncStatus(configured, warn_after_hours=warn_after_hours, stale=configured)
    success = as_utc(state.last_success_at)
    running = state.holder is not None and state.lease_until is not None and as_utc(state.lease_until) > now
    stale = configured and (success is None or now - success > timedelta(hours=warn_after_hours))
    return SyncStatus(configured, success, as_utc(state.last_attempt_at), state.last_error, running,
                      warn_after_hours, stale)


def reset_cursor(store: Store) -> None:
    """The next pass starts from the beginning (``counter sync --restart``)."""
    with store.write() as session:
        session.execute(update(SyncState).where(SyncState.name == FEED).values(cursor=None))
