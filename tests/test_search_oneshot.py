"""One-shot search (random-ws, enas, darts) through `nasdsl search`: real supernet training on digits,
a real SQLite run folder, kill -9 and --resume, picks trained stand-alone as ordinary trials."""
import os
import signal
import sqlite3
import subprocess
import sys
from dataclasses import replace

import pytest
import torch
from proc_helpers import supernet_epochs, wait_for

from nasdsl_search.space import load_space
from nasdsl_search.strategies import STRATEGIES
from nasdsl_search.strategies.darts import derive

TINY = ["--train-size", "256", "--val-size", "128", "--filters", "4", "--batch-size", "32", "--epochs", "1",
        "--eval-images", "64", "--quiet"]
RANKED = ["--rank-samples", "4", "--top-k"]  # random-ws, enas: 4 architectures ranked, the top k trained


def _search(*args, check=True):
    r = subprocess.run([sys.executable, "-m", "nasdsl", "search", *args], capture_output=True, text=True,
                       env={**os.environ, "OMP_NUM_THREADS": "1"})
    if check:
        assert r.returncode == 0, r.stderr[-3000:]
    return r


def _db(folder):
    con = sqlite3.connect(f"file:{folder / 'trials.sqlite'}?mode=ro", uri=True, timeout=10)  # never creates it
    try:
        epochs = [row[0] for row in con.execute("SELECT epoch FROM oneshot_epochs ORDER BY epoch")]
        trials = con.execute("SELECT strategy, status, reward, meta FROM trials ORDER BY id").fetchall()
        archs = con.execute("SELECT phase, shared_accuracy FROM oneshot_archs").fetchall()
    finally:
        con.close()
    return epochs, trials, archs


def test_one_registry_holds_the_one_shot_strategies():
    for name in ("random-ws", "enas", "darts"):
        assert getattr(STRATEGIES[name], "oneshot", False)
    assert not getattr(STRATEGIES["ppo"], "oneshot", False)


def test_darts_derives_top2_edges_without_none():
    space = load_space("darts")
    none, sep3, skip = space.ops.index("none"), space.ops.index("sep3x3"), space.ops.index("id")
    alphas = {}
    for kind in ("normal", "reduction"):
        blocks = []
        for b in range(space.blocks):
            a = torch.zeros(2 + b, len(space.ops))
            a[:, none] = 10.0  # `none` strongest everywhere: never chosen
            a[b + 1, sep3] = 3.0  # the last input's sep3x3
            a[0, skip] = 2.0  # h0's skip
            blocks.append(a)
        alphas[kind] = blocks
    d = derive(space, alphas)
    assert len(d) == len(space.decisions)
    for k in range(2 * space.blocks):
        b = k % space.blocks
        ins, ops, comb = d[k * 5:k * 5 + 2], d[k * 5 + 2:k * 5 + 4], d[k * 5 + 4]
        if b == 0:  # h0 skip (2.0) and h1 sep3x3 (3.0)
            assert (ins, ops) == ((0, 1), (skip, sep3))
        else:
            assert ins == (0, b + 1) and ops == (skip, sep3)
        assert comb == 0


def test_darts_needs_a_darts_like_space(tmp_path):
    r = _search("--strategy", "darts", "--space", "enas", "--out", str(tmp_path / "run"), *TINY, check=False)
    assert r.returncode == 2 and "output = blocks" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.slow
