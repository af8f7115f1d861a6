"""How well a person matches the typed words: exact beats prefix beats near.

Each typed word is matched against the person's name tokens; the strengths add
up. Ties go to where the words matched, then the closest completions, then
alphabetical order (see docs/search.md).
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Sequence

from counter.domain.names import fold, name_parts, name_tokens
from counter.domain.phonetic import phonetic_key
from counter.domain.typos import MIN_TYPO_LENGTH, within_one_edit

# Phonetic keys of very short words match too much to be useful.
MIN_PHONETIC_LENGTH = 4


class Match(enum.IntEnum):
    NONE = 0
    NEAR = 1  # one typo away, or the same French pronunciation
    PREFIX = 2
    EXACT = 3


def is_near(word: str, token: str) -> bool:
    """A one-letter typo of a 5+ letter name, or a French phonetic match."""
    if len(token) >= MIN_TYPO_LENGTH and len(word) >= MIN_TYPO_LENGTH - 1:
        if within_one_edit(word, token):
            return True
    if len(word) >= MIN_PHONETIC_LENGTH and len(token) >= MIN_PHONETIC_LENGTH - 1:
        return phonetic_key(word) == phonetic_key(token)
    return False


def match_word(word: str, tokens: Sequence[str]) -> tuple[Match, int]:
    """Best match of one word among tokens, with the extra letters of a prefix match."""
    if word in tokens:
        return Match.EXACT, 0
    prefixed = [len(t) - len(word) for t in tokens if t.startswith(word)]
    if prefixed:
        return Match.PREFIX, min(prefixed)
    if any(is_near(word, t) for t in tokens):
        return Match.NEAR, 0
    return Match.NONE, 0


# Where a typed word matched, from the most to the least telling (lower is better).
DISPLAYED_SURNAME = 0  # the whole surname the person goes by (usage name, else birth name)
FIRST_GIVEN_NAME = 1  # the given name people use
OTHER_SURNAME = 2  # the birth name of someone who goes by another name
OTHER_GIVEN_NAME = 3
SURNAME_PART = 4  # one part of a compound surname (ROUX in BLANC ROUX)
NO_SURNAME = 5  # added when no word matched a surname at all


def rank_key(words: Sequence[str], birth_name: str, usage_name: str | None, given_names: Sequence[str]):
    """Sort key of a person for the typed words, or None when a word matches nothing.

    In order: match strength (exact > prefix > near); then where the words
    matched (see the constants above: ``roux j`` puts ROUX Jade before
    JOLY-ROUX née ROUX, and ``martin`` puts the MARTIN before someone whose
    given name is Martin); then the closest completion; then the name as shown.
    """
    flat, shown, given = _name_fields(birth_name, usage_name, tuple(given_names))
    strength = extra = cost = 0
    on_a_surname = False
    for word in words:
        match, more, where = _best(word, flat)
        if match is Match.NONE:
            return None
        strength += match
        extra += more
        cost += where
        on_a_surname = on_a_surname or where in (DISPLAYED_SURNAME, OTHER_SURNAME, SURNAME_PART)
    if words and not on_a_surname:
        cost += NO_SURNAME
    return (-strength, cost, extra, shown, given)


def _best(word: str, flat) -> tuple[Match, int, int]:
    """``match_word`` over all the fields, and the most telling field where the word
    matches that strongly, in one pass over the name's tokens in cost order (``flat``):
    the search ranks hundreds of candidates per keystroke."""
    size = len(word)
    prefix_at = None  # the cost of the first field where the word is a prefix
    extra = 0  # the fewest extra letters of a prefix match
    for cost, token in flat:
        if token.startswith(word):
            more = len(token) - size
            if not more:
                return Match.EXACT, 0, cost  # the first exact match is in the most telling field
            if prefix_at is None:
                prefix_at, extra = cost, more
            elif more < extra:
                extra = more
    if prefix_at is not None:
        return Match.PREFIX, extra, prefix_at
    for cost, token in flat:
        if is_near(word, token):
            return Match.NEAR, 0, cost  # the first near match is in the most telling field
    return Match.NONE, 0, NO_SURNAME


# A search ranks up to a few hundred candidates, mostly homonyms and common names
# met again at the next keystroke: their tokens are worked out once per process.
@functools.lru_cache(maxsize=65_536)
def _name_fields(birth_name: str, usage_name: str | None, given_names: tuple[str, ...]):
    """A name's tokens as (cost, token) pairs in cost order, and its sort strings."""
    shown_surname, other_surname, surname_parts, shown = _surname_fields(birth_name, usage_name)
    first_given, other_given, given = _given_fields(given_names)
    return shown_surname + first_given + other_surname + other_given + surname_parts, shown, given


# A person's fields are made of surnames and given names that recur far more
# than their combinations: each side is worked out once.
@functools.lru_cache(maxsize=65_536)
def _surname_fields(birth_name: str, usage_name: str | None):
    shown_surname = usage_name or birth_name
    other_surname = birth_name if usage_name and usage_name != birth_name else None
    tokens = name_tokens(shown_surname) + (name_tokens(other_surname) if other_surname else [])
    # Folding works letter by letter: the folded parts joined are the folded whole.
    shown = f"{fold(usage_name)} {fold(birth_name)}" if other_surname else fold(birth_name)
    return (
        ((DISPLAYED_SURNAME, "".join(name_parts(shown_surname))),),
        ((OTHER_SURNAME, "".join(name_parts(other_surname))),) if other_surname else (),
        tuple((SURNAME_PART, t) for t in tokens),
        shown,
    )


@functools.lru_cache(maxsize=65_536)
def _given_fields(given_names: tuple[str, ...]):
    first = tuple((FIRST_GIVEN_NAME, t) for t in name_tokens(given_names[0])) if given_names else ()
    others = tuple((OTHER_GIVEN_NAME, t) for g in given_names[1:] for t in name_tokens(g))
    return first, others, ", ".join(map(fold, given_names))
