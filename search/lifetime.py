"""Process lifetime of a search: signals that stop the driver, and workers that die with it.

- `stop_on_signals()`: inside it SIGTERM and SIGHUP raise `Interrupted` like SIGINT raises
  KeyboardInterrupt, so the driver's cleanup runs (stop proposing, stop the workers, mark the
  trials in flight interrupted) and the command exits 128 + the signal number.
- `held()`: a block a stop signal does not break into (a store transaction; the multi-trial loop,
  which takes it between two steps at `stop_point()`): the signal is raised when the block ends.
  Anywhere else it can land mid-way through a library's bookkeeping (a lock acquired and never
  released; threading.Condition.wait failing with "release unlocked lock"), so an error that comes up
  after a stop signal is reported as that stop (`as_stop`).
- `interruptible`: a driver's `run` method (multi-trial or one-shot) under `stop_on_signals`,
  marking its store's trials in flight; `stopped()`: what the command then prints and exits with.
- `die_with_parent(pid)`: called first thing in every worker process; the kernel kills the worker
  when its parent dies (Linux PR_SET_PDEATHSIG), and a watchdog thread does the same elsewhere
  (or if the parent was already gone), within a second, even after `kill -9` of the driver.
  `tie_to_parent`: the death signal and the check that the parent is still there, for processes
  that end in their own way (`nasdsl train`'s children and torchrun's ranks).
- `Deadline`: a run's wall-time budget (`--minutes`), after which a driver starts nothing new.
- `Guardian`: for processes that are not our children and set no death signal of
  their own in time (a local Ray cluster's raylet, its workers while they are still starting): they
  carry a token in their environment, and a small guardian process kills every process that holds
  it as soon as the driver is gone, however it went.
"""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import multiprocessing.context
import os
import select
import signal
import subprocess
import sys
import threading
import time
import types
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

PR_SET_PDEATHSIG = 1
WATCHDOG_PERIOD = 0.5  # seconds between two looks at the parent


class Interrupted(KeyboardInterrupt):
    """The driver was asked to stop by a signal; `code` is the exit status (128 + signal)."""

    def __init__(self, signum: int):
        self.signum = signum
        self.code = 128 + signum
        super().__init__(signal.Signals(signum).name)


_handling = False  # stop_on_signals is active: a nested one leaves the outer handler in place
_installed: dict[int, Callable] = {}  # signal -> the handler stop_on_signals put there, while it is active
_received: list[int] = []  # the signal that stopped the command (a library may pass ours on as a plain KeyboardInterrupt)
_holding = 0  # how many held() blocks the main thread is in
_deferred: list[int] = []  # a stop signal that came during held(), raised when the block ends
_taken: list[int] = []  # not empty once the stop has reached the command's own code (as_stop, stopped)


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """SIGTERM and SIGHUP raise `Interrupted` (SIGINT raises it too, as a KeyboardInterrupt does
    already); a second signal during the cleanup is ignored. A signal this process was started
    ignoring stays ignored (`nohup` ignores SIGHUP, a shell's background job SIGINT). Outside the
    main thread (where Python cannot catch signals), or inside another stop_on_signals (a command
    that covers opening its run as well as running it), this does nothing.
    A stop that never reached the command's code (the handler's exception swallowed where Python
    ignores exceptions: a finalizer run by the garbage collector) is raised at the next
    `stop_point()`, or when the block ends."""
    global _handling
    if threading.current_thread() is not threading.main_thread() or _handling:
        yield
        return
    state = {"raised": False}

    def handler(signum, frame):
        if state["raised"]:
            return
        state["raised"] = True
        _received.append(signum)
        if _holding:
            _deferred.append(signum)
            return
        raise Interrupted(signum)

    sigs = [signal.SIGINT, signal.SIGTERM] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])
    before = {s: signal.getsignal(s) for s in sigs}
    for s in sigs:
        if before[s] is signal.SIG_IGN:
            continue
        if s == signal.SIGINT and before[s] is not signal.default_int_handler:
            continue  # someone else (a notebook kernel, a test runner) owns Ctrl-C
        signal.signal(s, handler)
        _installed[s] = handler
    _handling = True
    for kept in (_received, _deferred, _taken):
        kept.clear()
    try:
        yield
        if _received and not _taken:  # swallowed on its way
            raise Interrupted(_received[0])
    except Exception as e:  # an error the stop caused (a KeyboardInterrupt is the stop itself)
        stop = as_stop(e)
        if stop is None:
            raise
        raise stop from e
    finally:
        _handling = False
        _installed.clear()
        for s, h in before.items():
            signal.signal(s, h)


