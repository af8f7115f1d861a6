"""A household as the counter sees it: members, roles, addresses, contacts."""

from __future__ import annotations

from sqlalchemy import bindparam, text

from counter.domain.dates import BirthDate
from counter.domain.names import split_given_names
from counter.domain.nir import format_nir, mask_nir
from counter.domain.people import ROLE_ORDER, AddressView, HouseholdView, MemberView, PersonSummary
from counter.store.engine import Store

_ADDRESS = (
    "SELECT a.id, a.number, a.suffix, s.name AS street, a.line, a.complement, a.postal_code, a.city "
    "FROM address a LEFT JOIN street s ON s.id = a.street_id WHERE a.id IN :ids"
)


class HouseholdService:
    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, household_id: int) -> HouseholdView | None:
        with self.store.engine.connect() as connection:
            household = connection.execute(
                text("SELECT id, address_id, caf_number FROM household WHERE id = :id"),
                {"id": household_id},
            ).first()
            if household is None:
                return None
            members = connection.execute(
                text(
                    "SELECT m.role, m.address_id, p.id, p.birth_name, p.usage_name, p.given_names, "
                    "p.sex, p.birth_year, p.birth_month, p.birth_day, p.phone, p.email, p.nir "
                    "FROM household_member m JOIN person p ON p.id = m.person_id "
                    "WHERE m.household_id = :id ORDER BY m.id"
                ),
                {"id": household_id},
            ).all()
            address_ids = {household.address_id} | {m.address_id for m in members}
            address_ids.discard(None)
            addresses = {}
            if address_ids:
                rows = connection.execute(
                    text(_ADDRESS).bindparams(bindparam("ids", expanding=True)),
                    {"ids": sorted(address_ids)},
                )
                addresses = {
                    r.id: AddressView(r.number, r.suffix, r.street, r.line, r.complement, r.postal_code, r.city)
                    for r in rows
                }
        home = addresses.get(household.address_id)
        views = []
        for m in members:
            own = addresses.get(m.address_id) if m.address_id != household.address_id else None
            person = PersonSummary(
                id=m.id,
                birth_name=m.birth_name,
                usage_name=m.usage_name,
                given_names=tuple(split_given_names(m.given_names)),
                sex=m.sex,
                birth=BirthDate(m.birth_year, m.birth_month, m.birth_day),
                household_id=household.id,
                household_size=len(members),
                role=m.role,
                address=own or home,
            )
            # Masked by default: the full NIR only through reveal_nir (audited).
            views.append(MemberView(person, m.role, own, m.phone, m.email, mask_nir(m.nir) if m.nir else None))
        # Parents and guardians first, then children from the eldest.
        views.sort(key=lambda v: (ROLE_ORDER.get(v.role, 9), v.person.birth.earliest()))
        return HouseholdView(household.id, home, household.caf_number, tuple(views))

    def reveal_nir(self, person_id: int, actor) -> str | None:
        """The person's full NIR, formatted; the reveal is audited (who, which person, never the NIR)."""
        from counter.services import audit

        with self.store.write() as session:
            nir = session.execute(text("SELECT nir FROM person WHERE id = :id"), {"id": person_id}).scalar()
            if nir is None:
                return None
            audit.record(self.store, actor, "nir.reveal", "person", person_id, session=session)
        return format_nir(nir)
