"""One driver per run folder: an exclusive `fcntl` lock on DIR/driver.lock, held for the driver's
life (a `nasdsl search` or a `nasdsl train --out`). The kernel drops it when the holder dies (even by
`kill -9`), so a dead holder's lock is simply taken over; the file records the holder's command, pid
and host for the message a second driver gets."""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from pathlib import Path

from nasdsl.errors import NasError

LOCK_NAME = "driver.lock"


class RunLock:
    """Take the folder's lock or raise NasError naming the driver that holds it; `command` (search,
    train) is what this driver is, for that message."""

    def __init__(self, folder: str | Path, command: str = "search"):
        self.path = Path(folder) / LOCK_NAME
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = _holder(fd)
            os.close(fd)
            who = f"pid {holder.get('pid', '?')} on host {holder.get('host', '?')}"
            raise NasError(f"{folder}: another nasdsl process ({holder.get('command', 'search')}, {who}) "
                           "is using this run folder; wait for it to end or stop it first") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"command": command, "pid": os.getpid(), "host": socket.gethostname(),
                                  "since": time.time()}).encode() + b"\n", 0)
        self._fd: int | None = fd

    def fileno(self) -> int:
        """The locked descriptor: a child given it (`pass_fds`) holds the lock too, till it ends."""
        return self._fd

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing the descriptor drops the lock
            self._fd = None


def check_run_folder(folder: str | Path) -> Path:
    """NasError if `folder` names something that is not a directory (before any work is done)."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise NasError(f"{folder}: not a directory (the run folder: a new or an existing directory)")
    return folder


def lock_run_folder(folder: str | Path, command: str = "search") -> RunLock:
    """Create the run folder if needed and take its lock for `command` (NasError if it is a file,
    cannot be made, or another driver holds it)."""
    folder = check_run_folder(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise NasError(f"{folder}: cannot create the run folder: {e.strerror or e}") from None
    return RunLock(folder, command)


def _holder(fd: int) -> dict:
    try:
        return json.loads(os.pread(fd, 4096, 0) or b"{}")
    except (OSError, ValueError):
        return {}


def driver_alive(folder: str | Path) -> bool:
    """Whether a live driver holds the folder's lock (False for a run whose driver is gone)."""
    path = Path(folder) / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False