@contextlib.contextmanager
def held() -> Iterator[None]:
    """A stop signal that comes inside the block is raised when the block ends (with what the block
    raised as its context), so that the block is never left half done: a store transaction is
    committed or rolled back, never left open. Main thread only (where the handler runs). The stop
    waits for the block: keep it short, or call `stop_point()` in it where its work is whole."""
    global _holding
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _holding += 1
    try:
        yield
    finally:
        _holding -= 1
        if not _holding and _deferred:
            raise Interrupted(_deferred.pop())


def stop_point() -> None:
    """Where a held() block takes a stop signal that came during it (the work before is whole), and
    where any loop of a driver takes one that was swallowed on its way (see stop_on_signals)."""
    if _handling and _received:
        _deferred.clear()
        raise Interrupted(_received[0])


def as_stop(e: BaseException) -> KeyboardInterrupt | None:
    """`e` as the stop it belongs to: `e` itself for a KeyboardInterrupt (Interrupted included); for
    any other error once a stop signal has come in stop_on_signals, an Interrupted for that signal
    (the handler's exception, raised mid-way through a library's bookkeeping, can come out as
    another error: threading.Condition.wait's "release unlocked lock"); None for a plain error.
    A stop returned here has reached the command's code (stop_on_signals raises it no more)."""
    if isinstance(e, KeyboardInterrupt):
        stop = e
    elif isinstance(e, Exception) and _handling and _received:
        stop = Interrupted(_received[0])
    else:
        return None
    _taken.append(_signum(stop))
    return stop


def reclaim_signals() -> None:
    """Put stop_on_signals's handlers back after a library replaced them: ray.init sets a SIGTERM
    handler of its own (sys.exit), and its C++ core one that dumps a stack and aborts."""
    for s, h in _installed.items():
        signal.signal(s, h)


def _signum(e: KeyboardInterrupt) -> int:
    """The signal that stopped the driver: `e`'s own, else the one our handler received (ray.wait
    turns the handler's Interrupted into a plain KeyboardInterrupt), else Ctrl-C."""
    if isinstance(e, Interrupted):
        return e.signum
    return _received[0] if _received else signal.SIGINT


def signal_name(e: KeyboardInterrupt) -> str:
    """SIGTERM, SIGHUP or SIGINT: what stopped the driver."""
    return signal.Signals(_signum(e)).name


def interruptible(run):
    """A driver's `run` under `stop_on_signals`: SIGINT, SIGTERM and SIGHUP stop it (its own
    `finally` blocks stop the workers), the trials still running in `self.store` are marked
    interrupted, and the exception goes on up to the command (see `stopped`)."""
    @functools.wraps(run)
    def wrapper(self, *args, **kwargs):
        with stop_on_signals():
            try:
                return run(self, *args, **kwargs)
            except BaseException as e:
                stop = as_stop(e)
                if stop is None:
                    raise
                self.store.mark_interrupted(f"interrupted by {signal_name(stop)}; --resume runs it again")
                if stop is e:
                    raise
                raise stop from e
    return wrapper


def resume_command(folder: str | Path, command: str = "search", flags: str = "") -> str:
    """The command line that continues the run in `folder` (`flags`: more of it, e.g. " --nproc 2")."""
    return f"nasdsl {command} --resume --out {folder}{flags}"


def stopped(e: KeyboardInterrupt, folder: str | Path | None, kept: str, command: str = "search",
            flags: str = "") -> int:
    """Say on stderr what stopped the run, what was kept, how to continue (`folder`: the run folder
    `nasdsl COMMAND --resume` continues, None when there is none yet; `flags`: more of that command
    line); the exit status (128 + signal)."""
    _taken.append(_signum(e))
    resume = f" Continue with:\n  {resume_command(folder, command, flags)}" if folder is not None else ""
    with contextlib.suppress(OSError):  # the terminal that closed (SIGHUP) takes no more lines
        print(f"\nstopped by {signal_name(e)}; {kept}.{resume}", file=sys.stderr)
    return 128 + _signum(e)


class Deadline:
    """`minutes` of wall time from now; None is no budget."""

    def __init__(self, minutes: float | None):
        self.at = None if minutes is None else time.time() + 60 * minutes

    def passed(self) -> bool:
        return self.at is not None and time.time() >= self.at


def death_signal(sig: int) -> Callable[[], None]:
    """What asks the kernel to send `sig` to the calling process when its parent dies, even by
    `kill -9` (Linux PR_SET_PDEATHSIG; elsewhere nothing), looked up now (a preexec_fn loads nothing)."""
    if not sys.platform.startswith("linux"):
        return lambda: None
    try:
        prctl = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True).prctl
    except (OSError, AttributeError):
        return lambda: None
    return lambda: prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)


