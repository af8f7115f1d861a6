"""Confirmed registrations and their receipts."""

from __future__ import annotations

from counter.wire import api


class RegistrationCalls:
    connection: object

    def search_registrations(self, text: str):
        return self.connection.call(api.REGISTRATIONS_SEARCH, api.RegistrationSearchArgs(text))

    def registration(self, registration_id: int):
        return self.connection.call(api.REGISTRATION_DETAIL, api.RegistrationIdArgs(registration_id))

    def cancel_registration(self, registration_id: int, reason: str):
        return self.connection.call(api.REGISTRATION_CANCEL, api.CancelRegistrationArgs(registration_id, reason))

    def stored_receipt(self, visit_id: int):
        return self.connection.call(api.STORED_RECEIPT, api.ReceiptVisitArgs(visit_id))

    def reprint_receipt(self, visit_id: int):
        return self.connection.call(api.REPRINT_RECEIPT, api.ReceiptVisitArgs(visit_id))
