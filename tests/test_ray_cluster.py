"""`nasdsl search --executor ray --address` against a real two-node Ray cluster started with the
`ray` CLI (see tests/ray_cluster.py): trials on both nodes, resources honoured, a worker node killed
with SIGKILL mid-run, the head lost and the run resumed on a new cluster. Slow: every node is a set
of real Ray processes, and a loaded machine takes tens of seconds to start one."""
from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from references import require

from nasdsl.errors import NasError
from nasdsl_search.store import Store

ray = require("ray")
from data_fixtures import write_folder  # noqa: E402  (tests/ is on sys.path under pytest)
from proc_helpers import child_env, run_cli  # noqa: E402
from ray_cluster import LocalCluster, _cmdline  # noqa: E402

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
HEAD_CPUS, NODE_CPUS = 2, 1


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """Head (2 CPUs, the machine's address) + a worker node (1 CPU, 127.0.0.2)."""
    c = LocalCluster(tmp_path_factory.mktemp("raycluster"))
    try:
        c.head(cpus=HEAD_CPUS)
        c.add_node("127.0.0.2", cpus=NODE_CPUS)
        yield c
    finally:
        c.stop()
        assert c.leftovers() == [], "processes of the test cluster outlived it"


SYNTHETIC = ["search", "--reward", "synthetic", "--strategy", "random", "--executor", "ray", "--device", "cpu",
             "--quiet"]


# A driver process running a synthetic search whose children sleep (the CLI has no flag for that).
DRIVER = """
import json, sys
from nasdsl_search.driver import Search, SearchConfig
from nasdsl_search.executors import make_executor
from nasdsl_search.strategies import StrategyOptions
a = json.loads(sys.argv[1])
s = Search(a["out"], SearchConfig(strategy="random", reward="synthetic", trials=a["trials"],
                                  options=StrategyOptions(batch=2)))
s.synthetic_extra = {"sleep": a["sleep"]}
ex = make_executor("ray", a["workers"], a["address"], device="cpu", cpus_per_trial=a.get("cpus"))
print(json.dumps(s.run(ex, workers=a["workers"], progress=False).counts))
s.close()
"""


def driver(cluster: LocalCluster, **a) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", DRIVER, json.dumps({"address": cluster.address, **a})],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env(cluster.env), cwd=ROOT)


