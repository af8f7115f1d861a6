"""External text made safe to show: the one rule for screens, terminals and files.

Names and addresses come from agencies, files and keyboards; a terminal must
never receive their ESC, BEL or OSC sequences, nor their bidirectional
overrides and zero-width characters, as instructions, and a 10,000-character
name must not push a screen apart. :func:`shown` is that rule: every control,
bidi or invisible character becomes a visible placeholder (one character for
one, so positions in the text stay the same) and the text is cut to a length
that fits a few screen lines. Screens also show it as plain text, never as
markup; the CLI prints through :func:`shown_lines`.
"""

from __future__ import annotations

import unicodedata

PLACEHOLDER = "\N{REPLACEMENT CHARACTER}"
ELLIPSIS = "…"
# One piece of external text (a name, an address, an agency's message) on a
# screen or a terminal line: at most four lines at 80 columns. Legitimate
# values are far shorter (names: 120 characters in the database).
MAX_SHOWN = 300

_BIDI_AND_INVISIBLE = frozenset({
    "\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u2060", "\ufeff",
    "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",
    "\u2066", "\u2067", "\u2068", "\u2069",
})
# Controls (C0, DEL, C1), format characters (bidi, zero-width, soft hyphen, tags),
# lone surrogates, private use, and the line and paragraph separators.
_REPLACED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})


def _replaced(char: str) -> bool:
    return char in _BIDI_AND_INVISIBLE or unicodedata.category(char) in _REPLACED_CATEGORIES


def printable(text: str) -> str:
    """Replace control, bidi-override and zero-width characters with '�', one for one."""
    if text.isprintable():
        return text
    return "".join(PLACEHOLDER if _replaced(char) else char for char in text)


def has_controls(text: str) -> bool:
    """True when ``text`` holds a character :func:`printable` would replace, or the
    placeholder that replaced one (a field never stores either)."""
    return PLACEHOLDER in text or printable(text) != text


def clip(text: str, limit: int | None = MAX_SHOWN) -> str:
    """``text`` cut to ``limit`` characters, the cut shown by '…'."""
    if limit is None or len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)] + ELLIPSIS


def shown(value: object, limit: int | None = MAX_SHOWN) -> str:
    """One piece of external text as it may be shown: printable, at most ``limit`` characters."""
    text = "" if value is None else str(value)
    return clip(printable(text), limit)


def shown_lines(text: str, limit: int | None = MAX_SHOWN) -> str:
    """Several lines for a terminal: each line made safe by :func:`shown`, line breaks kept."""
    return "\n".join(shown(line, limit) for line in str(text).split("\n"))


_FORMULA_STARTS = ("=", "+", "-", "@")


def spreadsheet_cell(text: str) -> str:
    """A CSV cell that a spreadsheet shows as text: made printable, and a leading
    ``=``, ``+``, ``-`` or ``@`` (a formula to Excel or LibreOffice) escaped with an apostrophe."""
    text = printable(text)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text
