"""What the administrators' commands print: external text never reaches a terminal raw.

A login, a name or an agency's error may hold ESC or OSC 52 (which can write
the administrator's clipboard); everything printed goes through
counter.domain.text.shown_lines.
"""

from __future__ import annotations

import sys

from counter.domain.text import MAX_SHOWN, shown_lines


def echo(message: object = "", *, err: bool = False, limit: int | None = MAX_SHOWN) -> None:
    """Print one message (line breaks kept), each line made safe and cut to ``limit``."""
    stream = sys.stderr if err else sys.stdout
    print(shown_lines(str(message), limit), file=stream)


def first_line(exc: BaseException) -> str:
    """An exception's first non-blank line, for a one-line message ('' when it says nothing)."""
    return next((line.strip() for line in str(exc).splitlines() if line.strip()), "")