@pytest.mark.parametrize("strategy,space", [("enas", "enas"), ("darts", "darts")])
def test_strategy_runs_end_to_end(tmp_path, strategy, space):
    run = tmp_path / strategy
    extra = ["--controller-steps", "1", "--controller-batch", "4", *RANKED, "1"] if strategy == "enas" else []
    _search("--strategy", strategy, "--space", space, "--out", str(run), "--supernet-epochs", "1", *extra, *TINY)
    epochs, trials, archs = _db(run)
    assert epochs == [1]
    assert [t[:2] for t in trials] == [(strategy, "done")] and 0.0 <= trials[0][2] <= 1.0
    assert "shared_accuracy" in trials[0][3]
    phase = "derived" if strategy == "darts" else "rank"
    assert sum(1 for p, a in archs if p == phase and a is not None) == (1 if strategy == "darts" else 4)
    if strategy == "enas":
        assert sum(1 for p, _ in archs if p == "controller") == 4
    assert "best_normal" in (run / "best.nas").read_text()
    table = subprocess.run([sys.executable, "-m", "nasdsl", "report", str(run)], check=True, capture_output=True,
                           text=True).stdout
    assert "1 done, 0 failed, 0 running of 1 stand-alone pick\n" in table  # enas: --top-k 1; darts: its cell
    where = "executor: none; the driver trains the supernet and its picks, one at a time, on "
    assert where in table
    html = (run / "report.html").read_text()
    assert ("Controller entropy" in html) if strategy == "enas" else ("Architecture weights" in html)
    assert where in html


def test_kill_9_and_resume_continue_from_the_last_checkpoint(tmp_path):
    run = tmp_path / "rws"
    cmd = [sys.executable, "-m", "nasdsl", "search", "--strategy", "random-ws", "--space", "enas", "--out", str(run),
           "--supernet-epochs", "4", *RANKED, "2", *TINY]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    # epochs 2-4 go in with epoch 4's checkpoint: kill soon (wait_for polls every 50 ms) after epoch 1's
    wait_for(lambda: supernet_epochs(run), 600, proc, "the first supernet checkpoint")
    assert proc.poll() is None, "the run finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    before = _db(run)[0]
    assert 1 <= len(before) < 4
    con = sqlite3.connect(run / "trials.sqlite")
    first_at = con.execute("SELECT at FROM oneshot_epochs WHERE epoch = 1").fetchone()[0]
    con.close()
    r = _search("--resume", "--out", str(run), "--quiet")
    assert "pick 1" in r.stdout
    epochs, trials, archs = _db(run)
    assert epochs == [1, 2, 3, 4]
    con = sqlite3.connect(run / "trials.sqlite")
    assert con.execute("SELECT at FROM oneshot_epochs WHERE epoch = 1").fetchone()[0] == first_at  # not redone
    con.close()
    assert [t[1] for t in trials] == ["done", "done"]
    assert sum(1 for p, a in archs if p == "rank" and a is not None) == 4
    assert (run / "best.nas").exists()
    r = _search("--resume", "--out", str(run), "--supernet-epochs", "5", check=False)
    assert r.returncode == 2 and "--supernet-epochs" in r.stderr


def test_enas_constants_are_defaults_and_flags_win():
    from dataclasses import replace

    from nasdsl_search.driver import SearchConfig
    from nasdsl_search.oneshot import enas_defaults

    cfg = SearchConfig(strategy="enas")
    d = enas_defaults(cfg, set()).options
    assert (d.lr, d.entropy_weight, d.baseline_decay, d.units, d.batch) == (0.0035, 1e-4, 0.99, 64, 10)
    assert (d.tanh_constant, d.op_tanh_reduce) == (1.1, 2.5)  # micro search script; SEARCH_REFERENCE.md
    given = replace(cfg, options=replace(cfg.options, lr=0.01))
    assert enas_defaults(given, {"lr"}).options.lr == 0.01


