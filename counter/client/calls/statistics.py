"""The statistics screen's and `counter stats`' call."""

from __future__ import annotations

from counter.wire import api


class StatisticsCalls:
    connection: object

    def statistics(self, query, export: bool = False):
        return self.connection.call(api.STATISTICS, api.StatisticsArgs(query, export))
