"""A visit: its drafts, the agencies' answers, the confirmation, printing."""

from __future__ import annotations

from counter.wire import api


class VisitCalls:
    connection: object

    def start_visit(self, household_id: int | None = None, person_id: int | None = None) -> int:
        return self.connection.call(api.VISIT_START, api.StartArgs(household_id, person_id))

    def open_visit(self, visit_id: int) -> api.OpenedVisit:
        return self.connection.call(api.VISIT_OPEN, api.VisitArgs(visit_id))

    def visit_drafts(self) -> tuple[api.DraftInfo, ...]:
        return self.connection.call(api.VISIT_DRAFTS)

    def abandon_visit(self, visit_id: int) -> None:
        self.connection.call(api.VISIT_ABANDON, api.VisitArgs(visit_id))

    def save_visit(self, visit_id: int, draft) -> api.Saved:
        return self.connection.call(api.VISIT_SAVE, api.DraftArgs(visit_id, draft))

    def visit_facts(self, visit_id: int):
        return self.connection.call(api.VISIT_FACTS, api.VisitArgs(visit_id))

    def confirm_visit(self, visit_id: int, draft) -> api.Confirmed:
        return self.connection.call(api.VISIT_CONFIRM, api.DraftArgs(visit_id, draft))

    def print_receipt(self, code: str):
        return self.connection.call(api.RECEIPT_PRINT, api.ReceiptArgs(code))
