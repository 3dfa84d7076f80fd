"""The run folder's driver lock: a second driver is refused with one line naming the holder; a dead
holder's lock is taken over; `report` shows the trials of a run whose driver is gone as interrupted."""
from __future__ import annotations

import json
import os
import signal
import socket

from proc_helpers import cli, finished, in_flight, marked, new_marker, reap, run_cli, wait_for, wait_gone

SEARCH = ["search", "--reward", "synthetic", "--strategy", "random", "--quiet"]
SLOW = {"NASDSL_SYNTHETIC_SLEEP": "0.3"}


def test_second_driver_is_refused_then_takes_over_a_dead_holder(tmp_path):
    run = tmp_path / "run"
    marker = new_marker()
    first = cli(*SEARCH, "--trials", "100000", "--workers", "1", "--out", str(run), marker=marker, env=SLOW)
    try:
        wait_for(lambda: finished(run) >= 2, 120, first, "the first driver to run trials")
        r = run_cli("search", "--resume", "--out", str(run), "--quiet")
        assert r.returncode == 2, r.stderr
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in r.stderr
        assert f"pid {first.pid} on host {socket.gethostname()}" in lines[0]
        assert not lines[0].startswith("<input>")
        # a new run into the same folder is refused too (it holds a run), and nothing was recorded twice
        before = finished(run)
        r = run_cli(*SEARCH, "--trials", "3", "--out", str(run))
        assert r.returncode == 2 and "Traceback" not in r.stderr
        assert r.stderr.strip().splitlines() == [f"nasdsl search: error: {run} already holds a search run; "
                                                 "continue it with --resume or choose another --out"], r.stderr
        wait_for(lambda: finished(run) > before, 60, first, "the holder's run to go on")  # its trials kept

        running = json.loads(run_cli("report", str(run), "--format", "json", "--no-html").stdout)
        assert running["counts"].get("interrupted", 0) == 0  # the driver is alive: its trials are running

        wait_for(lambda: in_flight(run), 60, first, "a trial in flight", poll=0.01)  # killed with one in flight
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        assert wait_gone(marker, 30) == []
        data = json.loads(run_cli("report", str(run), "--format", "json", "--no-html").stdout)
        assert data["counts"]["running"] == 0 and data["counts"]["interrupted"] == 1
        assert [t["status"] for t in data["trials"]].count("interrupted") == 1
        table = run_cli("report", str(run), "--no-html").stdout
        assert "1 interrupted" in table

        # the holder is dead: its lock is taken over, the run ends with exactly the trials asked for
        n = finished(run)
        r = run_cli("search", "--resume", "--out", str(run), "--trials", str(n + 2), "--quiet")
        assert r.returncode == 0, r.stderr
        assert finished(run) == n + 2
    finally:
        reap(marked(marker))


def test_out_naming_a_file_is_refused_before_any_work(tmp_path):
    f = tmp_path / "afile"
    f.write_text("x")
    r = run_cli(*SEARCH, "--trials", "2", "--out", str(f))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "not a directory" in r.stderr
    assert f.read_text() == "x"
