"""The search loop end to end: store, strategy state, budgets, failures, executors, best.nas, CLI."""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import time
from dataclasses import replace

import pytest
from references import require

from nasdsl.cli.dispatch import main as nasdsl_main
from nasdsl.errors import NasError
from nasdsl.lang.load import load, load_text
from nasdsl_search import driver
from nasdsl_search.driver import Search, SearchConfig
from nasdsl_search.executors import LocalExecutor
from nasdsl_search.report_cli import report_data
from nasdsl_search.space import ProxyNet, load_space
from nasdsl_search.store import Store, load_state
from nasdsl_search.strategies import StrategyOptions
from nasdsl_search.synthetic import synthetic_reward
from nasdsl_search.trainer import TrainConfig

SPACE = load_space("nasnet")


def synthetic(strategy="ppo", trials=30, **kw) -> SearchConfig:
    return SearchConfig(strategy=strategy, reward="synthetic", trials=trials,
                        options=StrategyOptions(batch=5, population=6, sample_size=3), **kw)


def test_a_synthetic_run_stores_every_trial_and_every_update(tmp_path):
    s = Search(tmp_path / "run", synthetic("ppo", 30))
    summary = s.run("local", workers=2, progress=False)
    s.close()
    assert summary.counts == {"running": 0, "done": 30, "failed": 0}
    store = Store(tmp_path / "run", create=False)
    trials = store.trials()
    assert [t["id"] for t in trials] == list(range(1, 31))
    assert sorted(t["observed"] for t in trials) == list(range(1, 31))
    for t in trials:  # the stored reward is the reward of the stored decisions, and the text is theirs
        assert t["reward"] == synthetic_reward(SPACE, tuple(t["decisions"]), 0)
        assert t["strategy"] == "ppo" and t["seconds"] is not None and t["finished_at"] >= t["proposed_at"]
        assert f"# sampled from space nasnet: {' '.join(map(str, t['decisions']))}" in t["nas"]
    assert len({t["seed"] for t in trials}) == 30
    assert [u["n"] for u in store.update_log()] == [1, 2, 3, 4, 5, 6]
    state = load_state(store.saved_state())
    assert state["name"] == "ppo" and state["observed"] == 30 and state["updates"] == 6
    best = max(trials, key=lambda t: (t["reward"], -t["id"]))
    program = load(str(tmp_path / "run" / "best.nas"))
    assert {"best_proxy", "best_mobile", "best_large"} <= set(program.networks)
    assert f"trial {best['id']}," in (tmp_path / "run" / "best.nas").read_text()
    store.close()


def test_budgets_reject_before_training_and_the_search_goes_on(tmp_path):
    """ppo learns from a proposal over budget: it is a failed trial, observed, without training."""
    cfg = synthetic("ppo", 40, max_params=120_000)  # the proxy child: about 50k-250k params
    s = Search(tmp_path / "run", cfg)
    s.run("local", workers=1, progress=False)
    trials = s.store.trials()
    state = load_state(s.store.saved_state())
    s.close()
    over = [t for t in trials if t["status"] == "failed"]
    ok = [t for t in trials if t["status"] == "done"]
    assert over and ok and len(trials) == 40 and state["observed"] == 40
    assert all(t["params"] <= 120_000 for t in ok)
    assert all(t["params"] > 120_000 and t["error"].startswith("over budget:") and t["seconds"] == 0.0 for t in over)
    assert all("redrawn" not in t["meta"] for t in trials)
    s2 = Search(tmp_path / "mobile", synthetic("ppo", 10, max_madds=1, budget_on="mobile"))
    s2.run("local", workers=1, progress=False)
    assert all("mult-adds > --max-madds 1 (mobile)" in t["error"] for t in s2.store.trials())
    s2.close()


@pytest.mark.parametrize("strategy", ["random", "evolution"])
def test_random_and_evolution_draw_again_over_budget(tmp_path, capsys, strategy):
    """They learn nothing from a proposal over budget, so it is drawn again, not stored: every
    trial trains a child within budget; `redrawn` in a trial's meta counts the draws it took."""
    s = Search(tmp_path / "run", synthetic(strategy, 40, max_params=120_000))
    s.run("local", workers=1, progress=False)
    trials = s.store.trials()
    state = load_state(s.store.saved_state())
    s.close()
    assert [t["status"] for t in trials] == ["done"] * 40 and state["observed"] == 40
    assert all(t["params"] <= 120_000 for t in trials)
    redrawn = sum(t["meta"].get("redrawn", 0) for t in trials)
    assert redrawn >= 10  # most random cells are over 120k
    assert nasdsl_main(["report", str(tmp_path / "run"), "--no-html"]) == 0
    assert f"proposals over budget, drawn again (not trained, not stored): {redrawn}\n" in capsys.readouterr().out
    if strategy == "evolution":  # the population: the last 6 trials, the first 6 drawn at random
        assert [(tuple(d), r) for d, r in state["population"]] == [(tuple(t["decisions"]), t["reward"])
                                                                    for t in trials[-6:]]
        assert all(t["meta"]["parent"] is None for t in trials[:6])
        assert all(t["meta"]["parent"] is not None for t in trials[6:])


