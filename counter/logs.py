"""Rotating log files under the data directory.

Log lines say what the program did, never whom it concerned: no names, no
queries, no identifiers of persons, no secrets.
"""

from __future__ import annotations

import logging
import os
import traceback
from logging.handlers import RotatingFileHandler
from pathlib import Path

from counter.files import FILE_MODE, private_dir

MAX_BYTES = 1_000_000
BACKUPS = 5


class WithholdingFormatter(logging.Formatter):
    """Tracebacks keep their frames but not their exceptions' messages.

    A database error's message can quote the row it refused (PostgreSQL's
    ``Key (nir)=(…) already exists``); the type and the code path are enough
    to diagnose, and carry no one's data.
    """

    def formatException(self, ei) -> str:  # noqa: N802 (logging's name)
        blocks = []
        exc = ei[1]
        while exc is not None:
            frames = "".join(traceback.format_list(traceback.extract_tb(exc.__traceback__))).rstrip()
            kind = type(exc)
            blocks.append(
                f"Traceback (most recent call last):\n{frames}\n"
                f"{kind.__module__}.{kind.__qualname__}: (message withheld)"
            )
            exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
        # Innermost first, as Python prints chained exceptions.
        return "\n\nwhich led to:\n\n".join(reversed(blocks))


class PrivateRotatingFileHandler(RotatingFileHandler):
    """Each log file (the first, and the new one after each rotation) is created
    FILE_MODE whatever the umask: logs name no one, but say who worked when."""

    def _open(self):
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
        return open(fd, self.mode, encoding=self.encoding, errors=self.errors)


def setup_logging(log_dir: Path, name: str = "counter.log") -> Path | None:
    """Send the ``counter`` logger to ``log_dir/name``; None if not writable. The
    service logs to a file of its own (``service.log``): two processes must not
    rotate one file."""
    try:
        private_dir(log_dir)
        path = log_dir / name
        handler = PrivateRotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
    except OSError:
        return None
    handler.setFormatter(WithholdingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("counter")
    for old in logger.handlers:  # a second set-up (tests) must not leak file handles
        old.close()
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return path
