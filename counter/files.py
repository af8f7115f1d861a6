"""Files the counter writes under its data directory or for administrators."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


@contextmanager
def atomic_file(path: Path, mode: int, *, text: bool = False) -> Iterator[IO]:
    """A file written beside ``path`` and renamed over it once complete: a crash
    or an error never leaves half a file. ``mode`` is set explicitly (personal
    data: the umask must neither widen nor narrow it)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        kwargs = {"encoding": "utf-8", "newline": ""} if text else {}
        with os.fdopen(fd, "w" if text else "wb", **kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def write_atomically(path: Path, data: bytes, mode: int) -> None:
    with atomic_file(path, mode) as handle:
        handle.write(data)


class UnreadableFile(Exception):
    """A text file an administrator or trainer gave us cannot be read; the
    message names the file and says why (English, for the CLI)."""


def read_small_text(path: Path, what: str, max_bytes: int) -> str:
    """The UTF-8 text of ``path``, read at most ``max_bytes`` (capped: /dev/zero is
    not a configuration file); ``what`` names it in messages ("the script")."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(max_bytes + 1)
    except OSError as exc:
        raise UnreadableFile(f"{path}: cannot read {what} ({exc.strerror or type(exc).__name__})") from None
    if len(raw) > max_bytes:
        raise UnreadableFile(f"{path}: {what} is larger than {max_bytes // 1024} KiB")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UnreadableFile(f"{path}: {what} is not UTF-8 text") from None
