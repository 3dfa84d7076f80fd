"""A stop signal lands between two bytecodes of whatever the driver runs, in its own bookkeeping or a
library's. Wherever it lands, the search stops as the signal says (exit 128 + N), the trials in
flight are marked, and the run folder resumes.

Each test runs `nasdsl search` in this process and calls the signal's installed handler from a
profile function at one chosen point where CPython runs pending signal handlers: a Python
function's start ("call") and just after a call into C returns ("c_return"; the interpreter checks
after every call). Deterministic where a real signal hits the same point once in hundreds of runs:
the closing terminal of test_reliability_signals.py met two such points in CI (exit 1, not 129).
(Line events would be wrong: a `with` block's normal end, for one, is never such a point.)
"""
from __future__ import annotations

import contextlib
import io
import random
import signal
import sqlite3
import sys
import threading
from pathlib import Path

import pytest

from nasdsl.cli.dispatch import main

SEARCH = ["search", "--reward", "synthetic", "--strategy", "random", "--quiet", "--workers", "2"]
TRIALS = 8
STOP = signal.SIGTERM  # never ignored by a test runner started under nohup (SIGHUP is)


class StopAt:
    """A profile function (main thread) that, once the multi-trial loop has started, calls the
    installed handler of STOP at the first "call" or "c_return" event for which `where(frame, event)`
    holds."""

    def __init__(self, where):
        self.where, self.armed, self.fired = where, False, None

    def __call__(self, frame, event, arg):
        if event == "call" and frame.f_code.co_name == "_loop" and frame.f_code.co_filename.endswith("driver.py"):
            self.armed = True
        handler = signal.getsignal(STOP)  # not a function once the command is over (the signal's default)
        if event in ("call", "c_return") and self.armed and self.fired is None and callable(handler) \
                and self.where(frame, event):
            self.fired = f"{event} {frame.f_code.co_filename}:{frame.f_lineno} {frame.f_code.co_name}"
            handler(STOP, frame)


def _search(run: Path, stop: StopAt | None = None, resume: bool = False) -> tuple[int, str]:
    err = io.StringIO()
    args = ["search", "--resume", "--quiet"] if resume else [*SEARCH, "--trials", str(TRIALS)]
    sys.setprofile(stop)
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            rc = main([*args, "--out", str(run)])
    finally:
        sys.setprofile(None)
    return rc, err.getvalue()


def _stops_cleanly(run: Path, stop: StopAt, may_finish: bool = False) -> None:
    """The search stopped at `stop`'s point says so, leaves no thread behind (a lock left taken in the
    pool's bookkeeping hangs its manager thread, and the command at exit), marks what was in flight,
    and resumes to the end."""
    before = set(threading.enumerate())
    rc, err = _search(run, stop)
    if may_finish and not stop.fired:  # a point counted in one run can lie beyond the end of another
        assert rc == 0, err
        return
    assert stop.fired, "the point was never reached"
    assert rc == 128 + STOP, (stop.fired, err)
    assert "Traceback" not in err and "internal error" not in err, (stop.fired, err)
    for thread in set(threading.enumerate()) - before:
        thread.join(10)
        assert not thread.is_alive(), (stop.fired, thread.name)
    db = sqlite3.connect(run / "trials.sqlite")
    try:
        running = db.execute("SELECT error FROM trials WHERE status = 'running'").fetchall()
    finally:
        db.close()
    assert all(f"interrupted by {STOP.name}" in (e or "") for (e,) in running), (stop.fired, running)
    rc, err = _search(run, resume=True)
    assert rc == 0, err
    db = sqlite3.connect(run / "trials.sqlite")
    try:
        assert db.execute("SELECT COUNT(*) FROM trials WHERE status = 'done'").fetchone()[0] == TRIALS
    finally:
        db.close()


@pytest.fixture(autouse=True)
def _short_trials(monkeypatch):
    monkeypatch.setenv("NASDSL_SYNTHETIC_SLEEP", "0.05")


def test_a_stop_inside_a_condition_wait_is_still_that_stop(tmp_path):
    """Once Condition.wait has released its lock (the C call inside Condition._release_save returned)
    and before its try block, the handler's exception leaves the lock released, and the `with` around
    the wait fails with "release unlocked lock": a RuntimeError that used to replace the stop (exit 3,
    or 1 once the closed terminal refused that line too)."""
    _stops_cleanly(tmp_path / "run", StopAt(lambda f, event: event == "c_return"
                                            and f.f_code is threading.Condition._release_save.__code__))


