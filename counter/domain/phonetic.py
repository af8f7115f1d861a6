"""A French phonetic key for names, in the spirit of Soundex FR and Phonex.

Two spellings that a French speaker pronounces alike get the same key:
``lefebvre``/``lefevre``, ``gerome``/``jerome``, ``rousseau``/``roussot``,
``thomas``/``tomas``, ``laurent``/``loran``. It works on folded ASCII tokens
(see :func:`counter.domain.names.fold`). The rules are deliberately few: the
key only widens a search whose exact and prefix matches came up short.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Ordered rewrite rules on a folded token. Upper-case letters stand for sounds
# (A = "an", I = "in", O = "on", U = "ou", X = "ch", G = hard g) so that later
# rules do not rewrite them again; they stay upper-case in the key.
_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"[^a-z]", ""),
        (r"^h", ""),
        (r"ch(?=[rl])", "k"),
        (r"sch|sh|ch", "X"),
        (r"ph", "f"),
        (r"th", "t"),
        (r"gn", "ni"),
        (r"qu|q|ck", "k"),
        (r"gu(?=[eiy])", "G"),
        (r"g(?=[eiy])", "j"),
        (r"c(?=[eiy])", "s"),
        (r"c", "k"),
        (r"w", "v"),
        (r"y", "i"),
        (r"h", ""),
        (r"bv", "v"),
        (r"eau|au", "o"),
        (r"ou", "U"),
        (r"oi|oy", "wa"),
        (r"(?:ai|ei)(?![mn])", "e"),
        (r"(?:ain|ein|aim|in|im|un|um|yn)(?![aeiouy]|n|m)", "I"),
        (r"(?:an|am|en|em)(?![aeiouy]|n|m)", "A"),
        (r"(?:on|om)(?![aeiouy]|n|m)", "O"),
        (r"(?<=[aeiou])s(?=[aeiou])", "z"),
        (r"(?:er|ez|et)$", "e"),
        (r"(?<=.)[stdxzp]$", ""),
        (r"(?<=.)e$", ""),
        (r"(.)\1+", r"\1"),
    )
)


@lru_cache(maxsize=65536)  # names repeat: ranking asks for the same keys again and again
def phonetic_key(token: str) -> str:
    """The phonetic key of one folded name token ('' for an empty token)."""
    key = token
    for pattern, replacement in _RULES:
        key = pattern.sub(replacement, key)
    # A final silent letter may uncover another one ("laurents" → "lorAt").
    key = re.sub(r"(?<=.)[stdxz]$", "", key)
    return key.replace("G", "g")
