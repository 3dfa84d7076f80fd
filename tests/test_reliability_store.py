"""A run folder's store read by `nasdsl report` and `nasdsl search --resume` (real CLI, subprocesses):
a foreign or damaged store, a report.html that cannot be written and a folder the user may only read
are one located line and exit 2; reading never changes the store."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from proc_helpers import ROOT, child_env, run_cli, user_error

from nasdsl.errors import NasError
from nasdsl_search import oneshot_store
from nasdsl_search.oneshot_report import section
from nasdsl_search.report_html import _chart, write_report
from nasdsl_search.store import Store

NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


@pytest.fixture(scope="module")
def made_run(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("made") / "run"
    r = run_cli("search", "--reward", "synthetic", "--strategy", "random", "--trials", "4", "--out", str(run),
                "--quiet")
    assert r.returncode == 0, r.stderr
    return run


@pytest.fixture
def run(made_run, tmp_path) -> Path:
    return Path(shutil.copytree(made_run, tmp_path / "run"))


def _user_error(r: subprocess.CompletedProcess, *needles: str) -> str:
    return user_error(r, *needles, one_line=True)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _files(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def _execute(db: Path, sql: str) -> None:
    con = sqlite3.connect(db)
    con.execute(sql)
    con.commit()
    con.close()


# ------------------------------------------------------------------ 1. not a nasdsl store: nothing written
def _foreign(db: Path, kind: str) -> None:
    if kind == "foreign":
        _execute(db, "CREATE TABLE x (a INTEGER)")
    elif kind == "empty":
        db.write_bytes(b"")
    else:
        db.write_bytes(b"not a database " * 100)


@pytest.mark.parametrize("kind", ["foreign", "empty", "garbage"])
def test_report_of_a_foreign_store_changes_nothing(tmp_path, kind):
    folder = tmp_path / "o2"
    folder.mkdir()
    db = folder / "trials.sqlite"
    _foreign(db, kind)
    before, files = _sha(db), _files(folder)
    for args in (["--no-html"], ["--format", "json", "--no-html"], []):
        r = run_cli("report", str(folder), *args)
        _user_error(r, str(db), "not a nasdsl trial store")
        assert r.stdout == ""
        assert _sha(db) == before and _files(folder) == files


def test_resume_of_a_foreign_store_changes_nothing(tmp_path):
    folder = tmp_path / "o2"
    folder.mkdir()
    db = folder / "trials.sqlite"
    _foreign(db, "foreign")
    before = _sha(db)
    _user_error(run_cli("search", "--resume", "--out", str(folder), "--quiet"), str(db), "not a nasdsl trial store")
    assert _sha(db) == before
    assert set(_files(folder)) <= {"trials.sqlite", "driver.lock"}


def test_report_leaves_a_valid_store_as_it_was(run):
    db = run / "trials.sqlite"
    before, files = _sha(db), _files(run)
    r = run_cli("report", str(run), "--format", "json", "--no-html")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["counts"]["done"] == 4
    assert _sha(db) == before and _files(run) == files


def test_report_reads_what_a_live_writer_committed_to_its_wal(run):
    db = run / "trials.sqlite"
    writer = sqlite3.connect(db, isolation_level=None)  # as a running driver: its commits are in the WAL
    try:
        writer.execute("PRAGMA journal_mode=WAL")
        writer.execute("UPDATE trials SET reward = 0.987 WHERE id = 1")
        assert (run / "trials.sqlite-wal").stat().st_size > 0
        before = _sha(db)
        r = run_cli("report", str(run), "--format", "json", "--no-html")
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["trials"][0]["reward"] == 0.987
        assert _sha(db) == before
    finally:
        writer.close()


# ------------------------------------------------------------------ 2. report.html that cannot be written
def test_report_html_that_is_a_directory_is_refused_before_any_output(run):
    (run / "report.html").mkdir()
    r = run_cli("report", str(run))
    _user_error(r, "report.html", "--no-html")
    assert r.stdout == ""
    r = run_cli("report", str(run), "--no-html")
    assert r.returncode == 0 and "4 done" in r.stdout


# ------------------------------------------------------------------ 3. a damaged JSON value
DAMAGED = {
    "meta": ("UPDATE trials SET meta = '{' WHERE id = 1", "table trials, id 1: meta is not valid JSON"),
    "decisions": ("UPDATE trials SET decisions = 'x' WHERE id = 1", "table trials, id 1: decisions is not valid JSON"),
    "meta-list": ("UPDATE trials SET meta = '[]' WHERE id = 2", "table trials, id 2: meta is not a JSON object"),
    "config": ("UPDATE run SET value = '{not json' WHERE key = 'config'",
               "table run, key 'config': value is not valid JSON"),
    "executor": ("UPDATE run SET value = '[1]' WHERE key = 'executor'",
                 "table run, key 'executor': value is not a JSON object"),
}


@pytest.mark.parametrize("damage", DAMAGED)
@pytest.mark.parametrize("command", ["table", "json", "resume"])
def test_a_damaged_json_value_is_named(run, damage, command):
    sql, needle = DAMAGED[damage]
    db = run / "trials.sqlite"
    _execute(db, sql)
    args = {"table": ["report", str(run), "--no-html"], "json": ["report", str(run), "--format", "json", "--no-html"],
            "resume": ["search", "--resume", "--out", str(run), "--quiet"]}[command]
    r = run_cli(*args)
    _user_error(r, f"{db}: {needle}", "the store is damaged")


def test_resume_names_a_damaged_row_before_running_more_trials(run):
    db = run / "trials.sqlite"
    _execute(db, DAMAGED["meta"][0])
    _user_error(run_cli("search", "--resume", "--out", str(run), "--trials", "8", "--quiet"), "table trials, id 1: meta")
    con = sqlite3.connect(db)
    assert con.execute("SELECT COUNT(*) FROM trials").fetchone()[0] == 4
    con.close()


def test_a_damaged_strategy_state_is_named_by_resume(run):
    _execute(run / "trials.sqlite", "UPDATE strategy_state SET state = x'00ff'")
    _user_error(run_cli("search", "--resume", "--out", str(run), "--quiet"), "table strategy_state: cannot be read",
                "the store is damaged")


def test_a_damaged_supernet_checkpoint_is_named_by_resume(tmp_path):
    run = tmp_path / "one-shot"
    r = run_cli("search", "--strategy", "random-ws", "--space", "enas", "--train-size", "128", "--val-size", "64",
                "--filters", "4", "--batch-size", "32", "--eval-images", "32", "--rank-samples", "2", "--top-k", "1",
                "--supernet-epochs", "1", "--epochs", "1", "--threads", "1", "--quiet", "--out", str(run),
                env={"OMP_NUM_THREADS": "1"}, timeout=300)
    assert r.returncode == 0, r.stderr
    _execute(run / "trials.sqlite", "UPDATE oneshot_checkpoint SET state = x'00ff'")
    _user_error(run_cli("search", "--resume", "--out", str(run), "--quiet"),
                "table oneshot_checkpoint, epoch 1: cannot be read", "the store is damaged")


def test_a_damaged_update_log_is_named(run):
    _execute(run / "trials.sqlite", "INSERT OR REPLACE INTO updates VALUES (7, 0, 0, '{', x'00')")
    _user_error(run_cli("report", str(run), "--format", "json", "--no-html"), "table updates, n 7: info")


def test_a_config_of_the_wrong_shape_is_refused_by_resume(run):
    _execute(run / "trials.sqlite", """UPDATE run SET value = '{"proxy": 3}' WHERE key = 'config'""")
    _user_error(run_cli("search", "--resume", "--out", str(run), "--quiet"), "table run, key 'config'",
                "the store is damaged")


def test_report_html_readers_name_a_damaged_value(run):
    db = run / "trials.sqlite"
    _execute(db, "UPDATE run SET value = '{' WHERE key = 'executor'")
    with pytest.raises(NasError, match=r"table run, key 'executor': value is not valid JSON"):
        write_report(run)
    assert not (run / "report.html").exists()


def _oneshot_tables(db: Path, info: str, decisions: str) -> None:
    con = sqlite3.connect(db)
    con.executescript(oneshot_store.SCHEMA)
    con.execute("INSERT INTO oneshot_epochs VALUES (1, 0, ?)", (info,))
    con.execute("INSERT INTO oneshot_archs (phase, epoch, decisions, at) VALUES ('rank', 1, ?, 0)", (decisions,))
    con.commit()
    con.close()


def test_oneshot_readers_name_a_damaged_value(run):
    db = run / "trials.sqlite"
    _oneshot_tables(db, "{", "x")
    with pytest.raises(NasError, match=r"table oneshot_epochs, epoch 1: info is not valid JSON"):
        section(run, _chart)
    store = Store(run, create=False, readonly=True)
    try:
        with pytest.raises(NasError, match=r"table oneshot_epochs, epoch 1: info"):
            oneshot_store.epochs(store)
        with pytest.raises(NasError, match=r"table oneshot_archs, id 1: decisions"):
            oneshot_store.archs(store)
    finally:
        store.close()
    r = run_cli("report", str(run))
    _user_error(r, f"{db}: table oneshot_epochs, epoch 1: info")


# ------------------------------------------------------------------ 4. a run folder the user may only read
def _as_reader(*args: str) -> subprocess.CompletedProcess:
    """The CLI run by a user who may read but not write the run folder (nobody, when we are root)."""
    cmd = [sys.executable, "-m", "nasdsl.cli.dispatch", *args]
    return subprocess.run(NOBODY + cmd if os.geteuid() == 0 else cmd, cwd=ROOT, env=child_env(),
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def shared_dir():
    """A folder others may enter (pytest's tmp_path is the owner's alone)."""
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv: a read-only folder cannot be tested")
        probe = subprocess.run(NOBODY + [sys.executable, "-c", "import nasdsl"], cwd=ROOT, env=child_env(),
                               capture_output=True, text=True)
        if probe.returncode != 0:
            pytest.skip(f"nobody cannot run this checkout's Python: {probe.stderr.strip()[-200:]}")
    d = Path(tempfile.mkdtemp(prefix="nasdsl-ro-"))
    d.chmod(0o755)
    yield d
    for p in d.rglob("*"):
        if p.is_dir():
            p.chmod(0o755)
    shutil.rmtree(d)


def test_a_store_in_a_folder_the_user_cannot_write_is_reported(made_run, shared_dir):
    run = Path(shutil.copytree(made_run, shared_dir / "ro_run"))
    db = run / "trials.sqlite"
    db.chmod(0o444)
    run.chmod(0o555)
    before, files = _sha(db), _files(run)
    r = _as_reader("report", str(run), "--no-html")
    assert r.returncode == 0, r.stderr
    assert "4 done" in r.stdout
    r = _as_reader("report", str(run), "--format", "json", "--no-html")
    assert r.returncode == 0 and json.loads(r.stdout)["counts"]["done"] == 4
    r = _as_reader("report", str(run))
    _user_error(r, "report.html", "--no-html")
    assert r.stdout == ""
    assert _sha(db) == before and _files(run) == files


def test_a_live_wal_in_a_folder_the_user_cannot_write_is_read(made_run, shared_dir):
    if os.geteuid() != 0:
        pytest.skip("the reader is another user (nobody) only when the tests run as root; as its owner it may write")
    run = Path(shutil.copytree(made_run, shared_dir / "live"))
    run.chmod(0o755)  # the owner's driver writes here; the reader may not
    probe = subprocess.run(NOBODY + [sys.executable, "-c", f"open({str(run / 'probe')!r}, 'x')"],
                           capture_output=True, text=True)
    assert probe.returncode != 0 and "PermissionError" in probe.stderr, probe
    writer = sqlite3.connect(run / "trials.sqlite", isolation_level=None)
    try:
        writer.execute("PRAGMA journal_mode=WAL")
        writer.execute("UPDATE trials SET reward = 0.987 WHERE id = 1")
        r = _as_reader("report", str(run), "--format", "json", "--no-html")
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["trials"][0]["reward"] == 0.987
    finally:
        writer.close()
