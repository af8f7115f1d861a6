"""Library card, the store side: no capacity; the Koha patron, with the relay's notes."""

from __future__ import annotations

from counter.domain.kinds import BaseKindService


class LibraryService(BaseKindService):
    def payload(self, request, registration_id, state, delivery) -> tuple[str, dict]:
        from counter.domain.deliveries import KOHA_PATRON, RELAY_KEY, card_notes, patron_body

        context = delivery.context
        member = context.member(request.person_id)
        # No library: the Koha adapter sets the configured one when it sends (backends.koha.adapter).
        body = patron_body(request, member, context.address, None, None, valid_until=delivery.valid_until)
        guarantor = context.member(request.guarantor_id) if request.guarantor_id is not None else None
        return KOHA_PATRON, {**body, RELAY_KEY: card_notes(member, guarantor, delivery.today)}


service = LibraryService()
