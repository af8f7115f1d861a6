import pytest
from hypothesis import given
from hypothesis import strategies as st

from counter.domain.phonetic import phonetic_key
from counter.domain.typos import deletes, within_one_edit


@pytest.mark.parametrize(
    "a, b",
    [
        ("lefebvre", "lefevre"),
        ("gerome", "jerome"),
        ("rousseau", "roussot"),
        ("thomas", "tomas"),
        ("laurent", "loran"),
        ("philippe", "filipe"),
        ("morel", "maurel"),
        ("christophe", "kristof"),
        ("dupont", "dupond"),
        ("lemaire", "lemerre"),
        ("martin", "martain"),
    ],
)
def test_names_pronounced_alike_share_a_key(a, b):
    assert phonetic_key(a) == phonetic_key(b)


@pytest.mark.parametrize(
    "a, b",
    [("martin", "marin"), ("roux", "rouge"), ("leon", "leo"), ("simon", "simone"), ("jean", "jeanne")],
)
def test_names_pronounced_differently_do_not(a, b):
    assert phonetic_key(a) != phonetic_key(b)


@pytest.mark.parametrize(
    "typed, name",
    [
        ("lefbvre", "lefebvre"),  # a letter missing
        ("leffebvre", "lefebvre"),  # a letter added
        ("lefebvte", "lefebvre"),  # a letter changed
        ("lefbevre", "lefebvre"),  # two letters swapped
    ],
)
def test_one_typo_is_within_one_edit(typed, name):
    assert within_one_edit(typed, name)
    assert (deletes(typed) | {typed}) & (deletes(name) | {name})


def test_two_typos_are_not():
    assert not within_one_edit("lfbvre", "lefebvre")
    assert not within_one_edit("xabc", "abcy")


def _reference_distance(a: str, b: str) -> int:
    """Optimal string alignment distance, written plainly as the oracle."""
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


@given(st.text("abcde", max_size=7), st.text("abcde", max_size=7))
def test_within_one_edit_agrees_with_the_edit_distance(a, b):
    assert within_one_edit(a, b) == (_reference_distance(a, b) <= 1)


@given(st.text("abcdef", min_size=2, max_size=8), st.text("abcdef", min_size=2, max_size=8))
def test_every_one_edit_pair_shares_a_delete_variant(a, b):
    # The index relies on this to find typo candidates without scanning.
    if within_one_edit(a, b) and a != b:
        assert (deletes(a) | {a}) & (deletes(b) | {b})
