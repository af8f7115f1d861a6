"""Files the counter writes under its data directory or for administrators."""

from __future__ import annotations

import errno
import os
import stat
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


class NotRegularFile(OSError):
    """An output path holds something a rename must never replace (a symbolic link,
    a FIFO, a device, a directory…), or a directory option names something that is
    not a directory. ``what`` is the kind found ("symlink", "fifo", "device",
    "directory", "socket", "file"); ``strerror`` says it in English."""

    def __init__(self, path: Path, what: str, expected: str = "a regular file") -> None:
        super().__init__(errno.EEXIST, f"{KIND_NAMES[what]}, not {expected} (refused: nothing written)", str(path))
        self.what = what


KIND_NAMES = {"symlink": "a symbolic link", "fifo": "a FIFO", "device": "a device", "directory": "a directory",
              "socket": "a socket", "file": "a file"}


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "file"


def check_output(path: Path) -> None:
    """Raise NotRegularFile unless ``path`` is new or a regular file. A rename would
    turn a device (as root, /dev/full), a FIFO or a symbolic link into our file."""
    try:
        mode = os.lstat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):  # new (writing it says what is wrong with its folder)
        return
    if not stat.S_ISREG(mode):
        raise NotRegularFile(Path(path), _kind(mode))


def check_output_dir(path: Path) -> None:
    """Raise NotRegularFile unless ``path`` is new or a directory (a link to one is fine:
    each file written inside is checked by check_output)."""
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        if os.path.islink(path):  # dangling
            raise NotRegularFile(Path(path), "symlink", "a directory") from None
        return
    if not stat.S_ISDIR(mode):
        raise NotRegularFile(Path(path), _kind(mode), "a directory")


@contextmanager
def atomic_file(path: Path, mode: int, *, text: bool = False) -> Iterator[IO]:
    """A file written beside ``path`` and renamed over it once complete: a crash
    or an error never leaves half a file. ``mode`` is set explicitly (personal
    data: the umask must neither widen nor narrow it). Only a new path or a
    regular file is replaced (NotRegularFile otherwise, nothing written)."""
    check_output(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        kwargs = {"encoding": "utf-8", "newline": ""} if text else {}
        with os.fdopen(fd, "w" if text else "wb", **kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        check_output(path)  # again: it may have appeared while we wrote
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


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


class InvalidToml(UnreadableFile):
    """The file was read, but is not TOML (or nests deeper than the parser goes)."""

    def __init__(self, path: Path, detail: str) -> None:
        super().__init__(f"{path}: invalid TOML: {detail}")
        self.path, self.detail = path, detail


def read_toml(path: Path, what: str, max_bytes: int) -> dict:
    """The tables of a small TOML file an administrator or trainer gave us (a
    configuration, a mapping, a scenario, a script): read as ``read_small_text``
    reads it, then parsed. Every problem is an UnreadableFile naming the file and
    saying why; InvalidToml when the text is not TOML."""
    return parse_toml(read_small_text(path, what, max_bytes), path)


def parse_toml(text: str, path: Path) -> dict:
    """``text`` (the content of ``path``) parsed as TOML, or InvalidToml."""
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidToml(path, str(exc)) from None
    except RecursionError:  # tomllib reads nested arrays and inline tables recursively
        raise InvalidToml(path, "arrays or tables nested too deeply") from None
