"""Process lifetime of a search: signals that stop the driver, and workers that die with it.

- `stop_on_signals()`: inside it SIGTERM and SIGHUP raise `Interrupted` like SIGINT raises
  KeyboardInterrupt, so the driver's cleanup runs (stop proposing, stop the workers, mark the
  trials in flight interrupted) and the command exits 128 + the signal number.
- `die_with_parent(pid)`: called first thing in every worker process; the kernel kills the worker
  when its parent dies (Linux PR_SET_PDEATHSIG), and a watchdog thread does the same elsewhere
  (or if the parent was already gone), within a second, even after `kill -9` of the driver.
"""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import multiprocessing.context
import os
import signal
import sys
import threading
import time
import types
from collections.abc import Iterator

PR_SET_PDEATHSIG = 1
WATCHDOG_PERIOD = 0.5  # seconds between two looks at the parent


class Interrupted(KeyboardInterrupt):
    """The driver was asked to stop by a signal; `code` is the exit status (128 + signal)."""

    def __init__(self, signum: int):
        self.signum = signum
        self.code = 128 + signum
        super().__init__(signal.Signals(signum).name)


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """SIGTERM and SIGHUP raise `Interrupted` (SIGINT raises it too, as a KeyboardInterrupt does
    already); a second signal during the cleanup is ignored. Outside the main thread (where Python
    cannot catch signals) this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    state = {"raised": False}

    def handler(signum, frame):
        if state["raised"]:
            return
        state["raised"] = True
        raise Interrupted(signum)

    sigs = [signal.SIGINT, signal.SIGTERM] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])
    before = {s: signal.getsignal(s) for s in sigs}
    for s in sigs:
        if s == signal.SIGINT and before[s] is not signal.default_int_handler:
            continue  # someone else (a notebook kernel, a test runner) owns Ctrl-C
        signal.signal(s, handler)
    try:
        yield
    finally:
        for s, h in before.items():
            signal.signal(s, h)


def die_with_parent(parent: int) -> None:
    """Make this process die when `parent` does (call it in a worker, right after it starts).
    The worker also ignores Ctrl-C: the driver decides when its workers stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the line above: nothing will tell us
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(WATCHDOG_PERIOD)
            if os.getppid() != parent:
                os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="nasdsl-parent-watchdog", daemon=True).start()


def kill_all(processes, grace: float = 2.0) -> None:
    """Terminate `processes` (multiprocessing.Process objects), then kill those still alive after `grace`."""
    processes = [p for p in processes if p is not None]
    for p in processes:
        with contextlib.suppress(Exception):
            p.terminate()
    deadline = time.time() + grace
    for p in processes:
        with contextlib.suppress(Exception):
            p.join(max(0.0, deadline - time.time()))
    for p in processes:
        with contextlib.suppress(Exception):
            if p.is_alive():
                p.kill()
                p.join(1.0)



class _WorkerProcess(multiprocessing.context.SpawnProcess):
    """A spawned worker that does not import the driver's `__main__` again: a worker needs only
    `search.trial`, so a script without an `if __name__ == "__main__":` guard, code read from stdin
    and a notebook all work (a plain spawned process would rerun the script, or fail to find it)."""

    @staticmethod
    def _Popen(process_obj):
        main = sys.modules.get("__main__")
        sys.modules["__main__"] = types.ModuleType("__main__")  # no __file__, no __spec__: nothing to rerun
        try:
            return multiprocessing.context.SpawnProcess._Popen(process_obj)
        finally:
            sys.modules["__main__"] = main


class _WorkerContext(multiprocessing.context.SpawnContext):
    Process = _WorkerProcess


def worker_context() -> multiprocessing.context.BaseContext:
    """The start method of the local pool: spawn, without re-importing the driver's `__main__`."""
    return _WorkerContext()
