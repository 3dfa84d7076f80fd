"""Trials know where they ran: host, IP, pid and node in every result, in the store (old run folders
gain the columns when opened) and in `report` (table, JSON, HTML), with the executor and cluster."""
from __future__ import annotations

import argparse
import json
import os
import socket
import sqlite3
import time

import pytest
from references import require

from nasdsl.cli.dispatch import main as nasdsl_main
from nasdsl_search.driver import Search, SearchConfig
from nasdsl_search.report_html import render_report, run_line
from nasdsl_search.store import ADDED_COLUMNS, Store
from nasdsl_search.strategies import StrategyOptions
from nasdsl_search.trial import run_trial, where


def _synthetic_payload(trial: int = 1) -> dict:
    return {"trial": trial, "reward": "synthetic", "decisions": [0, 1], "synthetic": {"target": [0, 0]}}


def test_a_trial_result_says_where_it_ran():
    r = run_trial(_synthetic_payload())
    assert r["status"] == "done" and r["reward"] == 0.5
    assert r["pid"] == os.getpid() and r["host"] == socket.gethostname() and r["node"] == "local"
    assert r["ip"] and r["ip"].count(".") == 3
    assert where()["ip"] == r["ip"]
    placed = run_trial(_synthetic_payload(), {"pid": 1, "host": "h", "ip": "10.0.0.9", "node": "abc"})
    assert (placed["host"], placed["ip"], placed["node"]) == ("h", "10.0.0.9", "abc")


def test_a_data_set_the_node_cannot_read_fails_the_trial_with_its_message(tmp_path):
    """A user problem on the node (here: a data set path that is not there) is the NasError's one
    line plus the host, not a traceback."""
    payload = {**_synthetic_payload(), "reward": "accuracy", "nas": "", "seed": 0,
               "dataset": f"imagefolder:{tmp_path / 'not-on-this-node'}"}
    r = run_trial(payload)
    assert r["status"] == "failed"
    assert "not-on-this-node" in r["error"] and f"[on {socket.gethostname()}" in r["error"]
    assert "Traceback" not in r["error"] and "File \"" not in r["error"] and "\n" not in r["error"]