@pytest.mark.parametrize("strategy,space", [("random-ws", "enas"), ("darts", "darts")])
def test_supernet_sees_the_childrens_split_and_picks_train_as_children(tmp_path, strategy, space):
    # the default proxy (300 digits to train on, 1497 held out, 2 trainings per child): the supernet
    # trains on the children's training images (darts: split 50/50 between weights and architecture)
    # and scores on their held-out images; a pick's payload is a multi-trial child's
    from nasdsl_search.driver import SearchConfig, proxy_network
    from nasdsl_search.oneshot import OneShot
    from nasdsl_search.trial import child_data, trial_payload

    cfg = SearchConfig(strategy=strategy, space=space)
    run = OneShot(tmp_path / "run", cfg)
    try:
        pick = {"id": 1, "nas": "", "decisions": [], "seed": 5}
        payload = run._payload(pick)
        assert run.config == replace(cfg, image=8)  # the data set's own size, kept in the run
        assert payload == trial_payload(run.config, pick, 1, device="cpu") and payload["repeats"] == 2
        data = child_data(payload)
        assert (len(data.train.y), len(data.val.y)) == (300, 1497)
        assert torch.equal(run.v_x, data.val.x) and torch.equal(run.v_y, data.val.y)
        if strategy == "darts":
            x, y = torch.cat([run.w_x, run.a_x]), torch.cat([run.w_y, run.a_y])
            assert len(run.w_y) == len(run.a_y) == 150
            assert torch.equal(y.sort().values, data.train.y.sort().values)
            assert torch.allclose(x.sum(0), data.train.x.sum(0), atol=1e-3)
        else:
            assert torch.equal(run.w_x, data.train.x) and torch.equal(run.w_y, data.train.y)
        assert run.proxy == proxy_network(cfg)
    finally:
        run.close()


def test_minutes_bounds_a_one_shot_run_and_resume_goes_on(tmp_path):
    # the budget is checked before each supernet epoch, the ranking and each pick: a budget of 6 ms
    # lets the first epoch start (or, on a stalled machine, none) and nothing after it; --resume (no
    # budget) trains the rest and the picks
    run = tmp_path / "rws"
    r = _search("--strategy", "random-ws", "--space", "enas", "--out", str(run), "--supernet-epochs", "2",
                *RANKED, "2", "--minutes", "0.0001", *TINY)
    epochs, trials, archs = _db(run)
    assert epochs in ([1], []) and trials == [] and archs == []
    assert f"stopped by --minutes after {len(epochs)} of 2 supernet epochs and 0 of 2 picks trained" in r.stdout
    assert f"nasdsl search --resume --out {run}" in r.stdout
    assert not (run / "best.nas").exists()
    # stopped before its first pick, the run's reports show its supernet, not only 'no trials'
    line = f"supernet: {len(epochs)} of 2 epochs trained; ranking: not started"
    table = subprocess.run([sys.executable, "-m", "nasdsl", "report", str(run)], capture_output=True, text=True,
                           check=True).stdout
    assert line in table
    html = (run / "report.html").read_text()
    assert "No trials yet." in html and line in html and "One-shot search (random-ws" in html
    assert ("supernet loss" in html) == bool(epochs)
    r = _search("--resume", "--out", str(run), "--quiet")
    assert "stopped" not in r.stdout and "pick 2" in r.stdout
    epochs, trials, archs = _db(run)
    assert epochs == [1, 2] and [t[1] for t in trials] == ["done", "done"] and len(archs) == 4
    assert (run / "best.nas").exists()


def test_picks_train_in_rank_order_and_none_starts_after_the_deadline(tmp_path):
    from dataclasses import replace

    from nasdsl_search.driver import SearchConfig
    from nasdsl_search.lifetime import Deadline
    from nasdsl_search.oneshot import OneShot, OneShotConfig
    from nasdsl_search.progress import Progress

    cfg = SearchConfig(strategy="random-ws", space="enas", train_size=256, val_size=128)
    cfg = replace(cfg, proxy=replace(cfg.proxy, filters=4), train=replace(cfg.train, batch_size=32, epochs=1))
    run = OneShot(tmp_path / "run", cfg, OneShotConfig(epochs=1, rank_samples=4, top_k=2, eval_images=64))
    try:
        run.train_supernet()
        picks = run._rank()[:2]
        bar = Progress(2, enabled=False)
        run._train_picks(picks, bar, Deadline(0))  # spent: no pick starts
        assert run.store.trials() == []
        run._train_picks(picks, bar, Deadline(None))
        trials = run.store.trials()
        assert [tuple(t["decisions"]) for t in trials] == [p["decisions"] for p in picks]  # in rank order
        assert [t["meta"]["oneshot_rank"] for t in trials] == [1, 2]
        assert all(t["status"] == "done" for t in trials)
    finally:
        run.close()


