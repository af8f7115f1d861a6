"""A progress bar on standard error for the administrators' long commands (imports, syncs).

Drawn only when standard error is a terminal, and only once the work has lasted
a moment: a pipe, a journal or a quick import gets no output at all from it.
Counts only, never what is being imported. No dependency.
"""

from __future__ import annotations

import os
import sys
import time

DELAY_S = 0.5  # quicker work shows no bar
EVERY_S = 0.1  # at most ten redraws a second
WIDTH = 30


class ProgressBar:
    def __init__(self, label: str, stream=None, clock=time.monotonic) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.clock = clock
        self.started = clock()
        self.last = 0.0
        self.drawn = 0  # characters on the line now
        try:
            self.enabled = self.stream is not None and os.isatty(self.stream.fileno())
        except (OSError, ValueError, AttributeError):
            self.enabled = False

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = self.clock()
        if now - self.started < DELAY_S or (now - self.last < EVERY_S and done < total):
            return
        self.last = now
        share = done / total if total else 1.0
        filled = int(share * WIDTH)
        text = f"\r{self.label} [{'#' * filled}{' ' * (WIDTH - filled)}] {share:4.0%}  {done:,}/{total:,}"
        self._write(text + " " * max(0, self.drawn - len(text)))
        self.drawn = len(text)

    def close(self) -> None:
        """Clear the bar's line (what follows is printed on a clean line)."""
        if self.enabled and self.drawn:
            self._write("\r" + " " * self.drawn + "\r")
            self.drawn = 0

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except OSError:
            self.enabled = False
