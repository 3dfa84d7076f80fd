"""A non-editable wheel, installed outside the repo, carries the grammar, templates and zoo."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _checkout(dest: Path) -> Path:
    """The files a fresh checkout has (tracked, and untracked but not ignored), copied to `dest`: a
    build/ left in the work tree by an earlier build would put modules that no longer exist into the
    wheel. Outside a git work tree, the tree itself."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, check=False)
    if listed.returncode != 0:
        return REPO
    for name in filter(None, listed.stdout.decode().split("\0")):
        if (REPO / name).is_file():  # a tracked file deleted in the work tree is listed too
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, dest / name)
    return dest


@pytest.mark.slow
def test_wheel_works_outside_the_repo(tmp_path):
    dist, target, work = tmp_path / "dist", tmp_path / "site", tmp_path / "elsewhere"
    work.mkdir()
    source = _checkout(tmp_path / "checkout")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(dist), str(source)], check=True)
    (wheel,) = dist.glob("nasdsl-*.whl")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target),
                    str(wheel)], check=True)
    env = {**os.environ, "PYTHONPATH": str(target)}
    probe = ("import nasdsl, nasdsl.resources as r, nasdsl_search; print(nasdsl.__file__); "
             "print(r.grammar_path()); print(r.templates_dir()); print(r.zoo_dir()); print(nasdsl_search.__file__)")
    out = subprocess.run([sys.executable, "-c", probe], cwd=work, env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    assert all(line.startswith(str(target)) for line in out), out
    assert Path(out[1]).is_file() and Path(out[3]).is_dir()
    # every module of both packages is in the wheel: nasdsl/ as nasdsl, search/ as nasdsl_search (no
    # top-level `search` that could collide with another distribution's)
    for folder, package in (("nasdsl", "nasdsl"), ("search", "nasdsl_search")):
        ours = {p.relative_to(REPO / folder).as_posix() for p in (REPO / folder).rglob("*.py")}
        wheel_files = {p.relative_to(target / package).as_posix() for p in (target / package).rglob("*.py")}
        assert ours == wheel_files, ours ^ wheel_files
    assert not (target / "search").exists()

    def nasdsl(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "nasdsl.cli.dispatch", *args], cwd=work, env=env,
                              capture_output=True, text=True, check=False)

    check = nasdsl("check", "nasnet_a_mobile", "pnasnet5_large")
    assert check.returncode == 0, check.stderr
    compiled = nasdsl("compile", "nasnet_a_cifar", "-o", str(work / "model.py"))
    assert compiled.returncode == 0 and (work / "model.py").is_file(), compiled.stderr
    # the main job's code path: every search module imports and a short run completes
    search = nasdsl("search", "--reward", "synthetic", "--trials", "3", "--workers", "1", "--quiet",
                    "--out", str(work / "run"))
    assert search.returncode == 0, search.stderr
    report = nasdsl("report", str(work / "run"), "--format", "json")
    assert report.returncode == 0 and (work / "run" / "report.html").is_file(), report.stderr
    shipped = sorted(p.name for p in Path(out[2]).glob("*.j2"))
    assert shipped == sorted(p.name for p in (REPO / "templates").glob("*.j2"))
