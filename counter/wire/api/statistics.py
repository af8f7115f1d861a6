"""The statistics (issue 16): aggregates for a period, a site, an agent. The service
decides whose figures a peer gets (an agent: their own, whatever is asked)."""

from __future__ import annotations

from dataclasses import dataclass

from counter.domain.statistics import Statistics, StatsQuery
from counter.wire.endpoints import endpoint


@dataclass(frozen=True, slots=True)
class StatisticsArgs:
    query: StatsQuery
    export: bool = False  # the administrators' `counter stats`: recorded in the audit trail


STATISTICS = endpoint("statistics.compute", StatisticsArgs, Statistics)
