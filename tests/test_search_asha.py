"""`nasdsl search --scheduler asha`: the driver with early stopping, on synthetic rewards (fast) and
on real training (a promoted child trains exactly as an unstopped one; kill -9 then --resume)."""
from __future__ import annotations

import sqlite3

import pytest
from proc_helpers import cli as nasdsl
from proc_helpers import kill_group_when, store_count
from references import require

from nasdsl.cli.dispatch import main as nasdsl_main
from nasdsl_search.driver import Search, SearchConfig
from nasdsl_search.report_cli import report_data
from nasdsl_search.scheduler import rung_epochs
from nasdsl_search.store import Store
from nasdsl_search.strategies import StrategyOptions
from nasdsl_search.trainer import TrainConfig


def asha_config(strategy="random", trials=18, epochs=9, min_epochs=1, reduction=3, **kw) -> SearchConfig:
    return SearchConfig(strategy=strategy, reward="synthetic", trials=trials, scheduler="asha",
                        min_epochs=min_epochs, reduction=reduction, train=TrainConfig(epochs=epochs),
                        options=StrategyOptions(batch=4, population=5, sample_size=2), **kw)


def check_run(folder, trials: int, rungs: tuple[int, ...], eta: int) -> list[dict]:
    """What every early-stopped run must satisfy, read back from its store."""
    store = Store(folder, create=False)
    ts, results, promotions = store.trials(), store.rungs(), store.promotions()
    store.close()
    assert len(ts) == trials and all(t["status"] in ("done", "failed") for t in ts)
    assert sorted(t["observed"] for t in ts) == list(range(1, trials + 1))  # each told to the strategy once
    by_trial: dict[int, list[dict]] = {}
    for r in results:
        by_trial.setdefault(r["trial"], []).append(r)
        assert r["epochs"] == rungs[r["rung"]]
    promoted = {(p["trial"], p["rung"]) for p in promotions}
    for t in ts:
        mine = sorted(by_trial.get(t["id"], []), key=lambda r: r["rung"])
        assert [r["rung"] for r in mine] == list(range(len(mine)))  # no rung skipped or repeated
        assert {(t["id"], k) for k in range(1, len(mine))} <= promoted  # each rung above 0 was a promotion
        if t["status"] == "done":  # the reward is the accuracy at the highest rung reached
            assert mine and t["reward"] == mine[-1]["accuracy"]
    # every promotion was of a trial in the top 1/eta of the results its rung had at that moment
    for p in promotions:
        before = sorted((r for r in results if r["rung"] == p["rung"] - 1 and r["at"] <= p["at"]),
                        key=lambda r: (-r["accuracy"], r["trial"]))
        assert p["trial"] in [r["trial"] for r in before[:len(before) // eta]], p
    return ts


@pytest.mark.parametrize("strategy", ["random", "ppo", "reinforce", "evolution"])
def test_every_strategy_runs_under_asha_with_the_local_pool(tmp_path, strategy):
    s = Search(tmp_path / "run", asha_config(strategy))
    summary = s.run("local", workers=2, progress=False)
    s.close()
    assert summary.counts["done"] == 18 and summary.counts["running"] == 0
    ts = check_run(tmp_path / "run", 18, (1, 3, 9), 3)
    store = Store(tmp_path / "run", create=False)
    rungs = store.rungs()
    store.close()
    top = {r["trial"] for r in rungs if r["rung"] == 2}
    assert 1 <= len(top) < 18  # some trials stopped early, some trained to the end
    epochs = sum(r["epochs"] - (rung_epochs(1, 9, 3)[r["rung"] - 1] if r["rung"] else 0) for r in rungs)
    assert epochs < 18 * 9 / 2  # far cheaper than training all of them to 9 epochs
    best = max((t for t in ts if t["id"] in top), key=lambda t: (t["reward"], -t["id"]))
    assert f"trial {best['id']}," in (tmp_path / "run" / "best.nas").read_text()


def test_one_worker_asha_run_matches_the_scheduler_alone(tmp_path):
    """With one worker the driver makes exactly the decisions of search/scheduler.py."""
    from nasdsl_search.scheduler import Asha
    from nasdsl_search.synthetic import match_fraction, target
    s = Search(tmp_path / "run", asha_config("random", trials=12))
    s.run("local", workers=1, progress=False)
    ts = s.store.trials()
    rows = s.store.rungs()
    s.close()
    tgt = target(s.space, 0)
    quality = {t["id"]: match_fraction(t["decisions"], tgt) for t in ts}
    asha, log, next_id = Asha((1, 3, 9), 3, 12), [], 1
    while (job := asha.next_job()) is not None:
        kind, trial, rung = job
        if kind == "new":
            trial, next_id = next_id, next_id + 1
            asha.start(trial)
        else:
            asha.promote(trial, rung - 1)
        log.append((trial, rung))
        asha.report(trial, rung, quality[trial] * (0.5 + 0.5 * (1, 3, 9)[rung] / 9))
        for t in asha.to_settle():
            asha.settle(t)
    assert [(r["trial"], r["rung"]) for r in rows] == log


@pytest.mark.parametrize("strategy", ["ppo", "evolution"])
def test_failures_and_budget_rejections_under_asha(tmp_path, strategy):
    """ppo's proposals over budget are failed trials, evolution's are drawn again."""
    s = Search(tmp_path / "run", asha_config(strategy, trials=15, max_params=120_000))
    s.synthetic_extra = {"fail_every": 5}
    summary = s.run("local", workers=2, progress=False)
    s.close()
    assert summary.counts["running"] == 0 and summary.counts["failed"] >= 3
    ts = check_run(tmp_path / "run", 15, (1, 3, 9), 3)
    over = [t for t in ts if (t["error"] or "").startswith("over budget")]
    assert all(t["status"] == "failed" for t in ts if t["id"] % 5 == 0 or t in over)
    assert bool(over) == (strategy == "ppo")
    assert all(t["params"] <= 120_000 for t in ts if t not in over)


@pytest.mark.parametrize("args, message", [
    (["--min-epochs", "5", "--max-epochs", "4"], "--min-epochs 5 is above --max-epochs 4"),
    (["--reduction", "1"], "--reduction must be at least 2, got 1"),
    (["--min-epochs", "3", "--epochs", "3"], "needs at least two rungs"),
    (["--epochs", "4", "--max-epochs", "5"], "--epochs 4 and --max-epochs 5 disagree"),
])
def test_bad_scheduler_settings_are_one_line_errors_before_anything_runs(tmp_path, capsys, args, message):
    out = tmp_path / "run"
    assert nasdsl_main(["search", "--scheduler", "asha", "--reward", "synthetic", "--out", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not out.exists()


def test_scheduler_flags_need_asha(tmp_path, capsys):
    assert nasdsl_main(["search", "--min-epochs", "2", "--reward", "synthetic", "--out", str(tmp_path / "r")]) == 2
    assert "--min-epochs only apply to --scheduler asha" in capsys.readouterr().err


def test_old_run_folders_gain_the_rung_table(tmp_path):
    s = Search(tmp_path / "old", SearchConfig(strategy="random", reward="synthetic", trials=3))
    s.run("local", workers=1, progress=False)
    s.close()
    con = sqlite3.connect(tmp_path / "old" / "trials.sqlite")
    con.execute("DROP TABLE rungs")
    con.execute("DROP TABLE promotions")
    con.commit()
    con.close()
    data = report_data(tmp_path / "old")  # a report reads the store without them, and leaves it as it was
    assert data["rungs"] == [] and len(data["trials"]) == 3
    con = sqlite3.connect(tmp_path / "old" / "trials.sqlite")
    assert not {"rungs", "promotions"} & {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
    con.close()
    Store(tmp_path / "old", create=False).close()  # opening it to write (a driver's --resume) creates them again
    con = sqlite3.connect(tmp_path / "old" / "trials.sqlite")
    assert {"rungs", "promotions"} <= {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
    con.close()


def test_report_shows_the_rungs(tmp_path, capsys):
    s = Search(tmp_path / "run", asha_config("random", trials=9))
    s.run("local", workers=1, progress=False)
    rows = s.store.rungs()
    s.close()
    assert nasdsl_main(["report", str(tmp_path / "run")]) == 0
    out = capsys.readouterr().out
    assert "early stopping: asha, reduction 3" in out
    reached = [sum(r["rung"] == k for r in rows) for k in range(3)]
    assert f"   0       1  {reached[0]:>6}" in out and f"   2       9  {reached[2]:>6}" in out
    spent = reached[0] * 1 + reached[1] * 2 + reached[2] * 6
    assert f"child-epochs spent: {spent} (all 9 trials to 9 epochs: 81)" in out
    assert nasdsl_main(["report", str(tmp_path / "run"), "--format", "json", "--no-html"]) == 0
    import json
    data = json.loads(capsys.readouterr().out)
    assert [(r["trial"], r["rung"], r["epochs"]) for r in data["rungs"]] == [(r["trial"], r["rung"], r["epochs"])
                                                                            for r in rows]
    html = (tmp_path / "run" / "report.html").read_text()
    assert "Early stopping: accuracy at each rung" in html
    stopped = {r["trial"] for r in rows} - {r["trial"] for r in rows if r["rung"] == 2}
    assert html.count('class="rung stopped"') == sum(r["trial"] in stopped for r in rows)
    assert html.count('class="rung finished"') == sum(r["trial"] not in stopped for r in rows)
    assert f"stopped early ({len(stopped)})" in html


@pytest.mark.slow
def test_asha_on_a_local_ray_cluster(tmp_path):
    require("ray")
    s = Search(tmp_path / "run", asha_config("evolution", trials=12))
    summary = s.run("ray", workers=2, progress=False)
    s.close()
    assert summary.counts["done"] == 12
    check_run(tmp_path / "run", 12, (1, 3, 9), 3)
    import ray

    assert not ray.is_initialized()


# ---------------------------------------------------------------------------------------- real training
def rung_payload(tmp_path, name: str, until: int, rung: int, epochs: int = 4) -> dict:
    import random as _random

    from nasdsl_search.space import ProxyNet, load_space, to_nas

    space = load_space("nasnet")
    rng = _random.Random(3)
    decisions = tuple(rng.randrange(n) for n in space.sizes)
    return {"trial": 1, "nas": to_nas(space, decisions, ProxyNet(filters=4)), "network": "proxy", "seed": 11,
            "decisions": list(decisions), "reward": "accuracy", "dataset": "digits", "val_size": 100,
            "train_size": 96, "train": TrainConfig(epochs=epochs, batch_size=32, precise_bn=96).to_dict(), "threads": 1,
            "rung": rung, "until_epoch": until, "checkpoint": str(tmp_path / name)}


def test_a_promoted_child_trains_exactly_as_an_unstopped_one(tmp_path):
    """Rungs 1, 2, 4 epochs, each job a fresh process-like start from the checkpoint, against one job
    that trains to 4 epochs at once: the same weights, bit for bit, and the same accuracy (CPU)."""
    import torch

    from nasdsl_search.trial import run_trial

    staged = [run_trial(rung_payload(tmp_path, "staged.pt", until, k)) for k, until in enumerate((1, 2, 4))]
    assert all(r["status"] == "done" for r in staged), staged
    once = run_trial(rung_payload(tmp_path, "once.pt", 4, 0))
    assert once["status"] == "done", once
    assert staged[-1]["reward"] == once["reward"]
    a = torch.load(tmp_path / "staged.pt", weights_only=True)
    b = torch.load(tmp_path / "once.pt", weights_only=True)
    assert a["epoch"] == b["epoch"] == 4 and a["step"] == b["step"]
    assert a["model"].keys() == b["model"].keys()
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])
    # a rung job rerun after a kill (its checkpoint already at the rung) gives the same result again
    again = run_trial(rung_payload(tmp_path, "staged.pt", 4, 2))
    assert again["reward"] == once["reward"]


KILL_ARGS = ["--strategy", "ppo", "--controller-batch", "2", "--trials", "7", "--workers", "1", "--threads", "1",
             "--scheduler", "asha", "--min-epochs", "2", "--max-epochs", "8", "--reduction", "2",
             "--train-size", "96", "--val-size", "100", "--filters", "4", "--batch-size", "32", "--quiet"]


def _table(run, sql: str) -> list[tuple]:
    con = sqlite3.connect(run / "trials.sqlite")
    rows = [tuple(r) for r in con.execute(sql)]
    con.close()
    return rows


@pytest.mark.slow
def test_kill_minus_nine_at_any_moment_then_resume(tmp_path):
    """SIGKILL the CLI twice (after a rung result; in the middle of a promoted trial's job, once its
    checkpoint moved on), then --resume: every rung result once, the same results, decisions and
    strategy updates as an uninterrupted run, and no checkpoint left behind."""
    reference = tmp_path / "reference"
    ref = nasdsl("search", "--out", str(reference), *KILL_ARGS)
    _, err = ref.communicate(timeout=900)
    assert ref.returncode == 0, err

    run = tmp_path / "run"
    ckpts = run / "checkpoints"

    proc = nasdsl("search", "--out", str(run), *KILL_ARGS)
    kill_group_when(proc, lambda: store_count(run, "SELECT COUNT(*) FROM rungs") >= 3, 300, "3 rung results", poll=0.02)
    seen = _table(run, "SELECT trial, rung, epochs, accuracy FROM rungs ORDER BY rowid")

    def mid_promoted_job():  # a promoted trial's checkpoint between two rungs (rungs 2, 4, 8 epochs)
        for f in (ckpts.glob("trial-*.pt") if ckpts.is_dir() else ()):
            tid = int(f.name.split("-")[1].split(".")[0])
            if store_count(run, f"SELECT COUNT(*) FROM promotions WHERE trial = {tid}"):
                try:
                    import torch
                    if torch.load(f, weights_only=True)["epoch"] not in (2, 4, 8):
                        return True
                except Exception:  # noqa: BLE001 - being replaced right now
                    pass
        return False

    proc = nasdsl("search", "--resume", "--out", str(run))
    kill_group_when(proc, lambda: store_count(run, "SELECT COUNT(*) FROM rungs") > len(seen) and mid_promoted_job(),
                    300, "a promoted trial between rungs", poll=0.02)
    assert _table(run, "SELECT trial, rung, epochs, accuracy FROM rungs ORDER BY rowid")[:len(seen)] == seen
    proc = nasdsl("search", "--resume", "--out", str(run), "--quiet")
    out, err = proc.communicate(timeout=900)
    assert proc.returncode == 0, err

    q_rungs = "SELECT trial, rung, epochs, accuracy FROM rungs ORDER BY rowid"
    assert _table(run, q_rungs) == _table(reference, q_rungs)  # none lost, none repeated, same values
    q_trials = "SELECT id, status, decisions, reward, observed, meta FROM trials ORDER BY id"
    assert _table(run, q_trials) == _table(reference, q_trials)
    q_updates = "SELECT n, observed, info FROM updates ORDER BY n"
    assert _table(run, q_updates) == _table(reference, q_updates) and len(_table(run, q_updates)) == 3
    assert _table(run, "SELECT trial, rung FROM promotions ORDER BY rowid") == \
        _table(reference, "SELECT trial, rung FROM promotions ORDER BY rowid")
    assert not list(ckpts.glob("*")) and not list((reference / "checkpoints").glob("*"))


def test_strategies_learn_from_a_stopped_trial_its_accuracy_at_the_highest_rung(tmp_path):
    """PPO's minibatches and evolution's population hold exactly the trials' stored rewards (the
    accuracy at the highest rung reached), in the order the trials were settled."""
    import json as _json

    from nasdsl_search.store import load_state
    for strategy in ("ppo", "evolution"):
        s = Search(tmp_path / strategy, asha_config(strategy, trials=16))
        s.run("local", workers=1, progress=False)
        ts = sorted(s.store.trials(), key=lambda t: t["observed"])
        log = s.store.update_log()
        state = load_state(s.store.saved_state())
        s.close()
        assert any(t["reward"] < max(x["reward"] for x in ts) / 1.5 for t in ts)  # low rungs are in there
        if strategy == "ppo":  # batch 4: update n saw trials observed 4n-3 .. 4n
            assert len(log) == 4
            for u in log:
                batch = ts[(u["n"] - 1) * 4:u["n"] * 4]
                assert u["mean_reward"] == pytest.approx(sum(t["reward"] for t in batch) / 4, abs=1e-6)
        else:  # the population: the last 5 trials settled, with their stored rewards
            assert [(list(d), r) for d, r in state["population"]] == \
                [(t["decisions"], t["reward"]) for t in ts[-5:]]
        assert _json.dumps(state["observed"]) == "16"
