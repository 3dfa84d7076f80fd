"""Evaluation with PreciseBN (`TrainConfig.precise_bn`, `--precise-bn`): batch-norm statistics
recomputed on training images with the weights being evaluated, put back afterwards.

- On the default proxy a child after one epoch (5 steps) scores near chance with its running
  averages and far above it with recomputed statistics: what the search's children are now scored with.
- The statistics inside are the training images' (checked against a direct computation), and
  evaluating changes nothing in the training that follows (bitwise, CPU).
- Under DDP (2 gloo ranks) both ranks score the same and the buffers are the running averages again.
"""
from __future__ import annotations

import os
from dataclasses import replace

import pytest
import torch
import torch.multiprocessing as mp
from torch import nn

from nasdsl_search.trainer import ArrayDataset, TrainConfig, Trainer


def _data(n: int = 96, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, 6, 6, generator=g)
    y = (x[:, 0].mean((1, 2)) > 0).long() + 2 * (x[:, 1].mean((1, 2)) > 0).long()
    return ArrayDataset(x[: n * 3 // 4], y[: n * 3 // 4]), ArrayDataset(x[n * 3 // 4:], y[n * 3 // 4:])


def _net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.Dropout(0.5), nn.BatchNorm2d(8), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 4))


def _scored_with_running_averages(t: Trainer) -> dict:
    """`t.evaluate()` as before PreciseBN (switches `t` to it)."""
    t.config = replace(t.config, precise_bn=0)
    return t.evaluate()


def test_a_short_training_scores_mostly_its_batch_norm_lag():
    """The default proxy's first cell (benchmarks/proxy_signal.py) after one epoch of its child training."""
    import nasdsl
    from benchmarks.proxy_signal import cells, payload
    from nasdsl_search.driver import SearchConfig
    from nasdsl_search.trial import child_data

    cfg = SearchConfig()
    p = payload(cfg, cells(1)[0], 1000, cfg.train.epochs, 1, 1)
    data = child_data(p)
    assert cfg.train.precise_bn >= len(data.train)  # children are scored on all their training images' statistics
    torch.manual_seed(p["seed"])
    model = nasdsl.compile(p["nas"], network="proxy", num_classes=data.classes)
    t = Trainer(model, TrainConfig(**p["train"]), data.train, data.val, seed=p["seed"], workers=0)
    t.train_epoch()
    precise = t.evaluate()["top1"]
    running = _scored_with_running_averages(t)["top1"]
    assert running < 0.15 < 0.4 < precise, (running, precise)  # chance is 0.1


def test_the_statistics_are_the_training_images_and_go_back_after():
    train, val = _data()
    t = Trainer(_net(), TrainConfig(epochs=2, batch_size=16, precise_bn=40, eval_batch=16), train, val, seed=1,
                workers=0)
    t.train_epoch()
    bn = t.model[2]
    before = {k: v.clone() for k, v in t.model.state_dict().items()}
    with t._precise_bn(t.model):
        mean, var = bn.running_mean.clone(), bn.running_var.clone()
    with torch.no_grad():  # what batch norm sees in eval mode: no dropout before it
        feats = [t.model[0](train.x[i:i + 16]) for i in (0, 16, 32)]
    feats[-1] = feats[-1][:8]  # 40 images: 16 + 16 + 8
    assert torch.allclose(mean, sum(f.mean((0, 2, 3)) for f in feats) / 3, atol=1e-6)
    assert torch.allclose(var, sum(f.var((0, 2, 3)) for f in feats) / 3, atol=1e-5)
    assert all(torch.equal(v, t.model.state_dict()[k]) for k, v in before.items())
    assert bn.momentum == 0.1


def test_evaluating_changes_nothing_in_the_training_that_follows():
    train, val = _data()
    cfg = TrainConfig(epochs=3, batch_size=16, precise_bn=48)
    scored, plain = (Trainer(_net(), cfg, train, val, seed=3, workers=0) for _ in range(2))
    torch.manual_seed(5)  # dropout draws from the global generator: the same draws for both
    for _ in range(cfg.epochs):
        scored.train_epoch()
        scored.evaluate()
    torch.manual_seed(5)
    for _ in range(cfg.epochs):
        plain.train_epoch()
    a, b = scored.model.state_dict(), plain.model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert scored.evaluate() == plain.evaluate()
    assert scored.evaluate() != _scored_with_running_averages(plain)  # and the recomputed statistics do change the score


def _worker(rank: int, world: int, port: int, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    torch.distributed.init_process_group("gloo", rank=rank, world_size=world)
    try:
        train, val = _data(128)
        t = Trainer(_net(), TrainConfig(epochs=1, batch_size=32, precise_bn=96), train, val, seed=4, workers=0)
        t.train_epoch()
        buffers = {k: v.clone() for k, v in t.model.state_dict().items()}
        ev = t.evaluate()
        torch.save({"eval": ev, "restored": all(torch.equal(v, t.model.state_dict()[k]) for k, v in buffers.items())},
                   f"{out}.{rank}")
    finally:
        torch.distributed.destroy_process_group()


def test_two_gloo_ranks_score_alike(tmp_path):
    from tests.test_train_ddp import _free_port

    out = str(tmp_path / "rank")
    mp.spawn(_worker, args=(2, _free_port(), out), nprocs=2, join=True)
    r0, r1 = (torch.load(f"{out}.{r}", weights_only=True) for r in (0, 1))
    assert r0["restored"] and r1["restored"]
    assert r0["eval"] == r1["eval"]


@pytest.mark.parametrize("command", [["search", "--trials", "1"], ["train", "nasnet_a_mobile", "-o", "w.pt"]])
def test_a_negative_count_is_a_one_line_error(tmp_path, command):
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "nasdsl", *command, "--precise-bn", "-1", "--out", str(tmp_path / "o")],
                       cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stderr
    assert "precise" in r.stderr.lower() and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