def tie_to_parent(parent: int, sig: int) -> Callable[[], bool]:
    """What asks for `sig` when the parent dies (`death_signal`, looked up now) and then says whether
    `parent` is still the parent: False when it died before the request, so that no signal will come
    and the caller must end by itself."""
    ask = death_signal(sig)

    def tie() -> bool:
        ask()
        return os.getppid() == parent
    return tie


def die_with_parent(parent: int) -> None:
    """Make this process die when `parent` does (call it in a worker, right after it starts).
    The worker also ignores Ctrl-C: the driver decides when its workers stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if not tie_to_parent(parent, signal.SIGKILL)():
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
    `nasdsl_search.trial`, so a script without an `if __name__ == "__main__":` guard, code read from stdin
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
    _start_resource_tracker()
    return _WorkerContext()


def _start_resource_tracker() -> None:
    """multiprocessing's resource tracker (spawned pools' locks register with it), started now with
    SIGHUP blocked. It ignores SIGINT and SIGTERM by itself but not SIGHUP, so a closing terminal
    killed it with the rest of the process group, and the pool's shutdown then printed a KeyError
    traceback per lock. The tracker inherits the mask; a SIGHUP meanwhile waits for this thread. It
    still ends with the driver: at the end of its pipe."""
    from multiprocessing import resource_tracker

    mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGHUP})
    try:
        resource_tracker.ensure_running()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


REAP_TOKEN = "NASDSL_REAP_TOKEN"  # the environment variable that marks a process for the guardian


class Guardian:
    """A small process that, when this one ends however it ends (its pipe closes), SIGTERMs every
    process carrying `REAP_TOKEN=token` in its environment, then SIGKILLs those still alive a few
    seconds later. Put the token in the environment of what must not outlive us; `release()` reaps
    now (after an orderly shutdown: only stragglers are left). Linux only (it reads /proc)."""

    def __init__(self):
        self.token = uuid.uuid4().hex
        self._proc = None
        if sys.platform.startswith("linux"):
            env = {k: v for k, v in os.environ.items() if k != REAP_TOKEN}
            root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
            # the write end of the pipe stays in this process only (not inheritable): EOF = we are gone
            self._proc = subprocess.Popen([sys.executable, "-c", "from nasdsl_search.lifetime import _guard; _guard()",
                                           self.token], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL, env=env, cwd=root, start_new_session=True)

    def release(self, wait: float = 10.0) -> None:
        if self._proc is not None:
            with contextlib.suppress(OSError):
                self._proc.stdin.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(wait)
            self._proc = None


def _processes() -> dict[int, tuple[int, bytes, bytes]]:
    """pid -> (parent pid, state, start time) of every process /proc shows."""
    out = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat", "rb") as f:
                    fields = f.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            out[int(d)] = (int(fields[1]), fields[0], fields[19])
    return out


def tagged(token: str) -> dict[int, bytes]:
    """Live processes (pid -> start time) that hold REAP_TOKEN=token in their environment, and their
    descendants (a process that rewrites its title, as Ray's agents do, may overwrite its environment)."""
    needle = f"{REAP_TOKEN}={token}".encode()
    procs = _processes()
    found = {}
    for pid in procs:
        if pid == os.getpid() or procs[pid][1] == b"Z":
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                if needle in f.read().split(b"\0"):
                    found[pid] = procs[pid][2]
        except OSError:
            continue
    grew = True
    while grew:
        grew = False
        for pid, (parent, state, started) in procs.items():
            if parent in found and pid not in found and state != b"Z":
                found[pid] = started
                grew = True
    return found


def _guard(grace: float = 5.0, period: float = 1.0) -> None:
    """The guardian process (see `Guardian`): remember the tagged processes once a `period` while
    stdin stays open (after the driver dies they may be reparented, or already renamed); at EOF,
    terminate them, then kill those still alive after `grace`."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in the terminal goes to the driver, not here
    token = sys.argv[1]
    known: dict[int, bytes] = {}
    fd = sys.stdin.fileno()
    while True:
        ready, _, _ = select.select([fd], [], [], period)
        if ready and not os.read(fd, 65536):
            break
        known.update(tagged(token))

    def alive() -> list[int]:
        procs = _processes()
        now = {**{p: t for p, t in known.items() if p in procs and procs[p][2] == t and procs[p][1] != b"Z"},
               **tagged(token)}
        return sorted(now)

    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 0.0)):
        for pid in alive():
            with contextlib.suppress(OSError):
                os.kill(pid, sig)
        deadline = time.time() + wait
        while alive() and time.time() < deadline:
            time.sleep(0.1)
