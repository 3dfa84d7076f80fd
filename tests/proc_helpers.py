"""Run the real `nasdsl` CLI in a subprocess and find every process it started, even after they
were reparented: each one carries a marker in its environment (inherited by spawned pool workers,
the multiprocessing resource tracker and the processes of a local Ray cluster)."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARKER = "NASDSL_TEST_MARKER"


def as_in_a_terminal(ignore: tuple = ()) -> None:
    """In the child: SIGINT and SIGHUP at their defaults, as in a terminal, even when the tests
    themselves were started in the background or under nohup (where they are ignored, and so would
    the driver ignore them, rightly); the signals in `ignore` ignored, as `nohup` ignores SIGHUP."""
    for s in (signal.SIGINT, signal.SIGHUP):
        signal.signal(s, signal.SIG_DFL)
    for s in ignore:
        signal.signal(s, signal.SIG_IGN)


def child_env(extra: dict | None = None) -> dict:
    """The environment of a child Python: ours, `extra`, and this checkout first on PYTHONPATH."""
    return {**os.environ, **(extra or {}), "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}


def cli(*args: str, marker: str | None = None, env: dict | None = None, ignore: tuple = (), **kw) -> subprocess.Popen:
    """`python -m nasdsl.cli.dispatch ARGS` in its own session, its descendants tagged with `marker`,
    the signals in `ignore` ignored from the start."""
    e = child_env(env)
    if marker:
        e[MARKER] = marker
    return subprocess.Popen([sys.executable, "-m", "nasdsl.cli.dispatch", *args], cwd=kw.pop("cwd", ROOT), env=e,
                            start_new_session=True, preexec_fn=lambda: as_in_a_terminal(ignore),
                            stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


def run_cli(*args: str, timeout: float = 120, input: str | None = None, cwd=None,
            env: dict | None = None) -> subprocess.CompletedProcess:
    """`python -m nasdsl.cli.dispatch ARGS` to the end, its output captured."""
    return subprocess.run([sys.executable, "-m", "nasdsl.cli.dispatch", *args], cwd=cwd or ROOT, env=child_env(env),
                          input=input, capture_output=True, text=True, timeout=timeout)


def user_error(r: subprocess.CompletedProcess, *needles: str, one_line: bool = False) -> str:
    """Assert that a finished CLI run reported a user mistake: exit 2, no traceback, no made-up
    `<input>` file name, each needle in stderr (and, with `one_line`, stderr one line). Returns it."""
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr and not r.stderr.startswith("<input>"), r.stderr
    if one_line:
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    for n in needles:
        assert n in r.stderr, (n, r.stderr)
    return r.stderr


def new_marker() -> str:
    return uuid.uuid4().hex


def marked(marker: str) -> list[int]:
    """Live (non-zombie) pids whose environment holds MARKER=marker."""
    needle = f"{MARKER}={marker}".encode()
    found = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/environ", "rb") as f:
                env = f.read()
            with open(f"/proc/{d}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if needle in env.split(b"\0") and state != b"Z":
            found.append(int(d))
    return found


def cmdline(pid: int) -> bytes:
    """A process's command line (NUL-separated), or b"" once it is gone."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""


def wait_gone(marker: str, seconds: float) -> list[int]:
    """Poll until no marked process is left (returns []) or `seconds` pass (returns the survivors)."""
    deadline = time.time() + seconds
    while True:
        left = marked(marker)
        if not left or time.time() > deadline:
            return left
        time.sleep(0.2)


def reap(pids: list[int]) -> None:
    """Kill leftovers so that a failed test does not leave load on the machine."""
    for pid in pids:
        try:
            os.kill(pid, 9)
        except OSError:
            pass


def store_rows(run: Path, sql: str) -> list[tuple]:
    """Rows of `sql` in the run folder's store, read-only (a reader must never create the store a
    starting driver is about to make); [] before the store or the queried tables exist."""
    if not (run / "trials.sqlite").exists():
        return []
    try:
        con = sqlite3.connect(f"file:{run / 'trials.sqlite'}?mode=ro", uri=True, timeout=10)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()
    except sqlite3.OperationalError:
        return []


def store_count(run: Path, sql: str) -> int:
    """The number a `SELECT COUNT(*) ...` query gives on the store, read-only; 0 before it exists."""
    rows = store_rows(run, sql)
    return rows[0][0] if rows else 0


def finished(run: Path) -> int:
    """Trials of the run folder that are done or failed (0 before the store exists)."""
    return store_count(run, "SELECT COUNT(*) FROM trials WHERE status != 'running'")


def in_flight(run: Path) -> list[str | None]:
    """The errors of the run folder's trials in flight ([] before the store exists). Between a poll
    that returned every worker's result and the next proposal there are none for a few milliseconds:
    a stop meant to find one waits until one is seen here."""
    return [e for (e,) in store_rows(run, "SELECT error FROM trials WHERE status = 'running'")]


def supernet_epochs(run: Path) -> list[int]:
    """The supernet epochs a one-shot run folder has checkpointed."""
    return [r[0] for r in store_rows(run, "SELECT epoch FROM oneshot_epochs ORDER BY epoch")]


def wait_for(pred, timeout: float, proc: subprocess.Popen | None = None, what: str = "condition",
             poll: float = 0.05) -> None:
    deadline = time.time() + timeout
    while not pred():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"process ended before {what}: {proc.communicate()}")
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(poll)


def kill_group_when(proc: subprocess.Popen, ready, timeout: float, what: str = "progress", poll: float = 0.05) -> None:
    """SIGKILL the process and everything in its session as soon as `ready()` holds."""
    wait_for(ready, timeout, proc, what, poll)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
