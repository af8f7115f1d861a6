"""What a search answers: the persons found, ranked, one page at a time.

Plain data: the service builds it, the terminal shows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from counter.domain import query as queries
from counter.domain.people import PersonSummary

PAGE = 50


@dataclass(frozen=True, slots=True)
class SearchResult:
    person: PersonSummary
    strength: int  # summed Match values; higher is better


@dataclass(frozen=True, slots=True)
class SearchOutcome:
    query: queries.ParsedQuery
    results: tuple[SearchResult, ...] = ()
    page: int = 0
    total: int = 0  # ranked matches; a lower bound when ``capped``
    capped: bool = False  # the index had more candidates than were ranked
    error: str | None = None
    hints: tuple[str, ...] = field(default=())

    @property
    def is_blank(self) -> bool:
        return self.query.is_empty

    @property
    def first(self) -> int:
        """1-based position of the first result shown."""
        return self.page * PAGE + 1 if self.results else 0

    @property
    def last(self) -> int:
        return self.page * PAGE + len(self.results)

    @property
    def has_next(self) -> bool:
        return self.last < self.total

    @property
    def has_previous(self) -> bool:
        return self.page > 0
