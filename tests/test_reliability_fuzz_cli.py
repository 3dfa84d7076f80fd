"""Fuzz the `nasdsl` command as a whole: random flags and values (wrong types, out of range, NaN,
directories, missing files, non-UTF-8 files, bad outputs) for every command, each call bounded in
time. Every call ends with exit 0, 1 or 2 and no traceback; only the commands that do real work
(search, train, export, compile, stats, convert-weights) may run past the bound."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from proc_helpers import ROOT

from nasdsl.cli.dispatch import COMMANDS

HEAVY = {"search", "train", "export", "compile", "stats", "convert-weights", "infer"}
SECONDS = 20  # per call


@pytest.mark.slow
def test_random_command_lines(tmp_path):
    cases = 4 * len(COMMANDS)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NASDSL_SYNTHETIC_SLEEP": "0"}
    r = subprocess.run([sys.executable, str(Path(__file__).with_name("fuzz_cli_runner.py")), "14", str(cases),
                        str(tmp_path), str(SECONDS)], cwd=tmp_path, env=env, capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=cases * (SECONDS + 10))
    assert r.returncode == 0, r.stderr[-3000:]
    results = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
    assert len(results) == cases
    bad = [x for x in results if x["traceback"] or (x["rc"] not in (0, 1, 2) and
                                                     not (x["rc"] == "timeout" and x["argv"][0] in HEAVY))]
    assert not bad, "\n".join(f"{x['rc']}: nasdsl {' '.join(x['argv'])}\n{x['stderr']}" for x in bad)
    assert {x["argv"][0] for x in results} == set(COMMANDS)
