"""The benchmark and study scripts read their seed lists with `nasdsl.testing.int_list` (darts_cell's
--settings with a type of its own): a list they cannot read is argparse's one usage line and exit 2
(`--seeds 0-9` was a ValueError traceback)."""
from __future__ import annotations

import subprocess
import sys

import pytest
from proc_helpers import ROOT, child_env


@pytest.mark.parametrize("script, flag, kind", [
    ("benchmarks/compare_strategies.py", "--seeds", "int_list"),
    ("benchmarks/oneshot_cost.py", "--seeds", "int_list"),
    ("benchmarks/oneshot_cells.py", "--seeds", "int_list"),
    ("studies/controller_noise.py", "--seeds", "int_list"),
    ("studies/darts_cell.py", "--seeds", "int_list"),
    ("studies/darts_cell.py", "--settings", "setting_list"),
    ("studies/search_vs_published.py", "--search-seeds", "int_list"),
])
def test_a_seed_list_the_script_cannot_read_is_a_usage_error(script, flag, kind, tmp_path):
    r = subprocess.run([sys.executable, str(ROOT / script), flag, "0-9"], cwd=tmp_path, env=child_env(),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert r.stderr.strip().splitlines()[-1].endswith(f"argument {flag}: invalid {kind} value: '0-9'"), r.stderr
    assert list(tmp_path.iterdir()) == []  # nothing started
