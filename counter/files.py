"""Files the counter writes under its data directory or for administrators."""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

# Personal data is never readable by other accounts: the owner writes, the
# owner's group (backups, a supervisor's account) may read, nobody else.
FILE_MODE = 0o640
DIR_MODE = 0o750
PRIVATE_UMASK = 0o027  # the bits FILE_MODE and DIR_MODE leave out


def restrict_umask() -> int:
    """Mask group write and everything for others in what this process creates
    (SQLite's database and its -wal, -shm, -journal; logs; anything a library
    creates), whatever umask the process was started with; a stricter umask stays.
    Returns the previous umask."""
    previous = os.umask(PRIVATE_UMASK)
    os.umask(previous | PRIVATE_UMASK)
    return previous


def private_dir(path: Path) -> None:
    """Create ``path`` and its missing parents, each DIR_MODE at most whatever the
    umask (``Path.mkdir(parents=True)`` gives the parents 0777 minus the umask).
    An existing directory is left as it is (`counter doctor` reports it)."""
    path = Path(path)
    missing = []
    folder = path
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, DIR_MODE)
        except FileExistsError:
            if not folder.is_dir():  # a dangling symbolic link
                raise
    if not path.is_dir():
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(path))


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
