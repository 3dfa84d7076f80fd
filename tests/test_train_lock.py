"""`nasdsl train --out DIR` holds DIR's driver lock (search/runlock.py) for its life: a second
`train --out DIR`, a `train --resume --out DIR` and a `search --out DIR` are refused in one line
naming the training, also before its first checkpoint; SIGTERM stops it with the `--resume` line,
exit 143, and leaves the lock free."""
from __future__ import annotations

import json
import os
import signal
import socket

import pytest
from proc_helpers import cli, marked, new_marker, reap, run_cli, user_error, wait_for, wait_gone

from nasdsl_search.runlock import LOCK_NAME, driver_alive
from tests.test_train_cli import NAS

ARGS = ["--dataset", "digits", "--epochs", "40", "--batch-size", "32", "--train-size", "256", "--val-size", "64",
        "--threads", "1", "--device", "cpu"]
SEARCH = ["search", "--reward", "synthetic", "--strategy", "random", "--trials", "2", "--quiet"]


def _holder(run) -> dict:
    try:
        return json.loads((run / LOCK_NAME).read_text() or "{}")
    except (OSError, ValueError):
        return {}


@pytest.mark.slow
def test_a_training_holds_its_run_folder(tmp_path):
    src = tmp_path / "small.nas"
    src.write_text(NAS)
    run = tmp_path / "run"
    marker = new_marker()
    first = cli("train", str(src), *ARGS, "--out", str(run), marker=marker)
    try:
        # frozen before its first checkpoint, when the folder does not yet look like a run
        wait_for(lambda: _holder(run).get("pid") == first.pid, 120, first, "the training to take the lock")
        os.kill(first.pid, signal.SIGSTOP)
        assert not (run / "checkpoint.pt").exists()
        holder = f"another nasdsl process (train, pid {first.pid} on host {socket.gethostname()})"
        user_error(run_cli("train", str(src), *ARGS, "--out", str(run)), holder, one_line=True)
        user_error(run_cli(*SEARCH, "--out", str(run)), holder, "is using this run folder", one_line=True)
        assert not (run / "trials.sqlite").exists()
        os.kill(first.pid, signal.SIGCONT)
        wait_for((run / "checkpoint.pt").exists, 120, first, "the first checkpoint")
        user_error(run_cli("train", "--resume", "--out", str(run), "--threads", "1"), holder, one_line=True)
        first.send_signal(signal.SIGTERM)
        _, err = first.communicate(timeout=60)
        assert first.returncode == 143, err
        assert err.strip().splitlines()[-2:] == ["stopped by SIGTERM; its last checkpoint is kept. Continue with:",
                                                 f"  nasdsl train --resume --out {run}"]
        assert not driver_alive(run) and wait_gone(marker, 10) == []
        epochs = [json.loads(line)["epoch"] for line in (run / "log.jsonl").read_text().splitlines()]
        assert epochs == list(range(1, len(epochs) + 1))  # one training wrote it
    finally:
        reap(marked(marker))
