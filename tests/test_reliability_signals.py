"""Signals and process lifetime of `nasdsl search`, through the real CLI and real signals.

SIGTERM, SIGHUP and SIGINT stop the run, mark the trials in flight interrupted, print how to resume
and exit 128 + the signal; `kill -9` of the driver alone takes its pool workers (and the
processes of a local Ray cluster it started) down with it. The processes are found by a marker in
their environment, so a worker reparented to init is still found.
"""
from __future__ import annotations

import contextlib
import os
import pty
import select
import signal
import sqlite3
import sys
import time
from pathlib import Path

import pytest
from proc_helpers import (
    MARKER,
    as_in_a_terminal,
    child_env,
    cli,
    cmdline,
    finished,
    in_flight,
    marked,
    new_marker,
    reap,
    run_cli,
    wait_for,
    wait_gone,
)
from references import require

SEARCH = ["search", "--reward", "synthetic", "--strategy", "random", "--trials", "100000", "--quiet"]
SLOW_TRIALS = {"NASDSL_SYNTHETIC_SLEEP": "0.2"}  # synthetic reward, each trial sleeps 0.2 s in its worker
# a stop sent as soon as a trial is in flight (in_flight) lands in the milliseconds between two 1 s
# trials about once in a thousand
LONG_TRIALS = {"NASDSL_SYNTHETIC_SLEEP": "1.0"}


def _start(run: Path, *extra: str, workers: int = 2, env: dict = SLOW_TRIALS):
    marker = new_marker()
    proc = cli(*SEARCH, "--out", str(run), "--workers", str(workers), *extra, marker=marker, env=env)
    # the driver, its workers and the resource tracker are up, and trials are finishing
    wait_for(lambda: finished(run) >= 2 and len(marked(marker)) >= workers + 1, 180, proc, "trials to finish")
    return proc, marker


def _left_in_flight(run: Path, sig: signal.Signals) -> list[str]:
    """The errors of the trials the stop left in flight (two workers were busy): each names `sig`."""
    errors = in_flight(run)
    assert errors and all(f"interrupted by {sig.name}" in (e or "") for e in errors), errors
    return errors


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGINT, 130)])
def test_signal_stops_workers_and_says_how_to_resume(tmp_path, sig, code):
    run = tmp_path / "run"
    proc, marker = _start(run, env=LONG_TRIALS)
    try:
        wait_for(lambda: in_flight(run), 30, proc, "a trial in flight", poll=0.005)
        os.kill(proc.pid, sig)  # the driver alone, not its process group
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == code, err
        assert "Traceback" not in err
        assert f"nasdsl search --resume --out {run}" in err
        left = wait_gone(marker, 10)
        assert left == [], f"processes alive 10 s after {sig.name}: {left}"
    finally:
        reap(marked(marker))
    assert _left_in_flight(run, sig)  # every trial left in flight says why it did not finish
    # the run folder is free again and the run continues to exactly the trials asked for
    done = finished(run)
    r = run_cli("search", "--resume", "--out", str(run), "--trials", str(done + 3), "--quiet")
    assert r.returncode == 0, r.stderr
    assert finished(run) == done + 3


def test_sighup_to_the_whole_process_group_is_the_same_quiet_stop(tmp_path):
    """A closing terminal hangs up its whole process group: the driver, its pool workers and
    multiprocessing's resource tracker. The stop is the driver's alone, with no traceback (the
    tracker used to die of it, and the pool's shutdown then printed a KeyError per lock)."""
    run = tmp_path / "run"
    proc, marker = _start(run)
    try:
        os.killpg(proc.pid, signal.SIGHUP)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 129, err
        assert "Traceback" not in err and "resource_tracker" not in err, err
        assert wait_gone(marker, 10) == []
    finally:
        reap(marked(marker))