def test_pack_tensors_round_trips_every_dtype_and_shape():
    from nasdsl_search.oneshot_store import pack_optimizer, pack_tensors, unpack_optimizer, unpack_tensors

    tensors = {"w": torch.randn(4, 3, 3, 3).to(memory_format=torch.channels_last), "b": torch.randn(4),
               "count": torch.tensor(7), "idx": torch.arange(6, dtype=torch.int64).reshape(2, 3), "empty": torch.zeros(0, 2)}
    back = unpack_tensors(pack_tensors(tensors))
    assert back.keys() == tensors.keys()
    for k, t in tensors.items():
        assert back[k].dtype == t.dtype and back[k].shape == t.shape and torch.equal(back[k], t)
    opt = {"state": {0: {"momentum_buffer": torch.randn(3)}, 2: {"momentum_buffer": None, "step": 5}},
           "param_groups": [{"lr": 0.1, "params": [0, 1, 2]}]}
    back = unpack_optimizer(pack_optimizer(opt))
    assert back["param_groups"] == opt["param_groups"] and back["state"][2] == {"momentum_buffer": None, "step": 5}
    assert torch.equal(back["state"][0]["momentum_buffer"], opt["state"][0]["momentum_buffer"])


def _tiny_random_ws(folder, epochs: int):
    """A new random-ws run whose supernet epoch takes well under a second."""
    from dataclasses import replace

    from nasdsl_search.driver import SearchConfig
    from nasdsl_search.oneshot import OneShot, OneShotConfig

    cfg = SearchConfig(strategy="random-ws", space="enas", train_size=128, val_size=64)
    cfg = replace(cfg, proxy=replace(cfg.proxy, filters=4), train=replace(cfg.train, batch_size=32))
    return OneShot(folder, cfg, OneShotConfig(epochs=epochs))


def _trained(run) -> tuple[dict, dict, list[int]]:
    """`run`'s supernet trained to the end, closed: weights, optimizer state, the epochs in its store."""
    from nasdsl_search import oneshot_store as os_store

    try:
        run.train_supernet()
        return run.net.state_dict(), run.weights_opt.state_dict()["state"], [e["epoch"] for e in os_store.epochs(run.store)]
    finally:
        run.close()


def _resumed_from_epoch_1(folder, epoch: int = 1) -> tuple[dict, dict, list[int]]:
    from nasdsl_search.oneshot import OneShot

    run = OneShot(folder, resume=True)
    assert run.epoch == epoch
    return _trained(run)


def _bitwise_equal(got, want) -> bool:
    (net, opt, epochs), (net_want, opt_want, epochs_want) = got, want
    return (epochs == epochs_want and net.keys() == net_want.keys() and all(torch.equal(net[k], net_want[k]) for k in net)
            and opt.keys() == opt_want.keys()
            and all(torch.equal(opt[i]["momentum_buffer"], opt_want[i]["momentum_buffer"]) for i in opt))


@pytest.mark.parametrize("old_format", [False, True])
def test_a_resumed_supernet_is_bitwise_the_uninterrupted_one(tmp_path, old_format):
    # 2 supernet epochs in one go, and 1 epoch + close + resume + 1 epoch: the same weights and
    # optimizer state to the bit, from the packed checkpoint and from one written before packing
    import io
    from types import SimpleNamespace

    from nasdsl_search import oneshot_store as os_store
    from nasdsl_search.store import dump_state, load_state

    want = _trained(_tiny_random_ws(tmp_path / "whole", 2))
    part = _tiny_random_ws(tmp_path / "part", 2)
    try:
        part.train_supernet(deadline=SimpleNamespace(passed=lambda: part.epoch >= 1))  # stop after one epoch
        if old_format:  # the weights as checkpoints held them before 2026-12-04: plain state dicts
            epoch, blob = os_store.checkpoint(part.store)
            state = load_state(blob)
            buf = io.BytesIO()
            torch.save({"net": part.net.state_dict(), "opt": part.weights_opt.state_dict()}, buf)
            state["weights"] = buf.getvalue()
            with part.store.transaction() as db:
                db.execute("UPDATE oneshot_checkpoint SET state = ? WHERE id = 1", (dump_state(state),))
    finally:
        part.close()
    assert _bitwise_equal(_resumed_from_epoch_1(tmp_path / "part"), want)