def test_redraws_are_capped_and_then_the_proposal_fails(tmp_path, monkeypatch):
    monkeypatch.setattr(driver, "REDRAWS", 5)
    s = Search(tmp_path / "run", synthetic("random", 2, max_madds=1, budget_on="mobile"))
    s.run("local", workers=1, progress=False)
    trials = s.store.trials()
    s.close()
    assert [t["status"] for t in trials] == ["failed"] * 2
    assert all(t["meta"]["redrawn"] == 5 and t["error"].endswith(
        "mult-adds > --max-madds 1 (mobile); so were the 5 proposals drawn before it") for t in trials)


def test_a_budgeted_evolution_resumes_as_if_never_stopped(tmp_path):
    """Redraws leave nothing in the store; the strategy's saved rng carries them across a stop."""
    cfg = synthetic("evolution", 30, max_params=120_000)
    straight = Search(tmp_path / "straight", cfg)
    straight.run("local", workers=1, progress=False)
    expected = [(t["decisions"], t["meta"], t["reward"], t["seed"]) for t in straight.store.trials()]
    straight.close()
    s = Search(tmp_path / "run", cfg)
    s.synthetic_extra = {"sleep": 0.05}
    s.run("local", workers=1, progress=False, minutes=0.5 / 60)
    stopped_at = s.store.counts()["done"]
    s.close()
    assert 0 < stopped_at < 30
    s = Search(tmp_path / "run", resume=True)
    s.run("local", workers=1, progress=False)
    assert [(t["decisions"], t["meta"], t["reward"], t["seed"]) for t in s.store.trials()] == expected
    s.close()


def test_failed_children_are_stored_and_the_search_reaches_its_trials(tmp_path):
    s = Search(tmp_path / "run", synthetic("evolution", 20))
    s.synthetic_extra = {"fail_every": 4}
    summary = s.run("local", workers=2, progress=False)
    trials = s.store.trials()
    s.close()
    assert summary.counts == {"running": 0, "done": 15, "failed": 5}
    failed = [t for t in trials if t["status"] == "failed"]
    assert [t["id"] for t in failed] == [4, 8, 12, 16, 20]
    assert all("RuntimeError: synthetic failure of trial" in t["error"] and t["reward"] is None for t in failed)


def test_a_killed_worker_is_retried_once_then_failed():
    ex = LocalExecutor(1)
    try:
        target = list(range(50))
        payload = {"trial": 1, "reward": "synthetic", "decisions": target,
                   "synthetic": {"target": target, "sleep": 60}}
        ex.submit(payload)
        for attempt in range(2):
            deadline = time.time() + 60
            # until the job has said which worker it started in (that worker's death is charged to it)
            while not set(ex._pid_of.values()) & set(ex._pool._processes) and time.time() < deadline:
                ex.poll(0.1)
            for pid in list(ex._pool._processes):
                os.kill(pid, signal.SIGKILL)
            results = []
            while not results and time.time() < deadline:
                results = ex.poll(1.0)
                if attempt == 0 and ex.running == 1 and not results:
                    break  # resubmitted to a fresh pool
            if attempt == 1:
                assert len(results) == 1 and results[0]["status"] == "failed"
                assert "worker process died" in results[0]["error"]
                assert results[0]["host"] == socket.gethostname() and results[0]["pid"] == pid  # where it died
        ok = {"trial": 2, "reward": "synthetic", "decisions": target, "synthetic": {"target": target}}
        ex.submit(ok)  # the executor still works afterwards
        results = []
        while not results:
            results = ex.poll(5.0)
        assert results[0]["status"] == "done" and results[0]["reward"] == 1.0
    finally:
        ex.shutdown()


