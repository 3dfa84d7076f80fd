"""A run folder keeps its own search space: `--resume` searches the space the run started with, even
after its .nas file was edited or removed, or from another directory (a relative --space); a note on
stderr says so where the source now holds another space. Multi-trial (real CLI) and one-shot runs."""
from __future__ import annotations

import json
import shutil
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from proc_helpers import run_cli, user_error

from nasdsl.lang.load import load
from nasdsl_search.space import load_space, space_from_dict

SMALL = "space sp {\n    blocks = 3\n    ops = id, sep3x3\n    combine = add\n    inputs = 2\n}\n"
BIG = "space sp {\n    blocks = 4\n    ops = id, sep3x3, avg3x3\n    combine = add\n    inputs = 2\n}\n"
DECISIONS = 2 * 5 * 3  # SMALL: 2 cells x 5 decisions x 3 blocks (BIG: 40)
NOTE = "sp.nas has changed since this run started; the run goes on with its space as it was then"
SYNTHETIC = ["--reward", "synthetic", "--workers", "1", "--threads", "1", "--quiet"]
STRATEGY = {"evolution": ["--population", "4", "--sample-size", "2"], "ppo": ["--controller-batch", "2"]}


def _search(cwd: Path, *args: str):
    r = run_cli("search", *args, cwd=cwd)
    assert r.returncode == 0, r.stderr
    return r