def test_darts_warmup_trains_the_weights_alone_then_the_architecture_too(tmp_path):
    # --arch-warmup 1 of 2 epochs: after the first the architecture logits are their initial draw to
    # the bit while the shared weights have trained; the second epoch moves them (PC-DARTS's warm-up)
    from dataclasses import replace
    from types import SimpleNamespace

    from nasdsl_search.driver import SearchConfig
    from nasdsl_search.oneshot import OneShot, OneShotConfig

    cfg = SearchConfig(strategy="darts", space="darts", train_size=128, val_size=64)
    cfg = replace(cfg, proxy=replace(cfg.proxy, filters=4), train=replace(cfg.train, batch_size=32))
    run = OneShot(tmp_path / "run", cfg, OneShotConfig.for_strategy("darts", epochs=2, arch_warmup=1))
    try:
        first = [a.detach().clone() for a in run.strategy.parameters()]
        net = {k: v.clone() for k, v in run.net.state_dict().items()}
        run.train_supernet(deadline=SimpleNamespace(passed=lambda: run.epoch >= 1))
        assert all(torch.equal(a, b) for a, b in zip(run.strategy.parameters(), first, strict=True))
        assert any(not torch.equal(v, net[k]) for k, v in run.net.state_dict().items())
        run.train_supernet()
        assert run.epoch == 2
        assert all(not torch.equal(a, b) for a, b in zip(run.strategy.parameters(), first, strict=True))
    finally:
        run.close()


@pytest.mark.parametrize("stop", [RuntimeError, KeyboardInterrupt])
def test_epochs_between_checkpoints_after_a_stop_in_the_third_epoch(tmp_path, stop):
    # checkpoints spaced out (after the first epoch and the last only), the run stopped in its third
    # epoch. A crash (as kill -9) or a signal (SIGINT, SIGTERM, SIGHUP: KeyboardInterrupt) kept the
    # first epoch alone, no row of the second, which the run holds as unsaved; resume trains the second
    # again. Resumed, both end bitwise as an uninterrupted run. (Keeping the second on a signal needs
    # its end state taken every epoch: 0.06 s, a fifth of the default supernet's time.)
    kept = 1
    from nasdsl_search import oneshot_store as os_store

    want = _trained(_tiny_random_ws(tmp_path / "whole", 3))
    part = _tiny_random_ws(tmp_path / "part", 3)
    part.checkpoint_ratio = 1e9
    epoch = part._epoch

    def stopped_in_the_third():
        if part.epoch == 2:
            epoch()  # most of the third epoch's steps done: its weights have moved on from epoch 2's
            raise stop
        return epoch()

    part._epoch = stopped_in_the_third
    try:
        with pytest.raises(stop):
            part.train_supernet()
        assert os_store.checkpoint(part.store)[0] == kept
        assert [e["epoch"] for e in os_store.epochs(part.store)] == list(range(1, kept + 1))
        assert [e[0] for e in part.unsaved] == [2]  # what the stop line counts as trained again
    finally:
        part.close()
    assert _bitwise_equal(_resumed_from_epoch_1(tmp_path / "part", kept), want)


def test_strategy_defaults_differ_where_measured_and_flags_win(tmp_path):
    # random-ws trains its supernet 20 epochs by default (its rank correlation doubled from 10, README),
    # darts at DARTS's lr; a flag always wins; the run folder keeps what was used
    from nasdsl_search.oneshot import OneShotConfig
    from nasdsl_search.store import Store

    assert OneShotConfig.for_strategy("random-ws").epochs == 20
    assert OneShotConfig.for_strategy("random-ws", epochs=3, lr=None).epochs == 3
    assert OneShotConfig.for_strategy("darts").lr == 0.025 and OneShotConfig.for_strategy("enas") == OneShotConfig()
    for name, flags, want in (("default", [], 20), ("given", ["--supernet-epochs", "3"], 3)):
        run = tmp_path / name
        _search("--strategy", "random-ws", "--space", "enas", "--out", str(run), *flags, "--minutes", "0.0001", *TINY)
        store = Store(run, create=False)
        try:
            assert store.config("oneshot")["epochs"] == want
        finally:
            store.close()


