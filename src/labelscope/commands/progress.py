"""A progress line on stderr for long commands: counts, rate and ETA.

On a terminal the line is redrawn in place (at most ten times a second); otherwise (CI logs,
pipes) a line is printed every ``every`` seconds and at the end.
"""
from __future__ import annotations

import sys
import time
from typing import TextIO

from ..jobs import report


class ProgressLine:
    """``callback(done, total)`` for ``scan_dataset(progress=...)`` and the like.

    The rate counts only work done since the first call (images already cached at the start
    are not part of it), so the ETA is honest for an incremental scan.
    """

    def __init__(self, verb: str = "scanned", *, stream: TextIO | None = None, every: float = 5.0):
        self.verb = verb
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.every = 0.1 if self.tty else every
        self.start: float | None = None
        self.done0 = 0
        self.last = 0.0
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        report(self.verb, done, total)  # the progress file, inside a background job
        now = time.perf_counter()
        if self.start is None:
            self.start, self.done0 = now, done
        if done < total and now - self.last < self.every:
            return
        self.last = now
        self.stream.write(("\r" if self.tty else "") + self.text(done, total, now) + ("" if self.tty else "\n"))
        self.stream.flush()
        self.shown = True

    def text(self, done: int, total: int, now: float) -> str:
        elapsed = now - (self.start or now)
        work = done - self.done0
        rate = work / elapsed if elapsed > 0 and work > 0 else 0.0
        eta = f"ETA {format_seconds((total - done) / rate)}" if rate and done < total else f"{format_seconds(elapsed)}"
        cached = f", {self.done0} cached" if self.done0 else ""
        pct = 100.0 * done / total if total else 100.0
        return f"{self.verb} {done}/{total} ({pct:.0f}%{cached}) {rate:.1f} img/s {eta}   "

    def close(self) -> None:
        if self.tty and self.shown:
            self.stream.write("\n")
            self.stream.flush()


def format_seconds(s: float) -> str:
    s = int(round(s))
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"
