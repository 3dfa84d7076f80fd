"""Fault injection: 20 `kill -9` of a running `nasdsl search` driver at random (seeded) moments, each
followed by `--resume`. The run ends with exactly the requested trials, none lost or repeated, and
(one worker, so the order is deterministic) every cell and reward equal to an uninterrupted run of
the same seed. The reward is the synthetic one with a 0.05 s sleep per trial (no training), which
keeps 20 restarts fast; the store, the strategy state and the resume path are the real ones."""
from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import time

import pytest
from proc_helpers import cli, marked, new_marker, reap, run_cli, wait_gone

TRIALS = 100
KILLS = 20
ARGS = ["--reward", "synthetic", "--seed", "7", "--trials", str(TRIALS), "--workers", "1", "--quiet"]
OWN = {"ppo": ["--controller-batch", "3"], "evolution": []}  # each strategy's own flags
ENV = {"NASDSL_SYNTHETIC_SLEEP": "0.05"}


def _rows(run):
    con = sqlite3.connect(run / "trials.sqlite")
    con.row_factory = sqlite3.Row
    out = [dict(r) for r in con.execute("SELECT id, status, decisions, nas, reward, seed, observed FROM trials ORDER BY id")]
    con.close()
    return out


def _holds_lock(run, pid: int) -> bool:
    try:
        return json.loads((run / "driver.lock").read_text() or "{}").get("pid") == pid
    except (OSError, ValueError):
        return False


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["evolution", "ppo"])
def test_twenty_kill_minus_nine_then_resume(tmp_path, strategy):
    args = [*ARGS, "--strategy", strategy, *OWN[strategy]]
    reference = tmp_path / "reference"
    ref = cli("search", "--out", str(reference), *args, env=ENV)
    out, err = ref.communicate(timeout=900)
    assert ref.returncode == 0, err

    run = tmp_path / "run"
    rng = random.Random(14)
    kills = 0
    marker = new_marker()
    try:
        while kills < KILLS:
            argv = ["search", "--out", str(run), *args] if not (run / "trials.sqlite").exists() else \
                ["search", "--resume", "--out", str(run), "--quiet"]
            proc = cli(*argv, marker=marker, env=ENV)
            deadline = time.time() + 120
            while not _holds_lock(run, proc.pid):  # the driver is up and owns the run folder
                assert proc.poll() is None, proc.communicate()
                assert time.time() < deadline
                time.sleep(0.02)
            time.sleep(rng.uniform(0.0, 0.6))
            if proc.poll() is not None:
                break  # it finished before this kill
            os.kill(proc.pid, signal.SIGKILL)  # the driver alone: its worker must go with it
            proc.wait()
            kills += 1
            assert wait_gone(marker, 30) == [], "a worker outlived its killed driver"
        assert kills == KILLS, f"the run finished after {kills} kills; make it longer"
        r = run_cli("search", "--resume", "--out", str(run), "--quiet", timeout=900)
        assert r.returncode == 0, r.stderr
    finally:
        reap(marked(marker))

    con = sqlite3.connect(run / "trials.sqlite")
    executor = json.loads(con.execute("SELECT value FROM run WHERE key = 'executor'").fetchone()[0])
    con.close()
    assert executor["workers"] == 1  # every --resume (given no --workers) ran with the run's own
    final, expected = _rows(run), _rows(reference)
    assert [t["id"] for t in final] == list(range(1, TRIALS + 1))  # none lost, none repeated
    assert all(t["status"] == "done" for t in final)
    assert sorted(t["observed"] for t in final) == list(range(1, TRIALS + 1))  # each learned from once
    for key in ("decisions", "nas", "reward", "seed", "observed"):
        assert [t[key] for t in final] == [t[key] for t in expected], key
