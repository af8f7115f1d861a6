"""Bad search queries: the service always answers with a French message or results,
and the search screen shows that message literally, its layout intact."""

from __future__ import annotations

import pytest

from counter.clock import FixedClock
from counter.domain.text import shown_lines
from tests.badinput.corpus import params, text
from tests.conftest import TODAY


def kind_of(outcome) -> str:
    if outcome.error:
        return "error"
    if outcome.results:
        return "results"
    return "blank" if outcome.is_blank else "none"


@pytest.fixture(scope="module")
def search(town_database):
    from counter.services.search import SearchService
    from counter.store.engine import Store

    store = Store(f"sqlite:///{town_database}")  # read only: the search never writes
    yield SearchService(store, FixedClock(TODAY))
    store.dispose()


@pytest.mark.parametrize("case", params("search"))
def test_the_search_service_answers_every_query(case, search):
    outcome = search.search(text(case, "query"))
    assert kind_of(outcome) == case["outcome"]
    if case["outcome"] in ("error", "none"):
        message = outcome.error or "\n".join(outcome.hints)
        assert case["says"] in shown_lines(message)
    elif case["outcome"] == "results" and "trouvée" in case["says"]:
        assert case["says"].startswith(f"{outcome.total} personne")