def test_trials_land_on_both_nodes_and_the_report_says_where(cluster, tmp_path):
    out = tmp_path / "run"
    # each child sleeps 1 s, so that 3 in flight need both nodes' CPUs (instant children may all land on one)
    r = run_cli(*SYNTHETIC, "--trials", "9", "--workers", "3", "--address", cluster.address, "--out", str(out),
                env={**cluster.env, "NASDSL_SYNTHETIC_SLEEP": "1"}, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "note:" not in r.stderr  # 3 workers, 3 CPUs: nothing waits
    nodes = {n["ip"]: n["id"] for n in cluster.alive_nodes()}
    store = Store(out, create=False)
    trials = store.trials()
    assert len(trials) == 9 and all(t["status"] == "done" for t in trials)
    assert {t["ip"] for t in trials} == set(nodes) == {cluster.nodes[0].ip, "127.0.0.2"}
    assert all(t["node"] == nodes[t["ip"]] and t["pid"] and t["host"] for t in trials)
    described = store.config("cluster")
    assert described["address"] == cluster.address and described["gcs"] == cluster.address
    assert sorted(n["ip"] for n in described["nodes"]) == sorted(nodes)
    store.close()
    rep = run_cli("report", str(out))
    assert rep.returncode == 0, rep.stderr
    assert f"executor ray at {cluster.address}, 2 nodes" in rep.stdout
    assert "where trials ran:" in rep.stdout and "127.0.0.2/" in rep.stdout
    html = (out / "report.html").read_text()
    assert f"executor ray at {cluster.address}" in html and f"127.0.0.2/{nodes['127.0.0.2'][:8]}" in html
    js = json.loads(run_cli("report", str(out), "--format", "json", "--no-html").stdout)
    assert {t["node"] for t in js["trials"]} == set(nodes.values())

    # --address auto: the cluster named by RAY_ADDRESS (on a cluster machine: the one it belongs to)
    auto = tmp_path / "auto"
    # (--workers beyond the cluster's 3 CPUs: said, not silently queued)
    r = run_cli(*SYNTHETIC, "--trials", "3", "--workers", "5", "--address", "auto", "--out", str(auto),
                env={**cluster.env, "RAY_ADDRESS": cluster.address}, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert ("note: the Ray cluster at auto holds 3 trials of 1 CPU at once; --workers 5 leaves 2 waiting "
            "for a place") in r.stderr, r.stderr[-3000:]
    store = Store(auto, create=False)
    assert store.counts()["done"] == 3
    assert store.config("cluster")["address"] == "auto" and store.config("cluster")["gcs"] == cluster.address
    store.close()


def test_without_address_a_search_starts_its_own_cluster_beside_a_running_one(cluster, tmp_path):
    """README: without --address, --executor ray starts a private local cluster. Ray's own default
    joins the cluster in $RAY_ADDRESS instead (and refused this search's CPU count there)."""
    out = tmp_path / "own"
    r = run_cli(*SYNTHETIC, "--trials", "2", "--workers", "1", "--out", str(out),
                env={**cluster.env, "RAY_ADDRESS": cluster.address}, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    store = Store(out, create=False)
    described = store.config("cluster")
    assert described["started_here"] and described["gcs"] != cluster.address
    assert store.counts()["done"] == 2
    assert not {t["node"] for t in store.trials()} & {n["id"] for n in cluster.alive_nodes()}
    store.close()


def test_cpus_per_trial_is_honoured_and_impossible_requests_fail_fast(cluster, tmp_path):
    """2 CPUs per trial: only the 2-CPU head can take one, and never two at once."""
    out, err = driver(cluster, out=str(tmp_path / "two"), trials=4, sleep=1.0, workers=3, cpus=2).communicate(
        timeout=300)
    assert json.loads(out.splitlines()[-1])["done"] == 4, err[-3000:]
    trials = sorted(Store(tmp_path / "two", create=False).trials(), key=lambda t: t["started_at"])
    assert {t["ip"] for t in trials} == {cluster.nodes[0].ip}
    for a, b in zip(trials, trials[1:]):
        assert b["started_at"] >= a["finished_at"] - 0.05, "two 2-CPU trials ran at once on 2 CPUs"

    for flags, expect in ((["--gpus-per-trial", "1"], "0 GPU"), (["--cpus-per-trial", "3"], "has 3 CPU")):
        t = time.time()
        r = run_cli(*SYNTHETIC, "--trials", "2", "--address", cluster.address, "--out", str(tmp_path / flags[0]),
                    *flags, env=cluster.env)
        assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr[-3000:]
        assert "no node of the Ray cluster" in r.stderr and expect in r.stderr
        assert time.time() - t < 90  # refused, not left pending


def can_hide_folders() -> bool:
    return subprocess.run(["unshare", "--mount", "true"], capture_output=True).returncode == 0


@pytest.mark.skipif(not can_hide_folders(), reason="needs unshare --mount (root or CAP_SYS_ADMIN)")
def test_a_node_that_cannot_read_the_data_set_fails_its_trials_with_that_message(cluster, tmp_path):
    """A third node for which the data set's folder does not exist (its own mount namespace hides
    the shared folder, as on a machine that lacks it): its trials fail with the data set's one-line
    message and the node's address; the other nodes train theirs."""
    shared = tmp_path / "shared"
    data = write_folder(shared / "pets", train=6, val=3, size=(16, 16))
    cluster.add_node("127.0.0.3", cpus=1, hide=shared)
    out = tmp_path / "run"
    r = run_cli("search", "--strategy", "random", "--trials", "8", "--workers", "4", "--executor", "ray",
                "--device", "cpu", "--quiet", "--out", str(out), "--address", cluster.address,
                "--dataset", f"imagefolder:{data}", "--epochs", "1", "--cells", "1", "--filters", "4",
                "--threads", "1", env=cluster.env, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    store = Store(out, create=False)
    trials = store.trials()
    store.close()
    blind = [t for t in trials if t["status"] == "failed"]
    assert blind and all("127.0.0.3" in t["error"] and "imagefolder: no such folder" in t["error"]
                         and str(data) in t["error"] and "Traceback" not in t["error"] for t in blind)
    assert all(t["ip"] == "127.0.0.3" for t in blind)
    assert any(t["status"] == "done" for t in trials)
    assert all(t["ip"] != "127.0.0.3" for t in trials if t["status"] == "done")


def test_a_killed_worker_node_loses_no_trial(cluster, tmp_path, capsys):
    """SIGKILL to every process of the worker node while it runs a trial: Ray runs that trial again
    on the head; every trial is recorded once; the search reaches its count."""
    node_ip = "127.0.0.2"
    proc = driver(cluster, out=str(tmp_path / "kill"), trials=12, sleep=2.0, workers=3)
    victim = cluster.nodes[1]
    killed_at = None
    deadline = time.time() + 300
    seen = set()
    while proc.poll() is None and time.time() < deadline and killed_at is None:
        if cluster.running(victim, "_run_on_ray"):  # the node is running a trial now: kill it
            victim.kill()
            killed_at = time.time()
        seen |= {_cmdline(pid)[:60] for pid in victim.processes()}
        time.sleep(0.1)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0 and killed_at is not None, (sorted(seen), err[-3000:])
    assert sum(json.loads(out.splitlines()[-1]).values()) == 12
    store = Store(tmp_path / "kill", create=False)
    trials = store.trials()
    store.close()
    assert sorted(t["id"] for t in trials) == list(range(1, 13))  # once each
    for t in trials:
        if t["status"] == "failed":
            assert "ray task failed" in t["error"] and "node" in t["error"].lower()
    after = [t for t in trials if t["status"] == "done" and t["started_at"] > killed_at]
    assert after and all(t["ip"] != node_ip for t in after)  # the dead node ran nothing more
    retried = [t for t in after if t["proposed_at"] < killed_at]
    assert retried, "no trial that was running at the kill was run again"
    # the node's trial is among those proposed before the kill and started after it: the last of
    # them to start bounds the time from node death to that trial running again
    recovery = max(t["started_at"] for t in retried) - killed_at
    with capsys.disabled():
        print(f"\n[recovery] worker node SIGKILL -> its trial running again elsewhere: at most {recovery:.1f} s "
              f"({sum(t['status'] == 'failed' for t in trials)} failed)")
    assert recovery < 60


def test_a_lost_head_stops_the_driver_and_resume_continues_on_a_new_cluster(cluster, tmp_path):
    """The head killed under a running search (real tiny children): the driver leaves with exit 2 and
    one line, within its bound; `--resume --address NEW` on a fresh cluster finishes the run."""
    out = tmp_path / "run"
    child = ["--reward", "accuracy", "--dataset", "digits", "--train-size", "200", "--val-size", "100",
             "--epochs", "1", "--cells", "1", "--filters", "4", "--threads", "1"]
    args = ["search", "--strategy", "random", "--trials", "8", "--workers", "2", "--executor", "ray",
            "--device", "cpu", "--quiet", "--out", str(out), *child]
    proc = subprocess.Popen([sys.executable, "-m", "nasdsl.cli.dispatch", *args, "--address", cluster.address],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            env=child_env({**cluster.env, "NASDSL_RAY_LOST_AFTER": "8"}))
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        with contextlib.suppress(NasError):  # the store may be half made yet
            peek = Store(out, create=False)
            n = peek.counts()["done"]
            peek.close()
            if n >= 1:
                break
        time.sleep(0.5)
    assert proc.poll() is None, proc.communicate()[1][-3000:]
    for node in cluster.nodes:  # the whole cluster goes: head first
        node.kill()
    lost_at = time.time()
    try:
        _, err = proc.communicate(timeout=90)
    finally:
        proc.kill()
    stopped = time.time() - lost_at
    assert proc.returncode == 2, err[-3000:]
    assert "Traceback" not in err
    last = [line for line in err.splitlines() if line.strip()][-1]
    assert "error: lost the Ray cluster at" in last and "<input>" not in last and "--resume" in last
    assert stopped < 8 + 30
    store = Store(out, create=False)
    before = store.counts()
    store.close()
    assert before["done"] >= 1 and sum(before.values()) < 8

    fresh = LocalCluster(tmp_path / "again")
    try:
        fresh.head(cpus=2)
        r = run_cli("search", "--resume", "--out", str(out), "--address", fresh.address, "--quiet",
                    env=fresh.env, timeout=600)
        assert r.returncode == 0, r.stderr[-3000:]
        store = Store(out, create=False)
        trials = store.trials()
        store.close()
        assert sorted(t["id"] for t in trials) == list(range(1, 9)) and {t["status"] for t in trials} <= {"done",
                                                                                                       "failed"}
        assert sum(t["status"] == "done" for t in trials) >= 7
        assert any(t["ip"] == fresh.nodes[0].ip and t["finished_at"] > lost_at for t in trials)
    finally:
        fresh.stop()
        assert fresh.leftovers() == []
    print(f"\n[head lost] driver stopped {stopped:.1f} s after the cluster was killed", file=sys.stderr)
