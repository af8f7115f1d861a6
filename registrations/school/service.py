"""School registration, the store side: places booked at confirmation, given back
at cancellation, the family system's registration body."""

from __future__ import annotations

from sqlalchemy import text

from counter.domain.kinds import BaseKindService, Registered
from counter.domain.visits import RegState

FULL_NOTE = "Plus de place à ce niveau dans cette école : inscription placée en liste d'attente."


class SchoolService(BaseKindService):
    def register(self, session, registration, request) -> Registered:
        if request.derogation:
            state, note = RegState.DEROGATION_REQUESTED, ""  # decided later: no place is booked meanwhile
        elif book_place(session, request):
            state, note = RegState.REGISTERED, ""
        else:
            state, note = RegState.WAITING_LIST, FULL_NOTE
        registration.school_year, registration.school_id = request.school_year, request.school_id
        registration.level = request.level
        return Registered(state, None, note)

    def payload(self, request, registration_id, state, delivery) -> tuple[str, dict]:
        from counter.domain.deliveries import CITY_REGISTRATION, school_body

        schools = {s.id: s.code for s in delivery.context.schools}
        return CITY_REGISTRATION, school_body(request, delivery.context.member(request.person_id),
                                              schools[request.school_id], delivery.city_id(request.person_id),
                                              address=delivery.context.address)

    def cancelled(self, session, store, registration, previous: str) -> bool:
        if previous != RegState.REGISTERED:
            return False
        freed = session.execute(text(
            "UPDATE school_capacity SET booked = booked - 1 WHERE school_id = :s AND school_year = :y "
            "AND level = :l AND booked > 0"),
            {"s": registration.school_id, "y": registration.school_year, "l": registration.level})
        return freed.rowcount == 1


def book_place(session, request) -> bool:
    """Take a place if one is left; a school level without configured places takes everyone."""
    capacity = session.execute(
        text("SELECT id FROM school_capacity WHERE school_id = :s AND school_year = :y AND level = :l"),
        {"s": request.school_id, "y": request.school_year, "l": request.level},
    ).first()
    if capacity is None:
        return True
    # Atomic on both databases: SQLite holds the write lock (BEGIN IMMEDIATE),
    # PostgreSQL locks the row and re-checks the condition.
    taken = session.execute(
        text("UPDATE school_capacity SET booked = booked + 1 WHERE id = :id AND booked < capacity"),
        {"id": capacity.id},
    )
    return taken.rowcount == 1


service = SchoolService()