def test_resume_refuses_changes_and_new_runs_refuse_old_folders(tmp_path, capsys):
    out = str(tmp_path / "run")
    assert nasdsl_main(["search", "--out", out, "--reward", "synthetic", "--trials", "6", "--quiet",
                        "--strategy", "random", "--workers", "1"]) == 0
    assert "trials: 6 done, 0 failed" in capsys.readouterr().out
    assert nasdsl_main(["search", "--out", out, "--reward", "synthetic", "--trials", "6", "--quiet"]) == 2
    assert "already holds a search run" in capsys.readouterr().err
    assert nasdsl_main(["search", "--resume", "--out", out, "--strategy", "ppo"]) == 2
    assert "drop --strategy" in capsys.readouterr().err
    assert nasdsl_main(["search", "--resume"]) == 2
    assert nasdsl_main(["search", "--resume", "--out", str(tmp_path / "none")]) == 2
    assert "no search run here" in capsys.readouterr().err
    train_run = tmp_path / "train-run"  # a `nasdsl train` folder is not taken over either
    train_run.mkdir()
    (train_run / "checkpoint.pt").write_bytes(b"x")
    assert nasdsl_main(["search", "--out", str(train_run), "--reward", "synthetic", "--quiet"]) == 2
    assert "holds a `nasdsl train` run (its checkpoint.pt)" in capsys.readouterr().err
    assert os.listdir(train_run) == ["checkpoint.pt"]
    # more trials on resume: the run goes on from its stored strategy
    assert nasdsl_main(["search", "--resume", "--out", out, "--trials", "9", "--quiet", "--workers", "1"]) == 0
    data = report_data(out)
    assert [t["id"] for t in data["trials"]] == list(range(1, 10)) and data["config"]["trials"] == 9
    for bad in (["--workers", "0"], ["--dataset", "cifar10:/nonexistent"], ["--trials", "0"],
                ["--max-params", "-5"], ["--space", "nope"]):
        assert nasdsl_main(["search", "--out", str(tmp_path / "x"), "--quiet", *bad]) == 2, bad
        assert "Traceback" not in capsys.readouterr().err
    for flag in ("--lr", "--batch-size", "--epochs"):  # one line naming the flag
        assert nasdsl_main(["search", "--out", str(tmp_path / "x"), "--quiet", flag, "0"]) == 2, flag
        err = capsys.readouterr().err
        assert flag in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    # a SearchConfig built in Python: the child-training settings are checked by TrainConfig.check,
    # reported by the flag of the same name
    for bad, message in ((dict(lr=0.0), "--lr must be positive, got 0.0"),
                         (dict(batch_size=0), "--batch-size must be at least 1, got 0"),
                         (dict(optimizer="adam"), "--optimizer must be one of sgd, rmsprop, got 'adam'"),
                         (dict(lr=float("inf")), "--lr must be positive, got inf"),
                         (dict(grad_clip=-1.0), "--grad-clip must be 0 or more, got -1.0"),
                         (dict(weight_decay=float("nan")), "--weight-decay must be 0 or more, got nan"),
                         (dict(momentum=1.5), "--momentum must be in [0, 1], got 1.5"),
                         (dict(rmsprop_eps=0.0), "--rmsprop-eps must be positive, got 0.0")):
        with pytest.raises(NasError, match=re.escape(message)):
            SearchConfig(train=replace(SearchConfig().train, **bad)).check()


