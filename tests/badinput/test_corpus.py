"""The corpus itself: enough cases, every one named once, every file read."""

from __future__ import annotations

from collections import Counter

from tests.badinput.corpus import CATEGORIES, load

REQUIRED = {
    "search": {"query", "outcome", "says"},
    "identity": {"field", "says"},
    "visit_forms": {"kind", "field", "says"},
    "config": {"says"},
    "cli": {"argv", "status", "says"},
    "agency": {"agency", "ask", "reply", "status", "says"},
    "import": {"says"},
}
REPEATED = {"query": "query_repeat", "argv": "argv_repeat"}


def test_every_category_has_cases_and_there_are_at_least_two_hundred():
    sizes = {category: len(load(category)) for category in CATEGORIES}
    assert all(size >= 20 for size in sizes.values()), sizes
    assert sum(sizes.values()) >= 200


def test_every_case_has_a_unique_id_and_its_keys():
    ids = Counter(case["id"] for category in CATEGORIES for case in load(category))
    assert [i for i, n in ids.items() if n > 1] == []
    for category in CATEGORIES:
        for case in load(category):
            keys = set(case) | {key for key, repeated in REPEATED.items() if repeated in case}
            assert REQUIRED[category] <= keys, (category, case["id"])
            assert case["says"], (category, case["id"])
