"""A non-editable wheel, installed outside the repo, carries the grammar, templates and zoo."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_works_outside_the_repo(tmp_path):
    dist, target, work = tmp_path / "dist", tmp_path / "site", tmp_path / "elsewhere"
    work.mkdir()
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(dist), str(REPO)], check=True)
    (wheel,) = dist.glob("nasdsl-*.whl")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target),
                    str(wheel)], check=True)
    env = {**os.environ, "PYTHONPATH": str(target)}
    probe = ("import nasdsl, nasdsl.resources as r; print(nasdsl.__file__); "
             "print(r.grammar_path()); print(r.templates_dir()); print(r.zoo_dir())")
    out = subprocess.run([sys.executable, "-c", probe], cwd=work, env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    assert all(line.startswith(str(target)) for line in out), out
    assert Path(out[1]).is_file() and Path(out[3]).is_dir()
    check = subprocess.run([sys.executable, "-m", "nasdsl.cli", "check", "nasnet_a_mobile", "pnasnet5_large"],
                           cwd=work, env=env, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    shipped = sorted(p.name for p in Path(out[2]).glob("*.j2"))
    assert shipped == sorted(p.name for p in (REPO / "templates").glob("*.j2"))