def test_report_table_and_json(tmp_path, capsys):
    s = Search(tmp_path / "run", synthetic("random", 8))
    s.synthetic_extra = {"fail_every": 3}
    s.run("local", workers=1, progress=False)
    s.close()
    assert nasdsl_main(["report", str(tmp_path / "run"), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["trials"]) == 8
    for t in data["trials"]:
        assert {"id", "status", "reward", "nas"} <= set(t) and t["status"] in ("done", "failed", "running")
        assert (t["reward"] is None) == (t["status"] == "failed")
        assert sum(line.startswith("cell ") for line in t["nas"].splitlines()) == 2
    assert nasdsl_main(["report", str(tmp_path / "run"), "--top", "3"]) == 0
    table = capsys.readouterr().out
    assert "6 done, 2 failed, 0 running of 8 trials" in table
    assert len([ln for ln in table.splitlines() if ln.strip()[:1].isdigit() and "  " in ln]) >= 3
    assert "synthetic failure of trial" in table
    assert nasdsl_main(["report", str(tmp_path / "nothing")]) == 2


def test_report_writes_report_html_and_compares_runs(tmp_path, capsys):
    for name, strategy in (("a", "random"), ("b", "evolution")):
        s = Search(tmp_path / name, synthetic(strategy, 6))
        s.run("local", workers=1, progress=False)
        s.close()
    page = tmp_path / "a" / "report.html"
    assert nasdsl_main(["report", str(tmp_path / "a"), "--no-html"]) == 0 and not page.exists()
    assert nasdsl_main(["report", str(tmp_path / "a"), "--compare", str(tmp_path / "b")]) == 0
    assert f"wrote {page}" in capsys.readouterr().err
    html = page.read_text()
    assert "a compared with b" in html and "evolution" in html and "random" in html
    assert html.count("<svg") >= 3  # the charts and the top cells drawn inline
    assert nasdsl_main(["report", str(tmp_path / "a"), "--compare", str(tmp_path / "nothing")]) == 2


def test_new_search_needs_valid_config(tmp_path):
    with pytest.raises(NasError, match="unknown strategy"):
        Search(tmp_path / "a", SearchConfig(strategy="bayes"))
    with pytest.raises(NasError, match="--trials"):
        Search(tmp_path / "b", SearchConfig(trials=0))


@pytest.mark.slow
def test_ray_executor_runs_trials_on_a_local_cluster(tmp_path):
    require("ray")
    s = Search(tmp_path / "run", synthetic("ppo", 12))
    summary = s.run("ray", workers=2, progress=False)
    trials = s.store.trials()
    s.close()
    assert summary.counts["done"] == 12
    assert all(t["reward"] == synthetic_reward(SPACE, tuple(t["decisions"]), 0) for t in trials)
    import ray

    assert not ray.is_initialized()  # the cluster nasdsl started is stopped again


def test_the_darts_space_is_searched_on_the_darts_skeleton_with_real_training(tmp_path):
    """Real children on digits: every trial trains a DARTS-skeleton network and gets an accuracy."""
    cfg = SearchConfig(strategy="random", space="darts", trials=3, seed=1, val_size=100, train_size=200,
                       proxy=ProxyNet(filters=4), train=TrainConfig(epochs=1, batch_size=32),
                       budget_on="imagenet", max_params=50_000_000)
    s = Search(tmp_path / "run", cfg)
    summary = s.run("local", workers=1, threads=1, progress=False)
    trials = s.store.trials()
    s.close()
    assert summary.counts["done"] == 3, [t["error"] for t in trials]
    for t in trials:
        assert 0.0 <= t["reward"] <= 1.0 and "skeleton = darts" in t["nas"]
        assert load_text(t["nas"], "<trial>").network_spec("proxy").skeleton == "darts"
        assert t["params"] > 1_000_000  # the budget was costed on the DARTS ImageNet transfer
    best = load(str(tmp_path / "run" / "best.nas"))
    assert {"best_proxy", "best_cifar", "best_imagenet"} <= set(best.networks)
    with pytest.raises(NasError, match="darts skeleton, whose networks are proxy, cifar, imagenet"):
        Search(tmp_path / "bad", SearchConfig(space="darts", budget_on="mobile", max_params=10**6))
    assert not (tmp_path / "bad").exists()


@pytest.mark.parametrize("scheduler", ["none", "asha"])
def test_minutes_bounds_the_wall_time_and_resume_goes_on(tmp_path, scheduler):
    cfg = synthetic("random", 10**6, scheduler=scheduler, train=TrainConfig(epochs=9))
    s = Search(tmp_path / "run", cfg)
    s.synthetic_extra = {"sleep": 0.3}
    t0 = time.time()
    summary = s.run("local", workers=2, progress=False, minutes=4 / 60)
    took = time.time() - t0
    first = s.store.counts()
    results = len(s.store.rungs()) if scheduler == "asha" else first["done"]
    s.close()
    assert 4 <= took < 4 + 15  # stops proposing at 4 s; what was in flight (0.3 s a job) finishes
    assert results >= 2 and not summary.finished and summary.counts == first
    if scheduler == "none":
        assert first["running"] == 0  # nothing left in flight
    else:  # what is still running waits at a rung: nothing was cut off in the middle of a job
        store = Store(tmp_path / "run", create=False)
        waiting = store.waiting()
        assert first["running"] > 0 and waiting == [t["id"] for t in store.trials("running")]
        store.close()
        data = report_data(tmp_path / "run")
        assert data["counts"]["waiting"] == first["running"] and "interrupted" not in data["counts"]
        assert [t["id"] for t in data["trials"] if t["status"] == "waiting"] == waiting
        from nasdsl_search.report_html import load_trials  # report.html's torch-free reader agrees
        assert [t["id"] for t in load_trials(tmp_path / "run") if t["status"] == "waiting"] == waiting
    s = Search(tmp_path / "run", resume=True)
    s.synthetic_extra = {"sleep": 0.3}
    s.run("local", workers=2, progress=False, minutes=2 / 60)
    more = len(s.store.rungs()) if scheduler == "asha" else s.store.counts()["done"]
    s.close()
    assert more > results


def test_a_trial_sent_on_but_without_its_result_is_not_waiting(tmp_path):
    """A kill between a promotion and its rung result leaves the trial mid-job: `report` calls it
    interrupted (--resume runs that job again), not waiting, and a signal's note goes on it alone."""
    s = Search(tmp_path / "run", synthetic("random", 10**6, scheduler="asha", train=TrainConfig(epochs=9)))
    s.run("local", workers=1, progress=False, minutes=4 / 60)  # two or more at a rung even on a loaded machine
    s.close()
    store = Store(tmp_path / "run", create=False)
    cut, *rest = store.waiting()
    store.add_promotion(cut, max(r["rung"] for r in store.rungs() if r["trial"] == cut) + 1)
    assert store.waiting() == rest
    assert store.mark_interrupted("interrupted by SIGTERM") == 1
    assert [t["id"] for t in store.trials("running") if t["error"]] == [cut]
    store.close()
    data = report_data(tmp_path / "run")
    assert [t["id"] for t in data["trials"] if t["status"] == "interrupted"] == [cut]
    assert data["counts"]["interrupted"] == 1 and data["counts"]["waiting"] == len(rest) > 0
    from nasdsl_search.report_cli import table
    assert f"{len(rest)} waiting at a rung (ASHA promotes or stops them), 1 interrupted" in table(data, 5)


@pytest.mark.parametrize("scheduler", ["none", "asha"])
def test_the_cli_says_when_minutes_stopped_the_search(tmp_path, capsys, scheduler):
    out = tmp_path / "r"
    assert nasdsl_main(["search", "--reward", "synthetic", "--scheduler", scheduler, "--trials", "100000",
                        "--minutes", "0.03", "--quiet", "--out", str(out)]) == 0
    said = capsys.readouterr().out
    store = Store(out, create=False)
    c, waiting = store.counts(), store.waiting()
    store.close()
    assert c["running"] == len(waiting) and (len(waiting) > 0) == (scheduler == "asha")
    assert (f"stopped by --minutes with {c['done'] + c['failed']} of 100000 trials finished"
            + (f", {len(waiting)} waiting at a rung for ASHA to promote or stop them" if waiting else "")
            + f"; `nasdsl search --resume --out {out}` goes on") in said
    assert nasdsl_main(["report", str(out), "--no-html"]) == 0
    assert (f"{len(waiting)} waiting at a rung" in capsys.readouterr().out) == bool(waiting)


def test_the_progress_line_counts_trials_waiting_at_a_rung_apart():
    from nasdsl_search.progress import Progress
    bar = Progress(60, enabled=False)
    assert "done 2  running 2  waiting 15  failed 1  best 0.9000" in bar.line(2, 2, 1, 0.9, waiting=15)
    assert "done 2  running 2  failed 1  best" in bar.line(2, 2, 1, 0.9)


def test_minutes_flag_is_checked(tmp_path, capsys):
    assert nasdsl_main(["search", "--reward", "synthetic", "--minutes", "0", "--out", str(tmp_path / "r")]) == 2
    assert "--minutes" in capsys.readouterr().err


def test_only_the_trial_whose_worker_died_is_charged_the_attempt():
    """A dead worker breaks the whole pool; its siblings run again without losing an attempt: a trial
    whose worker is killed twice fails, the one beside it, stopped with the pool both times, does not."""
    ex = LocalExecutor(2)
    target = list(range(50))
    try:
        for trial in (1, 2):
            ex.submit({"trial": trial, "reward": "synthetic", "decisions": target,
                       "synthetic": {"target": target, "sleep": 60}})
        results = []
        for _ in range(2):
            deadline, victim = time.time() + 120, None
            while victim is None and time.time() < deadline:  # trial 1 has started in a live worker
                results += ex.poll(0.2)
                pid = ex._pid_of.get((1, None))
                victim = pid if pid in (ex._pool._processes or {}) and len(ex._pid_of) == 2 else None
            assert victim is not None, "trial 1 did not start"
            os.kill(victim, signal.SIGKILL)
            while ex._pid_of.get((1, None)) == victim and not results and time.time() < deadline:
                results += ex.poll(0.2)  # the pool breaks: trial 1 is charged, both run again
        while not results and time.time() < deadline:
            results += ex.poll(0.5)
        assert [(r["trial"], r["status"]) for r in results] == [(1, "failed")]
        assert "worker process died" in results[0]["error"]
        assert ex.running == 1 and ex._attempts[(2, None)] == 1  # trial 2 runs on, on its first attempt
    finally:
        ex.shutdown()