def test_a_signal_passed_on_as_a_plain_keyboardinterrupt_keeps_its_name(capsys):
    """ray.wait turns the handler's Interrupted into a plain KeyboardInterrupt: what stopped the
    driver is still named and its exit status still 128 + N (it was SIGINT's, 130). The command
    says so inside stop_on_signals, as `nasdsl search` does (a stop that no `stopped` or `as_stop`
    met by the block's end is raised there: lifetime.stop_on_signals)."""
    from nasdsl_search.lifetime import Interrupted, stop_on_signals, stopped

    caught = code = None
    with stop_on_signals():
        try:
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(5)
            except Interrupted:
                raise KeyboardInterrupt from None  # as Ray passes it on
        except KeyboardInterrupt as e:
            caught = e
            code = stopped(e, "runs/x", "kept")
    assert type(caught) is KeyboardInterrupt
    assert code == 143
    assert "stopped by SIGTERM; kept." in capsys.readouterr().err


def test_kill_minus_nine_of_the_driver_takes_the_workers_down(tmp_path):
    run = tmp_path / "run"
    proc, marker = _start(run)
    try:
        workers = [p for p in marked(marker) if p != proc.pid]
        assert workers
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        left = wait_gone(marker, 30)
        assert left == [], f"orphans alive 30 s after kill -9 of the driver: {left}"
    finally:
        reap(marked(marker))


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_local_ray_cluster_dies_with_its_driver(tmp_path, sig):
    require("ray")
    run = tmp_path / "run"
    proc, marker = _start(run, "--executor", "ray", workers=1)
    try:
        assert len(marked(marker)) >= 3  # driver, raylet, gcs, workers ...
        if sig == signal.SIGKILL:
            # Ray's processes notice a dead parent by themselves, but only when they get to run (on a
            # loaded machine, CI once saw its two agents alive 30 s later): freeze them all, so that
            # only nasdsl's guardian can take them down
            for pid in marked(marker):
                if pid != proc.pid and b"ray" in cmdline(pid):
                    os.kill(pid, signal.SIGSTOP)
        os.kill(proc.pid, sig)
        proc.wait(timeout=60)
        left = wait_gone(marker, 30 if sig == signal.SIGKILL else 10)
        assert left == [], f"Ray processes alive after {sig.name} of the driver: {left}"
    finally:
        reap(marked(marker))


@pytest.mark.slow
@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_ray_search_stops_on_sigterm_and_sighup_as_a_local_one_does(tmp_path, sig, code):
    """ray.init puts its own SIGTERM handler in place (sys.exit; its C++ core, a stack dump and an
    abort), and ray.wait passes our SIGHUP on as a plain KeyboardInterrupt. The handlers are put
    back after ray.init and the signal is remembered, so the stop is the local pool's: exit 128 + N,
    the resume line, the trials in flight marked with the signal's name (it was exit -6 or 1 and
    no line for SIGTERM, SIGINT's name and 130 for SIGHUP)."""
    require("ray")
    run = tmp_path / "run"
    proc, marker = _start(run, "--executor", "ray", workers=1)
    try:
        os.kill(proc.pid, sig)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == code, err
        assert "Traceback" not in err and "received" not in err, err
        assert f"stopped by {sig.name}; the trials in flight will run again" in err
        assert wait_gone(marker, 30) == []
    finally:
        reap(marked(marker))
    errors = in_flight(run)
    assert all(f"interrupted by {sig.name}" in e for e in errors), errors  # (none, if it came between two trials)


@pytest.mark.slow
def test_a_ray_search_whose_own_node_dies_stops_and_resumes(tmp_path):
    """The driver's local Ray node gone (its raylet killed): the search stops with one line, exit 2
    and the resume line, and fails no trial for it (every later trial used to fail at once, and the
    run ended with exit 0); --resume finishes the run on a new cluster."""
    require("ray")
    run = tmp_path / "run"
    proc, marker = _start(run, "--executor", "ray", workers=1)
    try:
        raylets = [p for p in marked(marker) if cmdline(p).split(b"\0")[0].endswith(b"raylet")]
        assert len(raylets) == 1, [cmdline(p)[:80] for p in marked(marker)]
        os.kill(raylets[0], signal.SIGKILL)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 2, err
        assert "lost this machine's Ray node" in err and "continue with --resume" in err, err
        assert wait_gone(marker, 30) == []
    finally:
        reap(marked(marker))
    con = sqlite3.connect(run / "trials.sqlite")
    assert con.execute("SELECT COUNT(*) FROM trials WHERE status = 'failed'").fetchone() == (0,)
    con.close()
    done = finished(run)
    r = run_cli("search", "--resume", "--out", str(run), "--trials", str(done + 2), "--quiet", timeout=300,
                env=SLOW_TRIALS)
    assert r.returncode == 0, r.stderr
    assert finished(run) == done + 2


