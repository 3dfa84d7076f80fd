"""A one-line terminal progress bar: trials done / running / failed, best reward, time left."""
from __future__ import annotations

import sys
import time
from typing import TextIO


def _clock(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class Progress:
    """Redraws in place on a terminal; elsewhere prints a line when a trial finishes."""

    def __init__(self, total: int, stream: TextIO | None = None, enabled: bool = True, width: int = 24):
        self.total = total
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.width = width
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.start = time.monotonic()
        self.start_finished: int | None = None  # trials already finished when this session began
        self._last = ""

    def line(self, done: int, running: int, failed: int, best: float | None, waiting: int = 0) -> str:
        """`waiting`: trials of an early-stopped run waiting at a rung (shown when there are any)."""
        finished = done + failed
        if self.start_finished is None:
            self.start_finished = finished
        elapsed = time.monotonic() - self.start
        fresh = finished - self.start_finished
        left = self.total - finished
        eta = _clock(elapsed / fresh * left) if fresh > 0 else "--:--"
        fill = int(self.width * finished / max(self.total, 1))
        bar = "#" * fill + "-" * (self.width - fill)
        best_s = f"{best:.4f}" if best is not None else "-"
        return (f"[{bar}] {finished}/{self.total}  done {done}  running {running}  "
                + (f"waiting {waiting}  " if waiting else "") + f"failed {failed}  "
                f"best {best_s}  elapsed {_clock(elapsed)}  left {eta}")

    def update(self, done: int, running: int, failed: int, best: float | None, waiting: int = 0) -> None:
        if not self.enabled:
            return
        text = self.line(done, running, failed, best, waiting)
        if self.tty:
            self._write("\r" + text.ljust(len(self._last)))
        elif text.split("elapsed")[0] != self._last.split("elapsed")[0]:
            self._write(text + "\n")
        self._last = text

    def close(self) -> None:
        if self.enabled and self.tty:
            self._write("\n")

    def _write(self, text: str) -> None:
        """Draw; a terminal that is gone (closed: EIO; a closed pipe) turns the bar off, so that what
        stopped the run, not the bar, is what the driver reports."""
        try:
            self.stream.write(text)
            self.stream.flush()
        except OSError:
            self.enabled = False
