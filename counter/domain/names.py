"""Name folding and tokenisation shared by the index and the query parser.

Both sides of the search go through these functions, so the SQLite and the
PostgreSQL indexes see exactly the same ASCII tokens.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss"})
_SEPARATORS = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Lower-case, strip accents and ligatures: ``"Gérôme"`` → ``"gerome"``."""
    text = text.translate(_LIGATURES)
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return stripped.casefold()


@lru_cache(maxsize=65536)
def _parts(text: str) -> tuple[str, ...]:
    return tuple(p for p in _SEPARATORS.split(fold(text)) if p)


def name_parts(text: str) -> list[str]:
    """The alphanumeric parts of one name: ``"N'Diaye"`` → ``["n", "diaye"]``."""
    return list(_parts(text))


def name_tokens(text: str) -> list[str]:
    """Index tokens for one name field.

    Every part is a token, and a compound name is also indexed joined, so that
    ``de La Fontaine`` is found by ``fontaine``, ``de la fontaine`` and
    ``delafontaine``; ``Jean-Philippe`` by ``jean philippe`` and ``jean-philippe``.
    """
    parts = name_parts(text)
    if len(parts) > 1:
        return [*parts, "".join(parts)]
    return parts


def query_token(word: str) -> str:
    """One typed word as a search token: separators inside it are dropped.

    ``n'diaye`` and ``jean-ph`` become ``ndiaye`` and ``jeanph``, which the
    joined index tokens answer (exactly or as a prefix).
    """
    return "".join(name_parts(word))


# Hyphens (and the Unicode hyphens and en dash a keyboard or a paste may give).
_HYPHENS = re.compile("[-\u2010\u2011\u2013]")


def query_words(word: str) -> list[str]:
    """One typed word as search tokens: a hyphen splits it like a space.

    ``jean-pierre`` gives ``jean`` and ``pierre``, which find both Jean-Pierre
    (indexed ``jean``, ``pierre`` and ``jeanpierre``) and the given names
    Jean, Pierre; ``lefebvre-alexis`` finds Alexis LEFEBVRE. Apostrophes join:
    ``n'diaye`` stays ``ndiaye``.
    """
    return [token for part in _HYPHENS.split(word) if (token := query_token(part))]


def person_tokens(birth_name: str, usage_name: str | None, given_names: Iterable[str]) -> list[str]:
    """All index tokens of a person, de-duplicated, in a stable order."""
    seen: dict[str, None] = {}
    for field in (birth_name, usage_name or "", *given_names):
        for token in name_tokens(field):
            seen.setdefault(token, None)
    return list(seen)


def split_given_names(given_names: str) -> list[str]:
    """Given names are stored comma-separated, in civil-status order."""
    return [g.strip() for g in given_names.split(",") if g.strip()]


def join_given_names(names: Iterable[str]) -> str:
    return ", ".join(n.strip() for n in names if n.strip())
