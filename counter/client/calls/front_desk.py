"""The front desk: tickets, the waiting list, the room's display, the end of a visit."""

from __future__ import annotations

from counter.wire import api


class FrontDeskCalls:
    connection: object

    def issue_ticket(self, reasons: tuple[str, ...], need: str | None = None, appointment: bool = False):
        return self.connection.call(api.QUEUE_ISSUE, api.IssueArgs(tuple(reasons), need, appointment))

    def call_ticket(self, number: int | None = None):
        return self.connection.call(api.QUEUE_CALL, api.CallArgs(number))

    def ticket_gone(self, number: int) -> None:
        self.connection.call(api.QUEUE_GONE, api.CallArgs(number))

    def queue(self):
        return self.connection.call(api.QUEUE_LIST)

    def queue_display(self):
        return self.connection.call(api.QUEUE_DISPLAY)

    def visit_ending(self, visit_id: int | None = None) -> api.Ending:
        return self.connection.call(api.VISIT_ENDING, api.EndingArgs(visit_id))

    def end_visit(self, end, visit_id: int | None = None, household_id: int | None = None,
                  person_id: int | None = None) -> int:
        return self.connection.call(api.VISIT_END, api.EndArgs(end, visit_id, household_id, person_id))
