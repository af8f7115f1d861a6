"""Reading an administrator's import file as a stream, under a byte cap.

Shared by the imports (carte scolaire, BAN addresses): a regular file larger
than the cap is refused before it is read; a pipe is read up to the cap; a
device (/dev/zero never ends), a directory or a socket is refused unopened;
a gzip file (found by its magic bytes, whatever its name) is read through,
its decompressed text under the same cap (a small bomb is refused too).
"""

from __future__ import annotations

import codecs
import gzip
import os
import re
import stat
import zlib
from contextlib import contextmanager
from pathlib import Path

GZIP_MAGIC = b"\x1f\x8b"
NOT_UTF8 = "not UTF-8 text (save the file as CSV UTF-8)"
_LONE_CR = re.compile(r"(?<=\r)(?!\n)")  # an old Mac line end: a line of its own, as in universal newlines


class ImportFileError(Exception):
    """The file cannot be imported; ``problems`` are ``(line number or 0, message)``, in line order."""

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


def _open(path: Path, max_bytes: int, too_large: str):
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


@contextmanager
def text_lines(path: Path, max_bytes: int, too_large: str, *, gzip_ok: bool = False):
    """The file's lines as text (an iterator), read as a stream: never more than
    ``max_bytes`` in all (ImportFileError ``too_large`` beyond), never a line that is
    not UTF-8 (its number is said). A read error half-way is an ImportFileError too."""
    with _open(path, max_bytes, too_large) as raw:
        handle = raw
        try:
            if gzip_ok and raw.peek(2)[:2] == GZIP_MAGIC:
                handle = gzip.GzipFile(fileobj=raw, mode="rb")
            yield _lines(handle, max_bytes, too_large)
        except (gzip.BadGzipFile, EOFError, zlib.error):
            raise ImportFileError([(0, "a damaged gzip file (it ends early or is not gzip): "
                                       "download the export again")]) from None
        except OSError as exc:  # a disk, a network share
            raise ImportFileError([(0, f"cannot read {path}: {exc.strerror or exc}")]) from None


def _lines(handle, max_bytes: int, too_large: str):
    read = 0
    number = 0
    while raw := handle.readline(max_bytes + 1 - read):
        read += len(raw)
        if read > max_bytes:
            raise ImportFileError([(0, too_large)])
        number += 1
        if number == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8):]
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ImportFileError([(number, NOT_UTF8)]) from None
        yield from (piece for piece in _LONE_CR.split(line) if piece)