def test_ranking_scores_distinct_architectures_and_stops_drawing_repeats():
    from itertools import cycle

    from nasdsl_search.oneshot import distinct_draws

    fresh = iter(range(1000))
    assert distinct_draws(lambda: (next(fresh),), 5, tries=10) == [(0,), (1,), (2,), (3,), (4,)]
    collapsed = cycle([(1, 2), (1, 2), (3, 4)])  # a controller that keeps proposing two cells
    assert distinct_draws(lambda: next(collapsed), 5, tries=50) == [(1, 2), (3, 4)]


@pytest.mark.parametrize("strategy", ["random-ws", "enas"])
def test_ranked_architectures_are_distinct(tmp_path, strategy):
    from dataclasses import replace

    from nasdsl_search import oneshot_store
    from nasdsl_search.driver import SearchConfig
    from nasdsl_search.oneshot import OneShot, OneShotConfig

    cfg = SearchConfig(strategy=strategy, space="enas", train_size=256, val_size=128)
    cfg = replace(cfg, proxy=replace(cfg.proxy, filters=4), train=replace(cfg.train, batch_size=32, epochs=1))
    run = OneShot(tmp_path / "run", cfg, OneShotConfig(epochs=1, rank_samples=6, top_k=1, eval_images=64,
                                                       controller_steps=1))
    try:
        run.train_supernet()
        picks = run._rank()
        scored = [a["decisions"] for a in oneshot_store.archs(run.store, "rank")]
        assert len(scored) == len(set(scored)) == len(picks) == 6
    finally:
        run.close()


def test_the_supernet_cosine_ends_at_darts_floor_for_darts_and_at_zero_otherwise():
    """DARTS's train_search anneals the weights' lr from 0.025 to 0.001 (learning_rate_min); the
    darts strategy went to 0. random-ws and enas keep cosine to 0 (no published floor claimed)."""
    from types import SimpleNamespace

    from nasdsl_search.oneshot import OneShot, OneShotConfig

    for strategy, floor in (("darts", 0.001), ("random-ws", 0.0), ("enas", 0.0)):
        o = OneShotConfig.for_strategy(strategy)
        at = SimpleNamespace(oneshot=o, step=0)
        assert OneShot._lr(at, 100) == pytest.approx(o.lr)
        at.step = 50
        assert OneShot._lr(at, 100) == pytest.approx((o.lr + floor) / 2)
        at.step = 100
        assert OneShot._lr(at, 100) == pytest.approx(floor)
    assert OneShotConfig.from_dict({"lr": 0.025}).lr_min == 0.0  # a run stored before: as it trained