def test_a_search_started_under_nohup_goes_on_through_sighup(tmp_path):
    run, marker = tmp_path / "run", new_marker()
    proc = cli(*SEARCH[:-3], "--trials", "8", "--quiet", "--out", str(run), "--workers", "2", marker=marker,
               env=SLOW_TRIALS, ignore=(signal.SIGHUP,))  # as `nohup nasdsl search ...` starts it
    try:
        wait_for(lambda: finished(run) >= 2, 180, proc, "trials to finish")
        os.killpg(proc.pid, signal.SIGHUP)  # the terminal closes: its whole process group hears it
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert finished(run) == 8
    finally:
        reap(marked(marker))


def test_a_terminal_that_closes_under_the_progress_bar_stops_the_search_as_sighup_does(tmp_path):
    """The bar's writes fail (EIO) once the terminal is gone; the run still stops as SIGHUP says:
    exit 129, the trials in flight marked, nothing left running."""
    run, marker = tmp_path / "run", new_marker()
    pid, fd = pty.fork()  # the child's controlling terminal is the pty; closing `fd` hangs it up
    if pid == 0:
        as_in_a_terminal()
        os.execvpe(sys.executable, [sys.executable, "-m", "nasdsl.cli.dispatch", *SEARCH[:-1], "--out", str(run),
                                    "--workers", "2"], {**child_env(LONG_TRIALS), MARKER: marker})
    try:
        def ready() -> bool:
            with contextlib.suppress(OSError):
                while select.select([fd], [], [], 0)[0] and os.read(fd, 65536):
                    pass  # the bar, drained so that it never blocks
            return finished(run) >= 2 and bool(in_flight(run))
        wait_for(ready, 180, what="trials to finish", poll=0.005)
        os.close(fd)
        status = None

        def ended() -> bool:
            nonlocal status
            done, status = os.waitpid(pid, os.WNOHANG)
            return done == pid
        wait_for(ended, 60, what="the search to stop")
        assert os.waitstatus_to_exitcode(status) == 129
        assert wait_gone(marker, 10) == []
    finally:
        reap(marked(marker))
    assert _left_in_flight(run, signal.SIGHUP)


@pytest.mark.slow
def test_a_signal_while_the_run_is_opened_says_so_and_loses_nothing(tmp_path):
    """--resume takes the run folder, then opens the data set (seconds for a big one): SIGTERM then
    is a one-line stop, exit 143, with the resume hint (it used to kill the driver without a word)."""
    import numpy as np

    rng = np.random.default_rng(0)
    data = tmp_path / "big.npz"
    np.savez(data, x=rng.integers(0, 255, (20000, 32, 32, 3), dtype=np.uint8), y=rng.integers(0, 10, 20000))
    run = tmp_path / "run"
    r = run_cli("search", "--dataset", f"npz:{data}", "--strategy", "random", "--trials", "1", "--epochs", "1",
                "--train-size", "64", "--val-size", "32", "--workers", "1", "--quiet", "--out", str(run))
    assert r.returncode == 0, r.stderr
    marker = new_marker()
    proc = cli("search", "--resume", "--out", str(run), "--trials", "2", "--quiet", marker=marker)
    try:
        wait_for(lambda: f'"pid": {proc.pid}'.encode() in (run / "driver.lock").read_bytes(), 120, proc,
                 "the run folder to be taken", poll=0.01)
        os.kill(proc.pid, signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        reap(marked(marker))
    assert proc.returncode == 143 and "Traceback" not in err
    assert "stopped by SIGTERM; the run was being opened, nothing of it was lost." in err
    assert f"nasdsl search --resume --out {run}" in err
    assert finished(run) == 1
