"""Orphans and stop times of `nasdsl search` under SIGTERM and kill -9 of the driver alone.

    python benchmarks/reliability_orphans.py [--reference /path/to/another/checkout]

Starts `nasdsl search --reward synthetic --workers 2` (each trial sleeps 0.2 s), sends the signal
to the driver only, and counts the processes it started (found by a marker in their environment)
until none is left or the limit passes (10 s after SIGTERM, 30 s after kill -9). Prints one row per
checkout and signal; exits 1 if this checkout leaves a process behind, takes longer than the limit,
or never had its search running (fewer than 4 processes, or a driver that had ended before the signal).
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE / "tests"))
from proc_helpers import marked, reap  # noqa: E402

LIMITS = {signal.SIGTERM: 10.0, signal.SIGKILL: 30.0}


def measure(root: Path, sig: signal.Signals) -> dict:
    out = Path(tempfile.mkdtemp()) / "run"
    marker = uuid.uuid4().hex
    env = {**os.environ, "PYTHONPATH": str(root), "NASDSL_TEST_MARKER": marker, "NASDSL_SYNTHETIC_SLEEP": "0.2"}
    p = subprocess.Popen([sys.executable, "-m", "nasdsl.cli.dispatch", "search", "--reward", "synthetic", "--strategy",
                          "random", "--trials", "100000", "--workers", "2", "--quiet", "--out", str(out)],
                         env=env, cwd=out.parent, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    deadline = time.time() + 180
    while len(marked(marker)) < 4 and p.poll() is None and time.time() < deadline:  # driver, 2 workers, tracker
        time.sleep(0.1)
    time.sleep(3)
    started = len(marked(marker))
    running = p.poll() is None  # a driver that never started, or already ended, proves nothing
    t0 = time.time()
    if running:
        os.kill(p.pid, sig)
    p.wait()
    exit_s = time.time() - t0
    gone = None
    while time.time() - t0 < LIMITS[sig]:
        if not marked(marker):
            gone = time.time() - t0
            break
        time.sleep(0.1)
    left = marked(marker)
    reap(left)
    shutil.rmtree(out.parent, ignore_errors=True)
    return {"started": started, "running": running, "rc": p.returncode, "exit_s": exit_s, "gone_s": gone,
            "left": len(left)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reference", type=Path, help="another checkout to measure the same way (e.g. main)")
    args = ap.parse_args()
    roots = [("this", HERE)] + ([("reference", args.reference)] if args.reference else [])
    print(f"{'checkout':<10} {'signal':<8} {'procs':>5} {'rc':>5} {'exit s':>7} {'all gone s':>10} {'left':>5}")
    ok = True
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for name, root in roots:
            r = measure(root, sig)
            gone = "-" if r["gone_s"] is None else f"{r['gone_s']:.2f}"
            print(f"{name:<10} {sig.name:<8} {r['started']:>5} {r['rc']:>5} {r['exit_s']:>7.2f} {gone:>10} {r['left']:>5}")
            if name == "this" and (r["left"] or r["gone_s"] is None or r["started"] < 4 or not r["running"]):
                ok = False  # (fewer than driver, 2 workers and the resource tracker: the search never ran)
    print("target: no process left, within 10 s of SIGTERM and 30 s of kill -9:", "met" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
