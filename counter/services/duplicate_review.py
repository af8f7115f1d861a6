"""The supervisors' review of likely duplicates: the list, merging a pair, dismissing one.

Only supervisors (``Action.DUPLICATES``); a refusal is audited by
``audit.require``. Merging moves what refers to the dropped person to the kept
one in one transaction, keeps the kept person's identity, marks the dropped
person removed (never deleted: the audit trail, old reviews and the family
system's id still name it) and audits ids and counts only. It refuses, and
writes nothing, when moving would break a rule (two live school registrations
for one school year, two different NIRs, an unfinished visit naming the
dropped person).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import bindparam, select, text

from counter.domain.dates import BirthDate
from counter.domain.duplicate_views import DuplicatePair, MergeReport
from counter.domain.duplicates import split_reasons
from counter.domain.names import split_given_names
from counter.domain.people import AddressView, PersonSummary
from counter.services import audit
from counter.store.engine import Store
from counter.store.models import DuplicateReview, HouseholdMember, Person

ACTION = "duplicates"
# Filled on the kept person from the dropped one when the kept one has none.
FILLED = ("nir", "phone", "email", "france_travail_id")


class DuplicateError(Exception):
    """A review operation refused; the message is French, ``english()`` English."""

    def __init__(self, message: str, english: str) -> None:
        super().__init__(message)
        self._english = english

    def english(self) -> str:
        return f"refused: {self._english}"


def summaries(connection, ids) -> dict[int, PersonSummary]:
    """Who these persons are, with their (first) household and where it lives."""
    from counter.store.search_sql import membership_rows

    ids = sorted(set(ids))
    homes: dict[int, object] = {}
    for row in membership_rows(connection, ids):
        homes.setdefault(row.person_id, row)  # the first membership, as the search
    found: dict[int, PersonSummary] = {}
    # Removed persons too (a merged pair's dropped one): not the search's rows, which leave them out.
    rows = connection.execute(text(
        "SELECT id, birth_name, usage_name, given_names, sex, birth_year, birth_month, birth_day FROM person "
        "WHERE id IN :ids").bindparams(bindparam("ids", expanding=True)), {"ids": ids}).all() if ids else []
    for row in rows:
        home = homes.get(row.id)
        address = None
        if home is not None and home.postal_code is not None:
            address = AddressView(number=home.number, suffix=home.suffix, street=home.street, line=home.line,
                                  complement=home.complement, postal_code=home.postal_code, city=home.city)
        found[row.id] = PersonSummary(
            id=row.id, birth_name=row.birth_name, usage_name=row.usage_name,
            given_names=tuple(split_given_names(row.given_names)), sex=row.sex,
            birth=BirthDate(row.birth_year, row.birth_month, row.birth_day),
            household_id=home.household_id if home else None, household_size=home.size if home else 0,
            role=home.role if home else None, address=address)
    return found


class ReviewService:
    def __init__(self, store: Store, actor: audit.Actor) -> None:
        self.store = store
        self.actor = actor

    # -- the list ------------------------------------------------------------------------------

    def pairs(self, state: str | None = "pending") -> list[DuplicatePair]:
        """The pairs in ``state`` (None: all), oldest first; both persons still there."""
        audit.require(self.store, self.actor, ACTION)
        query = select(DuplicateReview).order_by(DuplicateReview.id)
        if state is not None:
            query = query.where(DuplicateReview.state == state)
        with self.store.read() as session:
            reviews = session.execute(query).scalars().all()
            if state == "pending" and reviews:
                removed = set(session.execute(text(
                    "SELECT id FROM person WHERE removed_at IS NOT NULL AND id IN :ids").bindparams(
                    bindparam("ids", expanding=True)),
                    {"ids": sorted({r.person_id for r in reviews} | {r.candidate_id for r in reviews})}).scalars())
                reviews = [r for r in reviews if r.person_id not in removed and r.candidate_id not in removed]
            people = summaries(session.connection(), [i for r in reviews for i in (r.person_id, r.candidate_id)])
        # Names leave the service for the supervisor's terminal; the trail keeps the count only.
        audit.record(self.store, self.actor, "duplicates.list", "duplicate_review", "",
                     {"state": state or "all", "count": len(reviews)})
        return [DuplicatePair(r.id, r.created_at, r.source, r.state, split_reasons(r.reasons),
                              people[r.person_id], people[r.candidate_id]) for r in reviews]

    # -- dismissing ----------------------------------------------------------------------------

    def dismiss(self, review_id: int) -> int:
        """The pair is not one person: never proposed again. The review's id."""
        audit.require(self.store, self.actor, ACTION, "duplicate_review", review_id)
        with self.store.write() as session:
            review = session.get(DuplicateReview, review_id)
            if review is None:
                raise DuplicateError(f"Aucun doublon n° {review_id}.", f"no duplicate review {review_id}")
            if review.state != "pending":
                raise DuplicateError(f"Le doublon n° {review_id} est déjà traité ({review.state}).",
                                     f"review {review_id} is already {review.state}")
            review.state, review.decided_by, review.decided_at = "dismissed", self.actor.login, datetime.now(UTC)
            session.add(review)
            audit.record(self.store, self.actor, "duplicate.dismiss", "duplicate_review", review_id,
                         {"person": review.person_id, "candidate": review.candidate_id}, session=session)
            return review_id

    # -- merging -------------------------------------------------------------------------------

    def merge(self, keep_id: int, drop_id: int) -> MergeReport:
        """``drop_id`` becomes ``keep_id``: its memberships, visits and registrations
        (and so their outbox messages) move to the kept person, whose identity stays."""
        audit.require(self.store, self.actor, ACTION, "person", keep_id)
        if keep_id == drop_id:
            raise DuplicateError("Une personne ne peut pas être fusionnée avec elle-même.",
                                 "KEEP and DROP are the same person")
        with self.store.write() as session:
            keep, drop = session.get(Person, keep_id), session.get(Person, drop_id)
            for person_id, person in ((keep_id, keep), (drop_id, drop)):
                if person is None:
                    raise DuplicateError(f"Aucune personne n° {person_id}.", f"no person {person_id}")
                if person.removed_at is not None:
                    raise DuplicateError(f"La personne n° {person_id} est déjà retirée.",
                                         f"person {person_id} is removed already")
            self._refuse_unsafe(session, keep, drop)
            memberships = self._move_memberships(session, keep_id, drop_id)
            visits = session.execute(text("UPDATE visit SET person_id = :keep WHERE person_id = :drop"),
                                     {"keep": keep_id, "drop": drop_id}).rowcount
            registrations = session.execute(
                text("UPDATE registration SET person_id = :keep WHERE person_id = :drop"),
                {"keep": keep_id, "drop": drop_id}).rowcount
            source_id = self._source_id(session, keep, drop)
            filled = self._fill(session, keep, drop)
            now = datetime.now(UTC)
            drop.removed_at = now
            session.add(drop)
            review_id, reviews = self._settle_reviews(session, keep_id, drop_id, now)
            report = MergeReport(keep_id, drop_id, memberships, visits, registrations, reviews, source_id, filled)
            audit.record(self.store, self.actor, "duplicate.merge", "person", keep_id, {
                "dropped": drop_id, "review": review_id, "memberships": memberships, "visits": visits,
                "registrations": registrations, "reviews": reviews, "source_id": source_id,
                "filled": list(filled)}, session=session)
            return report

    def _refuse_unsafe(self, session, keep: Person, drop: Person) -> None:
        if keep.nir and drop.nir and keep.nir != drop.nir:
            raise DuplicateError(
                f"Les personnes n° {keep.id} et {drop.id} ont deux NIR différents : ce ne sont pas la même "
                "personne pour les organismes.",
                f"persons {keep.id} and {drop.id} have two different NIRs: not one person for the agencies; "
                "nothing merged")
        years = session.execute(text(
            "SELECT school_year FROM registration WHERE person_id = :keep AND kind = 'school' "
            "AND state != 'cancelled' AND school_year IN (SELECT school_year FROM registration "
            "WHERE person_id = :drop AND kind = 'school' AND state != 'cancelled') ORDER BY school_year"),
            {"keep": keep.id, "drop": drop.id}).scalars().all()
        if years:
            year = years[0]
            raise DuplicateError(
                f"Les deux fiches ont une inscription scolaire pour {year}-{year + 1} : annulez celle en trop "
                "(F9) avant de fusionner.",
                f"both persons have a school registration for {year}-{year + 1}: cancel the one too many "
                f"(F9 at the counter, a supervisor) before merging; nothing merged")
        drafts = session.execute(text(
            "SELECT v.id, v.draft FROM visit v WHERE v.state = 'draft' AND (v.person_id = :drop OR v.household_id "
            "IN (SELECT household_id FROM household_member WHERE person_id = :drop)) ORDER BY v.id"),
            {"drop": drop.id}).all()
        for visit_id, draft in drafts:
            if _names_person(draft, drop.id):
                raise DuplicateError(
                    f"La visite n° {visit_id}, en cours, concerne la personne n° {drop.id} : terminez-la ou "
                    "abandonnez-la avant de fusionner.",
                    f"unfinished visit {visit_id} has a request for person {drop.id}: confirm or abandon it "
                    "first; nothing merged")

    def _move_memberships(self, session, keep_id: int, drop_id: int) -> int:
        moved = 0
        rows = session.execute(select(HouseholdMember).where(HouseholdMember.person_id == drop_id)).scalars().all()
        kept_in = set(session.execute(select(HouseholdMember.household_id)
                                      .where(HouseholdMember.person_id == keep_id)).scalars())
        for member in rows:
            if member.household_id in kept_in:  # the kept person is there already: one membership is enough
                session.delete(member)
            else:
                member.person_id = keep_id
                session.add(member)
                moved += 1
        session.flush()
        return moved

    def _source_id(self, session, keep: Person, drop: Person) -> str:
        if keep.source_id and drop.source_id:
            return "both"  # the dropped record keeps its own: the family system still has it
        if drop.source_id:
            value, drop.source_id = drop.source_id, None
            session.add(drop)
            session.flush()  # unique: free it before the kept person takes it
            keep.source_id = value
            session.add(keep)
            return "moved"
        return "kept" if keep.source_id else "none"

    def _fill(self, session, keep: Person, drop: Person) -> tuple[str, ...]:
        filled = []
        for field in FILLED:
            if not getattr(keep, field) and getattr(drop, field):
                filled.append(field)
        if not filled:
            return ()
        values = {field: getattr(drop, field) for field in filled}
        for field in filled:
            setattr(drop, field, None)
        session.add(drop)
        session.flush()  # the NIR is unique: the dropped record lets it go first
        for field, value in values.items():
            setattr(keep, field, value)
        session.add(keep)
        session.flush()
        return tuple(filled)

    def _settle_reviews(self, session, keep_id: int, drop_id: int, now: datetime) -> tuple[int | None, int]:
        """The pair's review becomes merged; other pending reviews of the dropped person
        become the kept person's, unless the kept person has that pair already."""
        reviews = session.execute(select(DuplicateReview).where(
            (DuplicateReview.person_id == drop_id) | (DuplicateReview.candidate_id == drop_id))).scalars().all()
        pair_id, moved = None, 0
        for review in reviews:
            other = review.candidate_id if review.person_id == drop_id else review.person_id
            if other == keep_id:
                pair_id = review.id
                review.state, review.decided_by, review.decided_at = "merged", self.actor.login, now
            elif review.state == "pending" and not _pair_exists(session, keep_id, other):
                if review.person_id == drop_id:
                    review.person_id = keep_id
                else:
                    review.candidate_id = keep_id
                moved += 1
            elif review.state == "pending":  # the kept person's own review of that pair stands
                review.state, review.decided_by, review.decided_at = "merged", self.actor.login, now
            session.add(review)
            session.flush()
        # Merged without a review (a pair the supervisor found): nothing to settle; the
        # dropped person, removed, is never a candidate again.
        return pair_id, moved


def _pair_exists(session, a: int, b: int) -> bool:
    return session.execute(text(
        "SELECT 1 FROM duplicate_review WHERE (person_id = :a AND candidate_id = :b) "
        "OR (person_id = :b AND candidate_id = :a)"), {"a": a, "b": b}).first() is not None


def _names_person(draft: str, person_id: int) -> bool:
    """Whether a visit's draft (JSON) has a request for ``person_id``."""
    try:
        data = json.loads(draft or "{}")
    except ValueError:
        return False
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("person_id") == person_id:
                return True
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False