def test_a_stop_between_a_transactions_body_and_its_commit_waits_for_the_commit(tmp_path):
    """contextlib's __exit__ resumes the transaction's generator to COMMIT; a stop at its start used
    to leave the transaction open: its writes lost, and the next one (marking the trials in flight)
    refused with "cannot start a transaction within a transaction"."""
    def at_commit(frame, event) -> bool:
        gen = getattr(frame.f_locals.get("self"), "gen", None)
        return (event == "call" and frame.f_code is contextlib._GeneratorContextManager.__exit__.__code__
                and frame.f_locals.get("typ") is None and getattr(gen, "gi_code", None) is not None
                and gen.gi_code.co_name == "transaction")
    _stops_cleanly(tmp_path / "run", StopAt(at_commit))


@pytest.mark.slow
def test_a_stop_at_any_point_of_the_drivers_bookkeeping_stops_cleanly(tmp_path):
    """24 points drawn at random (seeded) from those a whole run's main thread passes (AfterPoints)."""
    counted = StopAt(AfterPoints(10**9))
    rc, err = _search(tmp_path / "counted", counted)
    assert rc == 0 and counted.fired is None, err
    for k, n in enumerate(sorted(random.Random(0).sample(range(counted.where.seen), 24))):
        _stops_cleanly(tmp_path / f"run{k}", StopAt(AfterPoints(n)), may_finish=True)


class AfterPoints:
    """Holds once `n` points have passed (counted in `seen`) in nasdsl's own modules and the standard
    library's threads, futures, queues and context managers."""
    FOCUS = ("nasdsl", "concurrent/futures", "multiprocessing", "threading.py", "contextlib.py", "queue.py")

    def __init__(self, n: int):
        self.n, self.seen = n, 0

    def __call__(self, frame, event) -> bool:
        self.seen += any(part in frame.f_code.co_filename for part in self.FOCUS)
        return self.seen > self.n


# -- the pieces, each on its own -------------------------------------------------------------------
def _send_stop() -> None:
    """STOP's installed handler, called as the interpreter would call it at this point."""
    signal.getsignal(STOP)(STOP, None)


def test_a_stop_inside_held_waits_for_the_end_of_the_block():
    from nasdsl_search.lifetime import Interrupted, held, stop_on_signals

    done = []
    with pytest.raises(Interrupted) as stop, stop_on_signals():
        with held():
            with held():
                _send_stop()
                done.append("inner")
            done.append("outer")  # the inner block's end does not raise: the outer one is not over
        done.append("after")
    assert done == ["inner", "outer"] and stop.value.code == 128 + STOP


def test_a_stop_point_takes_a_stop_that_came_in_its_held_block():
    from nasdsl_search.lifetime import Interrupted, held, stop_on_signals, stop_point

    steps = []
    with pytest.raises(Interrupted), stop_on_signals(), held():
        for step in range(3):
            stop_point()
            steps.append(step)
            if step == 1:
                _send_stop()
    assert steps == [0, 1]


def test_a_stop_swallowed_on_its_way_is_raised_at_the_next_stop_point_or_at_the_end():
    """Python ignores an exception raised in a finalizer ("Exception ignored in"): the handler's, when
    the signal lands while the garbage collector runs one."""
    from nasdsl_search.lifetime import Interrupted, stop_on_signals, stop_point

    def swallowed():
        with contextlib.suppress(KeyboardInterrupt):  # as a finalizer's caller does
            _send_stop()
    with pytest.raises(Interrupted), stop_on_signals():
        swallowed()
        stop_point()
        pytest.fail("the stop point let the swallowed stop pass")
    with pytest.raises(Interrupted), stop_on_signals():
        swallowed()


def test_an_error_that_comes_up_after_a_stop_is_that_stop():
    from nasdsl_search.lifetime import Interrupted, stop_on_signals

    with pytest.raises(Interrupted) as stop, stop_on_signals():
        with contextlib.suppress(KeyboardInterrupt):
            _send_stop()
        raise RuntimeError("release unlocked lock")
    assert isinstance(stop.value.__cause__, RuntimeError)
    with pytest.raises(RuntimeError), stop_on_signals():  # no stop: an error stays the error
        raise RuntimeError("a bug")


def test_a_closed_terminal_does_not_change_the_exit_status(monkeypatch, tmp_path):
    """Once the terminal is gone every write to it fails (EIO); the line that says why the command ends
    is lost, its exit status is not: 2 for a user mistake (it used to be 1, the failed print's)."""
    class Closed(io.StringIO):
        def write(self, text):
            raise OSError(5, "Input/output error")
    monkeypatch.setattr(sys, "stderr", Closed())
    assert main(["search", "--resume", "--out", str(tmp_path / "no-run")]) == 2
