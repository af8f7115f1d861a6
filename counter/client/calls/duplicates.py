"""Likely duplicates: the supervisors' review list, merge and dismiss."""

from __future__ import annotations

from counter.wire import api


class DuplicateCalls:
    connection: object

    def duplicates_list(self, state: str | None = "pending"):
        return self.connection.call(api.DUPLICATES_LIST, api.DuplicatesListArgs(state))

    def duplicates_merge(self, keep: int, drop: int):
        return self.connection.call(api.DUPLICATES_MERGE, api.MergeArgs(keep, drop))

    def duplicates_dismiss(self, review_id: int) -> int:
        return self.connection.call(api.DUPLICATES_DISMISS, api.ReviewArgs(review_id))