@pytest.mark.parametrize("flags, message", [
    (["--strategy", "random-ws", "--supernet-lr", "nan"], "--supernet-lr must be a finite number, got nan"),
    (["--strategy", "random-ws", "--supernet-lr", "1e9"], "--supernet-lr must be at most 1000, got 1e+09"),
    (["--strategy", "darts", "--space", "darts", "--arch-lr", "inf"], "--arch-lr must be a finite number"),
    (["--strategy", "darts", "--space", "darts", "--arch-weight-decay", "-5"],
     "--arch-weight-decay must be at least 0, got -5"),
    (["--strategy", "random-ws", "--top-k", "5", "--rank-samples", "2"],
     "--top-k 5 is more than the --rank-samples 2 architectures it picks from"),
    (["--strategy", "darts", "--space", "darts", "--supernet-lr", "0.0005"],  # darts's own floor, 0.001
     "--supernet-lr-min 0.001 is above --supernet-lr 0.0005: the cosine would climb"),
    (["--strategy", "darts", "--space", "darts", "--arch-warmup", "10"],  # of the default 10 epochs
     "--arch-warmup 10 leaves none of the 10 --supernet-epochs to train the architecture weights"),
    (["--strategy", "darts", "--space", "darts", "--arch-warmup", "-1"], "--arch-warmup must be at least 0, got -1"),
    (["--strategy", "random-ws", "--arch-warmup", "2"], "--arch-warmup is for --strategy darts only"),
])
def test_bad_one_shot_values_are_one_line_before_any_folder(tmp_path, capsys, flags, message):
    """nan/inf/1e9 supernet lr ran a NaN supernet to 'success' (and report then failed, exit 3); a
    bad --arch-weight-decay was exit 3 after the folder was made, which could then be neither
    resumed nor replaced; --top-k over --rank-samples reported a finished run as unfinished."""
    from nasdsl.cli.dispatch import main

    run = tmp_path / "run"
    assert main(["search", *flags, "--quiet", "--out", str(run)]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert not run.exists()


def test_a_diverged_supernet_stops_the_run_instead_of_ranking_at_chance(tmp_path):
    from nasdsl.errors import NasError
    from nasdsl_search import oneshot_store as os_store

    run = _tiny_random_ws(tmp_path / "run", 3)
    epoch = run._epoch

    def diverged():
        info, scored = epoch()
        return {**info, "loss": float("nan")} if run.epoch == 1 else info, scored

    run._epoch = diverged
    try:
        with pytest.raises(NasError, match=r"the supernet diverged in epoch 2 \(loss nan\); start a new run with a "
                                           r"lower --supernet-lr"):
            run.train_supernet()
        assert [e["epoch"] for e in os_store.epochs(run.store)] == [1]  # the diverged epoch is not stored
    finally:
        run.close()


def test_a_chart_of_a_nan_loss_leaves_the_point_out():
    """An old run's NaN loss row made report exit 3 (cannot convert float NaN to integer)."""
    from nasdsl_search.report_html import _chart

    svg = _chart([{"name": "loss", "colour": "#123456", "points": [(1, 2.0, "a"), (2, float("nan"), "b")],
                   "steps": [], "fails": []}], "epoch", "loss", str)
    assert svg.count('class="trial"') == 1 and "nan" not in svg.lower()


def test_a_space_of_none_alone_is_refused_where_it_is_written(tmp_path):
    sp = tmp_path / "sp.nas"
    sp.write_text("space onlynone {\n    blocks = 2\n    ops = none\n    output = blocks\n}\n")
    from proc_helpers import run_cli

    r = run_cli("search", "--strategy", "darts", "--space", f"{sp}:onlynone", "--quiet", "--out",
                     str(tmp_path / "run"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert f"{sp}:3:11: error: a space needs an op besides `none`: every cell of this one outputs zeros" in r.stderr
    assert not (tmp_path / "run").exists()
    r = run_cli("search", "--strategy", "random-ws", "--space", "darts_v2_cifar", "--quiet", "--out", str(tmp_path / "r2"))
    assert r.returncode == 2 and "'darts_v2_cifar' is a network (known zoo spaces: darts, enas, nasnet)" in r.stderr


def test_the_run_folders_own_file_names_are_never_written_over(tmp_path, capsys):
    """A new run into a folder holding a user's best.nas (search) or best.pt (train): refused, the
    file untouched (the run replaced it, exit 0)."""
    from nasdsl.cli.dispatch import main

    for command, name in ((["search", "--reward", "synthetic", "--trials", "1"], "best.nas"),
                          (["train", "nasnet_a_cifar", "--epochs", "1"], "best.pt")):
        folder = tmp_path / name
        folder.mkdir()
        (folder / name).write_text("mine\n")
        assert main([*command, "--quiet", "--out", str(folder)] if command[0] == "search"
                    else [*command, "--out", str(folder)]) == 2
        err = capsys.readouterr().err
        assert f"--out {folder} already holds {name}, which a new run writes; choose another folder" in err, err
        assert (folder / name).read_text() == "mine\n"
