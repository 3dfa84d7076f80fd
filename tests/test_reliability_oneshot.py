"""Signals and the run-folder lock of a one-shot search (`--strategy random-ws`), through the real CLI
and real signals: they behave as for a multi-trial run (tests/test_reliability_signals.py,
tests/test_reliability_lock.py). A tiny supernet on digits, each epoch about a second."""
from __future__ import annotations

import os
import signal
import socket
from pathlib import Path

from proc_helpers import (
    cli,
    in_flight,
    marked,
    new_marker,
    reap,
    run_cli,
    store_rows,
    supernet_epochs,
    wait_for,
    wait_gone,
)

TINY = ["search", "--strategy", "random-ws", "--space", "enas", "--train-size", "256", "--val-size", "128",
        "--filters", "4", "--batch-size", "32", "--eval-images", "64", "--rank-samples", "4", "--threads", "1",
        "--quiet"]
ENV = {"OMP_NUM_THREADS": "1"}


def _stop(proc, marker: str, sig: signal.Signals, code: int, run: Path) -> str:
    """Send `sig` to the driver alone; it exits `code` with the resume line, nothing left alive."""
    os.kill(proc.pid, sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert "Traceback" not in err
    assert f"nasdsl search --resume --out {run}" in err
    assert wait_gone(marker, 10) == []
    return err


def test_sigterm_during_supernet_training_keeps_the_checkpoint_and_resume_completes(tmp_path):
    run = tmp_path / "run"
    marker = new_marker()
    proc = cli(*TINY, "--supernet-epochs", "3", "--top-k", "1", "--epochs", "1", "--out", str(run), marker=marker,
               env=ENV)
    try:
        wait_for(lambda: supernet_epochs(run), 120, proc, "the first supernet checkpoint")
        err = _stop(proc, marker, signal.SIGTERM, 143, run)
    finally:
        reap(marked(marker))
    kept = supernet_epochs(run)
    assert 1 <= len(kept) < 3 and f"{len(kept)} of 3 supernet epochs are checkpointed" in err
    first_at = store_rows(run, "SELECT at FROM oneshot_epochs WHERE epoch = 1")
    r = run_cli("search", "--resume", "--out", str(run), "--threads", "1", "--quiet")
    assert r.returncode == 0, r.stderr
    assert "pick 1" in r.stdout
    assert supernet_epochs(run) == [1, 2, 3]
    assert store_rows(run, "SELECT at FROM oneshot_epochs WHERE epoch = 1") == first_at  # not trained again
    assert store_rows(run, "SELECT status FROM trials") == [("done",)]
    assert (run / "best.nas").exists()


def test_sighup_during_a_stand_alone_pick_marks_it_and_resume_runs_it_again(tmp_path):
    run = tmp_path / "run"
    marker = new_marker()
    proc = cli(*TINY, "--supernet-epochs", "1", "--top-k", "2", "--epochs", "3", "--out", str(run), marker=marker,
               env=ENV)
    try:
        wait_for(lambda: in_flight(run), 120, proc, "a pick to be training stand-alone")
        _stop(proc, marker, signal.SIGHUP, 129, run)
    finally:
        reap(marked(marker))
    running = in_flight(run)
    assert running and all("interrupted by SIGHUP" in e for e in running)
    r = run_cli("search", "--resume", "--out", str(run), "--quiet")
    assert r.returncode == 0, r.stderr
    assert store_rows(run, "SELECT status FROM trials") == [("done",), ("done",)]


def test_second_driver_on_a_one_shot_folder_is_refused(tmp_path):
    run = tmp_path / "run"
    marker = new_marker()
    first = cli(*TINY, "--supernet-epochs", "100", "--out", str(run), marker=marker, env=ENV)
    try:
        wait_for(lambda: supernet_epochs(run), 120, first, "the first supernet checkpoint")
        r = run_cli("search", "--resume", "--out", str(run), "--quiet")
        assert r.returncode == 2, r.stderr
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in r.stderr
        assert f"pid {first.pid} on host {socket.gethostname()}" in lines[0]
        r = run_cli(*TINY, "--out", str(run))  # a new run into the same folder: it holds a run already
        assert r.returncode == 2 and "already holds a search run" in r.stderr and "Traceback" not in r.stderr
        # a flag the run's strategy would ignore is refused under --resume too, naming its strategies
        r = run_cli("search", "--resume", "--out", str(run), "--workers", "2")
        assert r.returncode == 2 and "Traceback" not in r.stderr
        assert "--workers is for the multi-trial strategies" in r.stderr and "random-ws" in r.stderr
        _stop(first, marker, signal.SIGTERM, 143, run)
    finally:
        reap(marked(marker))