def test_local_trials_record_the_host_and_the_report_shows_it(tmp_path, capsys):
    out = tmp_path / "run"
    assert nasdsl_main(["search", "--reward", "synthetic", "--strategy", "random", "--trials", "4", "--workers", "2",
                        "--executor", "local", "--device", "cpu", "--out", str(out), "--quiet"]) == 0
    store = Store(out, create=False)
    trials = store.trials()
    assert {t["node"] for t in trials} == {"local"} and {t["host"] for t in trials} == {socket.gethostname()}
    assert all(t["pid"] and t["pid"] != os.getpid() for t in trials)  # spawned pool workers
    assert store.config("cluster") == {"executor": "local", "host": socket.gethostname(), "workers": 2}
    store.close()
    capsys.readouterr()
    assert nasdsl_main(["report", str(out), "--no-html"]) == 0
    table = capsys.readouterr().out
    assert f"executor local, 2 workers on {socket.gethostname()}" in table
    assert "where trials ran:" in table and f"  {socket.gethostname()}: 4 done, 0 failed" in table
    assert nasdsl_main(["report", str(out), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["cluster"]["executor"] == "local" and data["executor"]["workers"] == 2
    assert all(t["host"] == socket.gethostname() and t["pid"] for t in data["trials"])
    assert nasdsl_main(["report", str(out)]) == 0
    html = (out / "report.html").read_text()
    assert f"executor local, 2 workers on {socket.gethostname()}" in html
    assert "<th>where</th>" in html and f"{socket.gethostname()} pid {trials[0]['pid']}" in html


def test_early_stopped_trials_record_where_their_last_rung_ran(tmp_path):
    """Under ASHA a trial's result is settled by the driver, not returned by a worker: it keeps the
    place its rung jobs recorded (every one showed '-' and the report had no 'where' section)."""
    out = tmp_path / "run"
    assert nasdsl_main(["search", "--reward", "synthetic", "--strategy", "random", "--trials", "6", "--workers", "2",
                        "--scheduler", "asha", "--min-epochs", "1", "--max-epochs", "9", "--device", "cpu",
                        "--out", str(out), "--quiet"]) == 0
    store = Store(out, create=False)
    trials = store.trials()
    store.close()
    assert len(trials) == 6 and all(t["status"] == "done" for t in trials)
    assert {t["host"] for t in trials} == {socket.gethostname()}
    assert all(t["pid"] and t["pid"] != os.getpid() for t in trials)  # the rung jobs' workers, not this driver


def test_a_trial_whose_worker_died_unseen_is_counted_where_trials_ran(tmp_path, capsys):
    """A Ray worker that dies under its trial says nowhere where it was: the report counts the failed
    trial as 'unknown' instead of leaving it out ('1 done, 0 failed' with 1 failed)."""
    from nasdsl_search.executors import _crashed

    s = Search(tmp_path / "run", SearchConfig(strategy="random", reward="synthetic", trials=3,
                                              options=StrategyOptions(batch=2)))
    s.run("local", workers=1, progress=False)
    trial, _ = s._propose()  # a fourth, failed as the Ray executor reports a crashed task
    s._record(trial["id"], trial["decisions"], trial["meta"],
              _crashed({"trial": trial["id"]}, "ray task failed: WorkerCrashedError: the worker died"))
    s.close()
    assert nasdsl_main(["report", str(tmp_path / "run"), "--no-html"]) == 0
    table = capsys.readouterr().out
    assert f"  {socket.gethostname()}: 3 done, 0 failed" in table
    assert "  unknown (its worker died before saying): 0 done, 1 failed" in table


def test_old_run_folders_gain_the_columns_when_opened(tmp_path):
    s = Search(tmp_path / "run", SearchConfig(strategy="random", reward="synthetic", trials=2,
                                               options=StrategyOptions(batch=2)))
    s.run("local", workers=1, progress=False)
    s.close()
    db = sqlite3.connect(tmp_path / "run" / "trials.sqlite")
    for name in ADDED_COLUMNS:  # as a store written before this change
        db.execute(f"ALTER TABLE trials DROP COLUMN {name}")
    db.commit()
    db.close()
    store = Store(tmp_path / "run", create=False)
    cols = {r[1] for r in store.db.execute("PRAGMA table_info(trials)")}
    assert set(ADDED_COLUMNS) <= cols
    assert [t["host"] for t in store.trials()] == [None, None]  # unknown for old trials, not invented
    store.close()


def test_the_run_line_names_the_cluster_and_its_nodes():
    data = {"executor": {"executor": "ray", "address": "10.1.2.3:6379", "workers": 4},
            "cluster": {"executor": "ray", "address": "auto", "gcs": "10.1.2.3:6379",
                        "nodes": [{"ip": "10.1.2.3", "cpus": 8, "gpus": 1}, {"ip": "10.1.2.4", "cpus": 4, "gpus": 0}]}}
    assert run_line(data) == ("executor ray at auto (10.1.2.3:6379), 2 nodes 10.1.2.3 (8 CPU, 1 GPU), "
                              "10.1.2.4 (4 CPU, 0 GPU)")
    assert run_line({"executor": {"executor": "ray"}, "cluster": None}) == "executor ray on a cluster started by nasdsl"
    assert run_line({}).startswith("executor: unknown")
    trial = {"id": 1, "strategy": "random", "status": "done", "reward": 0.5, "nas": "", "node": "abcdef0123456789",
             "ip": "10.1.2.4", "host": "w1", "pid": 77}
    html = render_report([trial], "t", run=run_line(data))
    assert "10.1.2.4/abcdef01 pid 77" in html and "executor ray at auto" in html


def test_an_address_where_nothing_answers_fails_fast(tmp_path, capsys):
    """No Ray cluster at --address: one line and exit 2 at once, not minutes of Ray retrying."""
    require("ray")
    port = socket.socket()
    port.bind(("127.0.0.1", 0))
    address = f"127.0.0.1:{port.getsockname()[1]}"
    port.close()  # nothing listens there now
    t = time.time()
    assert nasdsl_main(["search", "--reward", "synthetic", "--trials", "2", "--executor", "ray", "--device", "cpu",
                        "--address", address, "--out", str(tmp_path / "run"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"cannot reach the Ray cluster at {address}: nothing answers there" in err and len(err.splitlines()) == 1
    assert time.time() - t < 30
    assert not (tmp_path / "run").exists()  # no run folder that the corrected command would find taken


@pytest.mark.parametrize("flags, message", [
    (["--executor", "local", "--address", "1.2.3.4:5"], "--address is for --executor ray"),
    (["--executor", "ray", "--address", ""], "--address: an empty argument; give a value"),  # dispatch: no empty values
    (["--executor", "ray", "--address", "127.0.0.1:99999"], "'99999' is not a port (1-65535)"),
    (["--executor", "ray", "--cpus-per-trial", "inf"], "--cpus-per-trial must be a finite number, positive, got inf"),
    (["--executor", "ray", "--cpus-per-trial", "nan"], "--cpus-per-trial must be a finite number"),
    (["--executor", "ray", "--cpus-per-trial", "0.00001"], "--cpus-per-trial must be a multiple of 0.0001"),
    (["--executor", "ray", "--gpus-per-trial", "-1"], "--gpus-per-trial must be a finite number, not negative"),
])
def test_executor_mistakes_are_one_line_before_anything_is_made(tmp_path, capsys, flags, message):
    """Refused before a cluster starts or the run folder is made (a folder left behind was taken:
    the corrected command was told to --resume, which met the stored mistake again)."""
    assert nasdsl_main(["search", "--reward", "synthetic", "--trials", "2", "--device", "cpu", *flags,
                        "--out", str(tmp_path / "run"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "run").exists()


def test_a_resumed_run_moves_to_the_local_pool_without_its_ray_settings(tmp_path, capsys):
    """--resume --executor local forgets the stored --address (and the per-trial resources): a run
    begun on a cluster can go on here; a new --address replaces the stored one."""
    from nasdsl_search.cli import _executor_args, configure

    parser = argparse.ArgumentParser()
    configure(parser)
    before = {"executor": "ray", "workers": 4, "address": "head:6379", "cpus_per_trial": 2.0}
    local = _executor_args(parser.parse_args(["--resume", "--executor", "local"]), before)
    assert (local["executor"], local["address"], local["cpus_per_trial"]) == ("local", None, None)
    again = _executor_args(parser.parse_args(["--resume"]), before)
    assert (again["address"], again["cpus_per_trial"]) == ("head:6379", 2.0)
    moved = _executor_args(parser.parse_args(["--resume", "--address", "other:6379"]), before)
    assert moved["address"] == "other:6379"
