"""The CLI's progress bar: drawn on a terminal only, after a moment, counts only."""

from __future__ import annotations

import io
import os

from counter.progress import DELAY_S, ProgressBar


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_on_a_terminal_the_bar_is_drawn_after_a_moment_and_cleared():
    reader, writer = os.openpty()
    try:
        stream = os.fdopen(writer, "w", closefd=False)
        clock = Clock()
        bar = ProgressBar("importing families", stream, clock)
        bar(10, 100)
        clock.now += DELAY_S + 0.01
        bar(50, 100_000)
        bar(100_000, 100_000)
        bar.close()
        stream.flush()
        os.close(writer)
        writer = None
        drawn = _everything(reader).decode()
    finally:
        os.close(reader)
        if writer is not None:
            os.close(writer)
    assert "10/100" not in drawn  # the first half second: nothing
    assert "[" + " " * 30 + "]   0%  50/100,000" in drawn
    assert "[" + "#" * 30 + "] 100%  100,000/100,000" in drawn
    assert drawn.endswith("\r")  # cleared: what follows starts a clean line


def _everything(reader: int) -> bytes:
    """All the terminal received: one read may return part of it; once the other
    side is closed, Linux answers the rest, then EIO."""
    chunks = []
    while True:
        try:
            chunk = os.read(reader, 4096)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def test_in_a_pipe_or_a_file_nothing_is_written():
    stream = io.StringIO()
    clock = Clock()
    bar = ProgressBar("importing families", stream, clock)
    clock.now += 10
    bar(5, 10)
    bar.close()
    assert stream.getvalue() == ""
