"""Crèche application, the store side: a provisional rank on the town's waiting
list at confirmation (under a lock of the lists), closed up at cancellation; the
family system's application body."""

from __future__ import annotations

from sqlalchemy import bindparam, or_, select, text, update

from counter.domain.kinds import BaseKindService, Registered
from counter.domain.receipt import PROVISIONAL_RANK_NOTE
from counter.domain.visits import RegState


class CrecheService(BaseKindService):
    def prepare(self, session, store, requests) -> None:
        """Serialise rank allocation per waiting list (SQLite already holds the write lock)."""
        creche_ids = [r.creche_ids[0] for r in requests if r.creche_ids]
        if store.dialect == "postgresql" and creche_ids:
            lock_waiting_lists(session, creche_ids)

    def register(self, session, registration, request) -> Registered:
        first = request.creche_ids[0]
        rank = provisional_rank(session, first)  # under the lock taken by prepare()
        registration.creche_id, registration.rank = first, rank
        return Registered(RegState.WAITING_LIST, rank, PROVISIONAL_RANK_NOTE)

    def payload(self, request, registration_id, state, delivery) -> tuple[str, dict]:
        from counter.domain.deliveries import CITY_REGISTRATION, creche_body

        # Every crèche has its family-system code (migration 0002, the loader); a
        # missing one stops the confirmation with a clear error rather than a bad message.
        creches = {c.id: c.code or None for c in delivery.context.creches}
        parent = delivery.adults[0] if delivery.adults else None
        return CITY_REGISTRATION, creche_body(
            request, delivery.context.member(request.person_id), [creches.get(c) for c in request.creche_ids],
            delivery.city_id(request.person_id), delivery.city_id(parent.person_id) if parent else None,
            parent=parent, address=delivery.context.address)

    def cancelled(self, session, store, registration, previous: str) -> bool:
        if previous == RegState.WAITING_LIST and registration.rank and registration.delivery != "delivered":
            close_up(session, store, registration.creche_id, registration.rank, registration.id)
        return False


def lock_waiting_lists(session, creche_ids: list[int]) -> None:
    """PostgreSQL: lock the rows of these crèches and of every crèche sharing their
    lists, in id order (two transactions never wait for each other in a circle)."""
    session.execute(text(
        "SELECT id FROM creche WHERE id IN :ids OR waiting_list IN "
        "(SELECT waiting_list FROM creche WHERE id IN :ids AND waiting_list IS NOT NULL) ORDER BY id FOR UPDATE"
    ).bindparams(bindparam("ids", expanding=True)), {"ids": sorted({int(i) for i in creche_ids})})


def provisional_rank(session, creche_id: int) -> int:
    """The rank a new application for ``creche_id`` (first choice) gets on the town's list.

    The town's list as last synchronised (``creche.waiting_list_length``, kept
    up by the ranks the town answers at delivery), plus this database's live
    applications for a crèche of the same list that the town has not received
    yet, plus one. Crèches never synchronised each count as a list of their own.
    Provisional: the town's answer at delivery is the rank (``town_rank``).
    """
    creche = session.execute(text("SELECT waiting_list, waiting_list_length FROM creche WHERE id = :id"),
                             {"id": creche_id}).one()
    same_list = "c.waiting_list = :list" if creche.waiting_list is not None else "c.id = :id"
    undelivered = session.execute(text(
        "SELECT count(*) FROM registration r JOIN creche c ON c.id = r.creche_id "
        f"WHERE r.kind = 'creche' AND r.state = 'waiting_list' AND r.delivery = 'pending' AND {same_list}"),
        {"list": creche.waiting_list, "id": creche_id}).scalar_one()
    return (creche.waiting_list_length or 0) + undelivered + 1


def close_up(session, store, creche_id: int | None, rank: int, registration_id: int) -> None:
    """An application the town never received leaves: this counter's other undelivered
    applications behind it on the same list move up one (their ranks are provisional,
    counted as the town's list plus the undelivered ones: provisional_rank)."""
    from counter.store.models import Creche, Registration

    if creche_id is None:
        return
    if store.dialect == "postgresql":  # serialised with rank allocation (prepare)
        lock_waiting_lists(session, [creche_id])
    same_list = select(Creche.id).where(or_(
        Creche.id == creche_id,
        Creche.waiting_list == select(Creche.waiting_list).where(Creche.id == creche_id).scalar_subquery()))
    session.execute(update(Registration)
                    .where(Registration.kind == "creche", Registration.creche_id.in_(same_list),
                           Registration.state == RegState.WAITING_LIST.value, Registration.delivery == "pending",
                           Registration.rank > rank, Registration.id != registration_id)
                    .values(rank=Registration.rank - 1))


service = CrecheService()
