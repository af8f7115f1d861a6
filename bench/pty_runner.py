"""Run a TUI in a pseudo-terminal and time what it writes, as a thin client sees it."""

from __future__ import annotations

import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import termios
import time
from dataclasses import dataclass, field

_ESCAPES = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")


def visible(data: bytes) -> str:
    """The text a person would read: escape sequences removed."""
    return _ESCAPES.sub(b"", data).decode("utf-8", "replace")


@dataclass
class PtySession:
    argv: list[str]
    env: dict[str, str]
    size: tuple[int, int] = (80, 24)
    output: bytearray = field(default_factory=bytearray)

    def __post_init__(self) -> None:
        self.master, slave = os.openpty()
        columns, rows = self.size
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            self.argv, stdin=slave, stdout=slave, stderr=slave, env=self.env,
            start_new_session=True, close_fds=True,
        )
        os.close(slave)

    def mark(self) -> int:
        """A position in the output, for ``read_until(…, since=)``."""
        return len(self.output)

    def read_until(self, text: str, timeout: float = 60.0, since: int = 0) -> float:
        """Seconds since start when ``text`` is first visible on the terminal (in what
        was written after ``since``)."""
        deadline = time.perf_counter() + timeout
        while text not in visible(bytes(self.output[since:])):
            remaining = deadline - time.perf_counter()
            if remaining <= 0 or self.process.poll() is not None:
                tail = visible(bytes(self.output))[-3000:]
                raise TimeoutError(f"{text!r} never appeared; screen tail: {tail!r}")
            ready, _, _ = select.select([self.master], [], [], min(remaining, 0.05))
            if ready:
                try:
                    self.output += os.read(self.master, 65536)
                except OSError:
                    break
        return time.perf_counter() - self.started

    def drain(self, quiet: float = 0.3, timeout: float = 10.0) -> int:
        """Read until the app has been silent for ``quiet`` seconds; bytes read."""
        before = len(self.output)
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            ready, _, _ = select.select([self.master], [], [], quiet)
            if not ready:
                break
            try:
                self.output += os.read(self.master, 65536)
            except OSError:
                break
        return len(self.output) - before

    def cpu_ticks(self) -> int:
        """User + system CPU time of the app's process so far, in clock ticks."""
        with open(f"/proc/{self.process.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])

    def settle(self, quiet: float = 0.3, timeout: float = 30.0) -> int:
        """Read until the app has written nothing and used (almost) no CPU for
        ``quiet`` seconds — its answer is complete, background work (a worker
        thread building the agencies) included; bytes read."""
        before = len(self.output)
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            ticks = self.cpu_ticks()
            if self.drain(quiet=quiet, timeout=timeout) == 0 and self.cpu_ticks() - ticks <= 1:
                break
        return len(self.output) - before

    def send_timed(self, data: bytes, timeout: float = 10.0) -> float:
        """Send ``data``; seconds until the app's first byte in answer (the
        bytes are kept in ``output``)."""
        sent = time.perf_counter()
        os.write(self.master, data)
        ready, _, _ = select.select([self.master], [], [], timeout)
        answered = time.perf_counter()
        if not ready:
            raise TimeoutError(f"no answer to {data!r} within {timeout} s")
        self.output += os.read(self.master, 65536)
        return answered - sent

    def peak_rss_kib(self) -> int:
        """The process's peak resident set (VmHWM), in KiB."""
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        raise RuntimeError("no VmHWM in /proc/<pid>/status")

    def screen_text(self) -> str:
        return visible(bytes(self.output))

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def close(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        os.close(self.master)