def _noted(stderr: str) -> None:
    """The resume said, in one line of stderr, that it goes on with the run's own space."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and NOTE in lines[0] and "another --out" in lines[0], stderr


def _run_table(run: Path, sql: str = "SELECT key, value FROM run") -> dict:
    con = sqlite3.connect(run / "trials.sqlite")
    try:
        rows = dict(con.execute(sql).fetchall())
        con.commit()
        return rows
    finally:
        con.close()


def _stored_space(run: Path):
    return space_from_dict(json.loads(_run_table(run)["space"]))


def _trials(run: Path) -> list[tuple[str, list[int]]]:
    con = sqlite3.connect(run / "trials.sqlite")
    try:
        return [(status, json.loads(d)) for status, d in con.execute("SELECT status, decisions FROM trials ORDER BY id")]
    finally:
        con.close()


def _searched_small(run: Path, trials: int) -> None:
    """Every trial and best.nas come from SMALL: 30 decisions, cells of 3 blocks."""
    got = _trials(run)
    assert [s for s, _ in got] == ["done"] * trials
    assert all(len(d) == DECISIONS for _, d in got)
    best = load(str(run / "best.nas"))
    assert len(best.cells["best_normal"].blocks) == 3 and len(best.cells["best_reduction"].blocks) == 3


def test_a_stored_space_reads_back_as_itself():
    for name in ("nasnet", "enas", "darts"):
        space = load_space(name)
        assert space_from_dict(json.loads(json.dumps(space.to_dict()))) == space


@pytest.mark.parametrize("strategy", ["evolution", "ppo"])
def test_resume_searches_the_space_the_run_started_with(tmp_path, strategy):
    here, elsewhere, run = tmp_path / "here", tmp_path / "elsewhere", tmp_path / "run"
    here.mkdir()
    elsewhere.mkdir()
    (here / "sp.nas").write_text(SMALL)
    first = _search(here, "--space", "sp.nas", "--strategy", strategy, "--trials", "4", "--out", str(run),
                    *STRATEGY[strategy], *SYNTHETIC)
    assert first.stderr == ""
    (here / "sp.nas").write_text(BIG)  # edited: more blocks and ops
    _noted(_search(here, "--resume", "--out", str(run), "--trials", "8", "--quiet").stderr)
    (elsewhere / "sp.nas").write_text(BIG)  # the relative path read from another directory
    _noted(_search(elsewhere, "--resume", "--out", str(run), "--trials", "10", "--quiet").stderr)
    (here / "sp.nas").unlink()  # removed: nothing to say
    assert _search(here, "--resume", "--out", str(run), "--trials", "12", "--quiet").stderr == ""
    _searched_small(run, 12)


def test_a_run_folder_from_before_resumes_and_keeps_its_space_from_then_on(tmp_path):
    run = tmp_path / "run"
    (tmp_path / "sp.nas").write_text(SMALL)
    _search(tmp_path, "--space", "sp.nas", "--strategy", "evolution", "--trials", "3", "--out", str(run),
            *STRATEGY["evolution"], *SYNTHETIC)
    assert _stored_space(run) == load_space(str(tmp_path / "sp.nas"))
    _run_table(run, "DELETE FROM run WHERE key = 'space'")  # made before run folders kept their space
    assert _search(tmp_path, "--resume", "--out", str(run), "--trials", "5", "--quiet").stderr == ""
    assert _stored_space(run) == load_space(str(tmp_path / "sp.nas"))  # stored at that resume
    (tmp_path / "sp.nas").write_text(BIG)
    _noted(_search(tmp_path, "--resume", "--out", str(run), "--trials", "7", "--quiet").stderr)
    _searched_small(run, 7)


@pytest.fixture(scope="module")
def zoo_run(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("zoo") / "run"
    _search(run.parent, "--space", "enas", "--strategy", "random", "--trials", "2", "--out", str(run), *SYNTHETIC)
    return run


@pytest.fixture
def run(zoo_run, tmp_path) -> Path:
    return Path(shutil.copytree(zoo_run, tmp_path / "run"))


def test_resume_of_an_unchanged_zoo_space_says_nothing(run):
    r = _search(run.parent, "--resume", "--out", str(run), "--trials", "3", "--quiet")
    assert r.stderr == "" and "trials: 3 done" in r.stdout


ENAS = load_space("enas").to_dict()


@pytest.mark.parametrize("value,needle", [
    ("{not json", "value is not valid JSON"),
    ('["enas"]', "value is not a JSON object"),
    (json.dumps({**ENAS, "ops": ["id", "warp9"]}), "which the registry lacks"),
    (json.dumps({**ENAS, "blocks": "5"}), "a setting has the wrong type"),
    (json.dumps({**ENAS, "blocks": 10**9}), "out of range"),
    (json.dumps({k: v for k, v in ENAS.items() if k != "ops"}), "KeyError"),
    (json.dumps({**ENAS, "extra": 1}), "TypeError"),
])
def test_a_damaged_stored_space_is_named_by_resume(run, value, needle):
    con = sqlite3.connect(run / "trials.sqlite")
    con.execute("UPDATE run SET value = ? WHERE key = 'space'", (value,))
    con.commit()
    con.close()
    r = run_cli("search", "--resume", "--out", str(run), "--trials", "3", "--quiet")
    user_error(r, f"{run / 'trials.sqlite'}: table run, key 'space'", needle, "the store is damaged", one_line=True)
    assert len(_trials(run)) == 2


def _one_shot(folder: Path, epochs: int):
    """A new random-ws run on sp.nas (relative) whose supernet epoch and pick take about a second."""
    from nasdsl_search.driver import SearchConfig
    from nasdsl_search.oneshot import OneShot, OneShotConfig

    cfg = SearchConfig(strategy="random-ws", space="sp.nas", train_size=128, val_size=64)
    cfg = replace(cfg, proxy=replace(cfg.proxy, filters=4), train=replace(cfg.train, batch_size=32, epochs=1))
    return OneShot(folder, cfg, OneShotConfig(epochs=epochs, rank_samples=2, top_k=1, eval_images=64))


def _one_epoch(run) -> None:
    """Train `run`'s supernet one epoch more (a checkpoint after it), then close it."""
    from types import SimpleNamespace

    start = run.epoch
    try:
        run.train_supernet(deadline=SimpleNamespace(passed=lambda: run.epoch > start))
    finally:
        run.close()


def test_a_resumed_one_shot_run_keeps_its_supernet_space(tmp_path, monkeypatch, capsys):
    from nasdsl_search.oneshot import OneShot

    here, elsewhere, folder = tmp_path / "here", tmp_path / "elsewhere", tmp_path / "run"
    here.mkdir()
    elsewhere.mkdir()
    monkeypatch.chdir(here)
    (here / "sp.nas").write_text(SMALL)
    _one_epoch(_one_shot(folder, 3))
    small = load_space("sp.nas")
    assert capsys.readouterr().err == ""
    (here / "sp.nas").write_text(BIG)
    run = OneShot(folder, resume=True)  # the checkpoint's supernet is SMALL's: it loads
    assert run.epoch == 1 and run.space == small
    _noted(capsys.readouterr().err)
    _one_epoch(run)
    (here / "sp.nas").unlink()
    monkeypatch.chdir(elsewhere)  # the relative path is nowhere now
    run = OneShot(folder, resume=True)
    try:
        assert run.epoch == 2 and run.space == small
        run.run(progress=False)
    finally:
        run.close()
    assert capsys.readouterr().err == ""
    _searched_small(folder, 1)
