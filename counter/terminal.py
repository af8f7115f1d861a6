"""What the administrators' commands print: external text never reaches a terminal raw.

A login, a name or an agency's error may hold ESC or OSC 52 (which can write
the administrator's clipboard); everything printed goes through
counter.domain.text.shown_lines.
"""

from __future__ import annotations

import errno
import sys

from counter.domain.text import MAX_SHOWN, shown_lines


class OutputFailed(BaseException):
    """Standard output cannot be written (`> /dev/full`, a full disk, the reader of a
    pipe gone): the command stops there and counter.cli.main says so in one line.
    A BaseException, as KeyboardInterrupt is, so that no command's ``except
    Exception`` reports it as a database error."""

    def __init__(self, error: OSError) -> None:
        super().__init__(error)
        self.error = error


def echo(message: object = "", *, err: bool = False, limit: int | None = MAX_SHOWN) -> None:
    """Print one message (line breaks kept), each line made safe and cut to ``limit``."""
    stream = sys.stderr if err else sys.stdout
    if stream is None and not err:  # started with stdout closed (`counter … >&-`)
        raise OutputFailed(OSError(errno.EBADF, "it is closed"))
    try:
        print(shown_lines(str(message), limit), file=stream)
    except OSError as exc:
        if err:
            raise
        raise OutputFailed(exc) from None


NO_TERMINAL = ("Le guichet a besoin d'un terminal : lancez « counter » dans une session (console ou SSH), "
               "sans rediriger son entrée ni ses sorties.")


class NoTerminal(Exception):
    """The counter's screens were asked for where there is no terminal (the message is French)."""

    def __init__(self) -> None:
        super().__init__(NO_TERMINAL)


def has_terminal() -> bool:
    """Are stdin, stdout and stderr all a terminal? Textual reads keys from stdin and
    draws on stderr; without a terminal it spins on an input at its end (`</dev/null`)
    and writes escape codes into a pipe or a journal."""
    import os

    def tty(stream) -> bool:
        try:
            return stream is not None and os.isatty(stream.fileno())
        except (OSError, ValueError):  # closed, or not a file at all
            return False

    return all(tty(stream) for stream in (sys.__stdin__, sys.__stdout__, sys.__stderr__))


def first_line(exc: BaseException) -> str:
    """An exception's first non-blank line, for a one-line message ('' when it says nothing)."""
    return next((line.strip() for line in str(exc).splitlines() if line.strip()), "")
