"""A reader that goes away (`nasdsl train ... | head`, a closed log pipe) silences a command; it
does not stop it. The work of train and search is their files: a training used to end at its next
line, exit 0, with no weights written, and a search without its report."""
from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator


class _Silenceable:
    """A text stream that, the first time writing to it fails with EPIPE, is pointed at /dev/null,
    so that what the command still says goes nowhere and everything else goes on."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._silence()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._silence()

    def _silence(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        with contextlib.suppress(OSError, ValueError):
            self._stream.flush()  # what was buffered goes to /dev/null now

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


@contextlib.contextmanager
def silenced_when_unread() -> Iterator[None]:
    """sys.stdout and sys.stderr as `_Silenceable` streams while a command runs."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Silenceable(sys.stdout), _Silenceable(sys.stderr)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
