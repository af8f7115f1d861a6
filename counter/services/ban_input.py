"""The BAN export's lines: counter.services.csv_input's capped, checked reading, through
gzip when the file is gzipped (found by its magic bytes, whatever its name). The cap
holds for what a gzip file unpacks to: a small bomb is refused as a large file."""

from __future__ import annotations

import gzip
import zlib
from contextlib import contextmanager
from pathlib import Path

from counter.services.csv_input import ImportFileError, open_input, text_lines

GZIP_MAGIC = b"\x1f\x8b"


@contextmanager
def ban_lines(path: Path, max_bytes: int, too_large: str):
    """The file's lines as text (an iterator), never more than ``max_bytes`` read or unpacked;
    a read error or a damaged gzip file half-way is an ImportFileError."""
    with open_input(path, max_bytes, too_large) as raw:
        try:
            handle = gzip.GzipFile(fileobj=raw, mode="rb") if raw.peek(2)[:2] == GZIP_MAGIC else raw
            yield text_lines(handle, max_bytes, too_large)
        except (gzip.BadGzipFile, EOFError, zlib.error):
            raise ImportFileError([(0, "a damaged gzip file (it ends early or is not gzip): "
                                       "download the export again")]) from None
        except OSError as exc:  # a disk, a network share
            raise ImportFileError([(0, f"cannot read {path}: {exc.strerror or exc}")]) from None
