"""`nasdsl search` killed with SIGKILL mid-run, then `--resume`: no finished trial lost or repeated,
the controller continues from its saved state, and the run ends exactly as an uninterrupted one."""
from __future__ import annotations

import argparse
import json
import sqlite3
from pathlib import Path

import pytest
from proc_helpers import cli as nasdsl
from proc_helpers import finished, kill_group_when

from nasdsl.errors import NasError
from nasdsl_search.cli import configure, open_run
from nasdsl_search.store import Store

TRIALS = 10
# real child training on digits, kept tiny; one worker so that the run is deterministic
ARGS = ["--strategy", "ppo", "--controller-batch", "3", "--trials", str(TRIALS), "--workers", "1",
        "--threads", "1", "--epochs", "1", "--train-size", "120", "--val-size", "100", "--filters", "4", "--quiet"]


def rows(run: Path) -> list[dict]:
    con = sqlite3.connect(run / "trials.sqlite")
    con.row_factory = sqlite3.Row
    out = [dict(r) for r in con.execute("SELECT * FROM trials ORDER BY id")]
    con.close()
    return out


@pytest.mark.slow
def test_kill_minus_nine_then_resume(tmp_path):
    reference = tmp_path / "reference"
    ref = nasdsl("search", "--out", str(reference), *ARGS)
    out, err = ref.communicate(timeout=600)
    assert ref.returncode == 0, err

    run = tmp_path / "run"
    snapshots = []
    for stop_at in (3, 6):  # kill twice, at different points
        proc = nasdsl("search", "--out", str(run), *ARGS) if stop_at == 3 else nasdsl("search", "--resume", "--out", str(run))
        kill_group_when(proc, lambda n=stop_at: finished(run) >= n, 240, f"{stop_at} finished trials")
        snapshots.append([r for r in rows(run) if r["status"] != "running"])
    proc = nasdsl("search", "--resume", "--out", str(run), "--quiet")
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    assert f"trials: {TRIALS} done" in out

    final = rows(run)
    assert [r["id"] for r in final] == list(range(1, TRIALS + 1))
    assert all(r["status"] == "done" for r in final)
    assert sorted(r["observed"] for r in final) == list(range(1, TRIALS + 1))  # each learned from once
    by_id = {r["id"]: r for r in final}
    for snap in snapshots:  # nothing that had finished was lost, re-run or changed
        assert snap and all(by_id[r["id"]] == r for r in snap)
    # the controller resumed from its saved state: same proposals, same rewards, same updates
    expected = rows(reference)
    for key in ("decisions", "reward", "seed", "nas", "meta", "observed"):
        assert [r[key] for r in final] == [r[key] for r in expected], key
    con = sqlite3.connect(run / "trials.sqlite")
    updates = [(n, json.loads(info)["mean_reward"]) for n, info in con.execute("SELECT n, info FROM updates ORDER BY n")]
    con.close()
    con = sqlite3.connect(reference / "trials.sqlite")
    ref_updates = [(n, json.loads(info)["mean_reward"]) for n, info in con.execute("SELECT n, info FROM updates ORDER BY n")]
    con.close()
    assert updates == ref_updates and len(updates) == TRIALS // 3
    assert (run / "best.nas").read_text().split("\n", 1)[1] == (reference / "best.nas").read_text().split("\n", 1)[1]


def search_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    configure(parser)
    return parser.parse_args(argv)


def test_a_run_killed_before_its_first_proposal_resumes_with_its_own_workers(tmp_path):
    """The run folder holds the executor settings from the moment it exists: a driver killed just
    after making it (the fault-injection test's kills hit there) is resumed, without --workers,
    with the run's --workers 1, not the default 2, whose overlapping trials would change the order
    in which the strategy learns and so what it proposes."""
    run = tmp_path / "run"
    search, chosen, executor = open_run(search_args("--out", str(run), "--reward", "synthetic", "--workers", "1",
                                                    "--threads", "1"))
    executor.shutdown()
    search.close()  # the driver is killed: nothing of its loop ran
    store = Store(run, create=False)
    assert store.config()["seed"] == 0 and store.config("executor") == chosen
    store.close()
    resumed, again, executor = open_run(search_args("--resume", "--out", str(run)))
    executor.shutdown()
    resumed.close()
    assert (again["workers"], again["threads"]) == (1, 1)


def test_a_store_left_half_made_is_no_run(tmp_path):
    """A driver killed while it made the store leaves only its temporary file: that is not a run to
    resume, and a new run in the folder replaces it."""
    run = tmp_path / "run"
    run.mkdir()
    (run / "trials.sqlite.new").write_bytes(b"SQLite format 3\0 half")
    (run / "trials.sqlite.new-journal").write_bytes(b"")
    with pytest.raises(NasError, match="no search run here"):
        open_run(search_args("--resume", "--out", str(run)))
    search, _, executor = open_run(search_args("--out", str(run), "--reward", "synthetic", "--workers", "1"))
    executor.shutdown()
    search.close()
    assert (run / "trials.sqlite").is_file() and not list(run.glob("trials.sqlite.new*"))
