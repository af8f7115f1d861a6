"""Reading an administrator's CSV file safely: a regular file (or a pipe), never
more than a set number of bytes, decoded line by line with the number of the
line that is not text. Shared by the imports (``counter import …``).
"""

from __future__ import annotations

import codecs
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

_LONE_CR = re.compile(r"(?<=\r)(?!\n)")  # an old Mac line end: a line of its own, as in universal newlines
_SINGLE_BYTE = ("cp1252", "windows-1252", "latin-1", "latin1", "iso-8859-1", "iso-8859-15")


class ImportFileError(Exception):
    """The file cannot be imported; ``problems`` are ``(line number or 0, message)``, in line order."""

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


def open_input(path: Path, max_bytes: int, too_large: str):
    """The file, opened for reading: a regular file up to ``max_bytes``, or a pipe; a
    device (/dev/zero never ends), a directory or a socket is refused unopened."""
    try:
        status = os.stat(path)
        mode = status.st_mode
        if stat.S_ISREG(mode) and status.st_size > max_bytes:
            raise ImportFileError([(0, too_large)])
        if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):
            kind = ("a directory" if stat.S_ISDIR(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
                    else "a socket" if stat.S_ISSOCK(mode) else "not a file")
            raise ImportFileError([(0, f"{path} is {kind}, not a regular file: give the CSV file itself")])
        return open(path, "rb")
    except OSError as exc:
        raise ImportFileError([(0, f"cannot read {path}: {exc.strerror or exc}")]) from None


def text_lines(handle, max_bytes: int, too_large: str, encoding: str = "utf-8",
               not_text: str = "not UTF-8 text (save the file as CSV UTF-8)") -> Iterator[str]:
    """The file's lines as text, read as a stream: never more than ``max_bytes`` in all
    (ImportFileError beyond), never a line that is not text in ``encoding`` nor one
    holding a NUL byte (its number is said). A single-byte encoding (cp1252) decodes
    almost anything: a line that is valid UTF-8 with accents is refused as the wrong one."""
    codecs.lookup(encoding)  # LookupError for an unknown name: the caller checked it
    single_byte = codecs.lookup(encoding).name in {codecs.lookup(e).name for e in _SINGLE_BYTE}
    read = 0
    number = 0
    while raw := handle.readline(max_bytes + 1 - read):
        read += len(raw)
        if read > max_bytes:
            raise ImportFileError([(0, too_large)])
        number += 1
        if number == 1 and raw.startswith(codecs.BOM_UTF8):
            if single_byte:
                raise ImportFileError([(1, f"the file is UTF-8 (it starts with a UTF-8 mark), not {encoding}")])
            raw = raw[len(codecs.BOM_UTF8):]
        if b"\0" in raw:
            raise ImportFileError([(number, "binary data (a NUL byte): not a CSV text file")])
        if single_byte and not raw.isascii() and _is_utf8(raw):
            raise ImportFileError([(number, f"this line is UTF-8 text, not {encoding}: "
                                            "say encoding = \"utf-8\" in the mapping")])
        try:
            line = raw.decode(encoding)
        except UnicodeDecodeError:
            raise ImportFileError([(number, not_text)]) from None
        yield from (piece for piece in _LONE_CR.split(line) if piece)


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
