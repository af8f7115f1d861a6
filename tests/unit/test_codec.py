"""The wire's JSON: what msgspec writes alone must be what the tagged walk writes."""

from __future__ import annotations

from datetime import date

import msgspec

from counter.domain import query as queries
from counter.domain.dates import BirthDate
from counter.domain.people import AddressView, PersonSummary
from counter.domain.search_results import SearchOutcome, SearchResult
from counter.wire import api, codec


def _outcome() -> SearchOutcome:
    person = PersonSummary(7, "ÉCHEVIN", "MARTIN", ("Zoé", "Anne"), "F", BirthDate(1987, 6, None), 12, 3, "parent",
                           AddressView(12, "bis", "rue des Sablons", None, "Bât. B", "45000", "Bellerive"))
    parsed = queries.parse_query("echevin zo 1987", date(2026, 11, 25))
    return SearchOutcome(parsed, (SearchResult(person, 5),), page=1, total=51, capped=True, error=None,
                         hints=("un", "deux"))


def test_a_search_answer_is_written_as_the_tagged_walk_writes_it():
    outcome = _outcome()
    assert codec.encode(outcome) == msgspec.json.encode(codec.to_builtins(outcome))
    assert codec.decode(codec.encode(outcome), api.SEARCH.result) == outcome


def test_an_answer_that_may_hold_a_tagged_fact_keeps_its_tags():
    from counter.domain.dossier import SectionAnswer

    from tests.service.test_dossier_wire import FACTS, answer_with

    sent = answer_with(*FACTS)
    assert codec.encode(sent) == msgspec.json.encode(codec.to_builtins(sent))
    assert codec.TAG.encode() in codec.encode(sent)
    assert codec.decode(codec.encode(sent), SectionAnswer) == sent
