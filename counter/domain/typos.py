"""One-letter typos: the deletion neighbourhood used to find near names.

Two words within one edit (a letter changed, added, removed, or two adjacent
letters swapped) share at least one "delete-one" variant. The index stores the
variants of its vocabulary, the query looks its own variants up, and every
candidate is then checked with :func:`within_one_edit`.
"""

from __future__ import annotations

# Names shorter than this are only matched exactly or as prefixes: a single
# typo in a four-letter name changes it too much to be a safe suggestion.
MIN_TYPO_LENGTH = 5


def deletes(word: str) -> set[str]:
    """Every string made by removing exactly one letter of ``word``."""
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def within_one_edit(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ by at most one edit (transposition included)."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diff = [i for i in range(la) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    if la > lb:
        a, b = b, a
    # b is one letter longer than a: a must be b with one letter removed.
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1 :]
