"""The resumable Trainer: stopping after any epoch and continuing in a new Trainer from its
state_dict gives bitwise the weights of one uninterrupted run (CPU), on the in-memory fast path
and on the DataLoader path; recipes' optimizer, schedule and EMA; top-1/top-5 evaluation."""
from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch
from torch import nn

import nasdsl
from nasdsl_search.trainer import ArrayDataset, ChildDiverged, SettingError, TFRMSprop, TrainConfig, Trainer

NAS = """
import nasnet_a_normal
import nasnet_a_reduce

network tiny {
    normal = nasnet_a_normal
    reduction = nasnet_a_reduce
    cells = 1
    filters = 4
    stem_multiplier = 1
    image = 16
    classes = 10
    aux_head = true
    drop_path_keep = 0.7
}
"""


class FlipData(ArrayDataset):
    """In memory, with a random horizontal flip drawn from the trainer's generator."""

    def augment_batch(self, xb, generator):
        flip = torch.rand(len(xb), generator=generator) < 0.5
        return torch.where(flip[:, None, None, None], xb.flip(3), xb)


class Streamed(torch.utils.data.Dataset):
    """A map-style set without x/y attributes: the trainer streams it through a DataLoader."""

    def __init__(self, x, y):
        self.items = ArrayDataset(x, y)

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


def digits(n=160, image=16):
    from sklearn.datasets import load_digits

    d = load_digits()
    x = torch.from_numpy((d.images[:n] / 16.0).astype(np.float32))[:, None].repeat(1, 3, 1, 1)
    x = nn.functional.interpolate(x, size=(image, image), mode="bilinear", align_corners=False)
    return (x - 0.3) / 0.4, torch.from_numpy(d.target[:n].astype(np.int64))


_MODEL: list[nn.Module] = []


def model():
    """The same freshly initialized network each time (compiled once)."""
    if not _MODEL:
        torch.manual_seed(0)
        _MODEL.append(nasdsl.compile(NAS))
    return copy.deepcopy(_MODEL[0])


def weights(trainer):
    return {k: v.clone() for k, v in trainer.model.state_dict().items()}


def run(cfg, data, val, *, stop_after=None, **kw):
    """Train cfg.epochs epochs; with stop_after=k, stop after k epochs and continue in a new
    Trainer (and a newly built model) from the saved state."""
    t = Trainer(model(), cfg, data, val, seed=5, **kw)
    for _ in range(stop_after or cfg.epochs):
        t.train_epoch()
    if stop_after is not None:
        state = t.state_dict()
        torch.manual_seed(123)  # whatever happened to the global RNG in between does not matter
        t = Trainer(model(), cfg, data, val, seed=5, **kw)
        t.load_state_dict(state)
        assert t.epoch == stop_after
        while t.epoch < cfg.epochs:
            t.train_epoch()
    return t


RECIPES = {
    "cifar": TrainConfig(epochs=3, batch_size=32, lr=0.05),
    "nasnet-imagenet": TrainConfig(epochs=3, batch_size=32, lr=0.02, optimizer="rmsprop", schedule="exponential",
                                   lr_decay=0.9, lr_decay_epochs=0.5, label_smoothing=0.1, ema_decay=0.99,
                                   grad_clip=10.0, weight_decay=4e-5),
}


@pytest.mark.parametrize("recipe,stop", [("cifar", 1), ("nasnet-imagenet", 2)])
def test_resume_is_bitwise_the_uninterrupted_run(recipe, stop):
    torch.set_num_threads(1)
    x, y = digits(96)
    data, val = FlipData(x[:64], y[:64]), ArrayDataset(x[64:], y[64:])
    cfg = RECIPES[recipe]
    whole = run(cfg, data, val)
    resumed = run(cfg, data, val, stop_after=stop)
    a, b = weights(whole), weights(resumed)
    assert all(torch.equal(a[n], b[n]) for n in a), f"stopped after {stop}: weights differ"
    assert resumed.step == whole.step == 3 * 2
    if cfg.ema_decay:
        ea, eb = whole.ema.model.state_dict(), resumed.ema.model.state_dict()
        assert all(torch.equal(ea[n], eb[n]) for n in ea)
        assert not torch.equal(ea["last_linear.weight"], a["last_linear.weight"])  # EMA is not the weights
    assert resumed.evaluate() == whole.evaluate()
    init = model().state_dict()
    assert not torch.equal(init["last_linear.weight"], a["last_linear.weight"])  # training moved them


def test_resume_on_the_dataloader_path_with_workers():
    torch.set_num_threads(1)
    x, y = digits(96)
    data, val = Streamed(x[:64], y[:64]), Streamed(x[64:], y[64:])
    cfg = TrainConfig(epochs=2, batch_size=32)
    whole = run(cfg, data, val, workers=1)
    resumed = run(cfg, data, val, stop_after=1, workers=1)
    a, b = weights(whole), weights(resumed)
    assert all(torch.equal(a[n], b[n]) for n in a)
    assert whole.steps_per_epoch == 2 and whole.step == 4


def test_train_epoch_reports_and_evaluate_scores_top1_top5():
    torch.set_num_threads(1)
    x, y = digits(400, image=8)
    net = nn.Sequential(nn.Flatten(), nn.Linear(3 * 64, 10))
    t = Trainer(net, TrainConfig(epochs=3, batch_size=50, lr=0.2, weight_decay=0), ArrayDataset(x[:300], y[:300]),
                ArrayDataset(x[300:], y[300:]))
    stats = [t.train_epoch() for _ in range(3)]
    assert [s["epoch"] for s in stats] == [1, 2, 3] and stats[-1]["loss"] < stats[0]["loss"]
    assert all(s["images_per_s"] > 0 and s["seconds"] > 0 for s in stats)
    ev = t.evaluate()
    assert 0.7 < ev["top1"] <= ev["top5"] <= 1.0 and ev["loss"] > 0
    logits = net(x[300:])  # top-5 by hand
    top5 = (logits.topk(5, 1).indices == y[300:, None]).any(1).float().mean().item()
    assert ev["top5"] == pytest.approx(top5)
    with pytest.raises(RuntimeError, match="all 3 epochs"):
        t.train_epoch()


def test_schedules():
    x, y = digits(64, image=8)
    net = nn.Sequential(nn.Flatten(), nn.Linear(3 * 64, 10))
    cos = Trainer(net, TrainConfig(epochs=2, batch_size=16, lr=0.1), ArrayDataset(x, y))
    assert cos.total_steps == 8 and cos.lr_at(0) == 0.1 and cos.lr_at(4) == pytest.approx(0.05)
    exp = Trainer(net, TrainConfig(epochs=10, batch_size=16, lr=0.1, schedule="exponential"), ArrayDataset(x, y))
    # 0.97 every 2.4 epochs, staircase: epochs 0..2.39 -> 0.1, 2.4..4.79 -> 0.097
    assert exp.lr_at(9) == 0.1 and exp.lr_at(10) == pytest.approx(0.097) and exp.lr_at(20) == pytest.approx(0.1 * 0.97**2)


def test_tf_rmsprop_matches_its_formula():
    p = nn.Parameter(torch.tensor([1.0, -2.0]))
    opt = TFRMSprop([p], lr=0.1, decay=0.9, eps=1.0, momentum=0.9)
    ms, mom, w = np.ones(2), np.zeros(2), np.array([1.0, -2.0])
    for g in ([0.5, 1.0], [-1.0, 2.0]):
        p.grad = torch.tensor(g)
        opt.step()
        g = np.array(g)
        ms = 0.9 * ms + 0.1 * g * g
        mom = 0.9 * mom + 0.1 * g / np.sqrt(ms + 1.0)
        w = w - mom
    assert np.allclose(p.detach().numpy(), w, atol=1e-6)


def test_bad_config_and_divergence():
    x, y = digits(64, image=8)
    net = nn.Sequential(nn.Flatten(), nn.Linear(3 * 64, 10))
    with pytest.raises(SettingError, match="optimizer must be one of sgd, rmsprop, got 'adam'") as e:
        Trainer(net, TrainConfig(optimizer="adam"), ArrayDataset(x, y))
    assert e.value.field == "optimizer" and e.value.flag_message().startswith("--optimizer must be")
    for bad, field in ((dict(batch_size=0), "batch_size"), (dict(lr=0.0), "lr"), (dict(label_smoothing=1.0), "label_smoothing"),
                       (dict(schedule="exponential", lr_decay=0.0), "lr_decay"), (dict(precise_bn=-1), "precise_bn")):
        with pytest.raises(SettingError) as e:
            TrainConfig(**bad).check()
        assert e.value.field == field, bad
    t = Trainer(net, TrainConfig(epochs=1, batch_size=16, lr=1e30, grad_clip=0), ArrayDataset(x, y))
    with pytest.raises(ChildDiverged, match="training loss is"):
        t.train_epoch()


@pytest.mark.parametrize("optimizer", ["sgd", "rmsprop"])
def test_weight_decay_on_weights_leaves_batch_norm_and_biases_alone(optimizer):
    """TF-slim's l2 regularizer is on the conv and linear weights (the nasnet-imagenet recipe); DARTS
    decays every parameter (cifar). With no gradient but the decay, only what is decayed moves."""
    x, y = digits(64, image=8)
    for on, moved in (("weights", {"0.weight"}), ("all", {"0.weight", "0.bias", "1.weight"})):  # (1.bias is 0)
        net = nn.Sequential(nn.Linear(3 * 64, 10), nn.BatchNorm1d(10))
        cfg = TrainConfig(batch_size=16, lr=0.1, weight_decay=0.5, weight_decay_on=on, optimizer=optimizer)
        t = Trainer(net, cfg, ArrayDataset(x.reshape(64, -1), y))
        before = {k: v.clone() for k, v in net.named_parameters()}
        for p in net.parameters():
            p.grad = torch.zeros_like(p)
        t.optimizer.step()
        changed = {k for k, v in net.named_parameters() if not torch.equal(v, before[k])}
        assert changed == moved, (on, changed)
    with pytest.raises(SettingError, match="weight_decay_on must be one of all, weights"):
        TrainConfig(weight_decay_on="bn").check()


def test_bn_momentum_sets_every_batch_norms_and_zero_leaves_them():
    """TF-slim's ImageNet arg scope keeps batch-norm averages with decay 0.9997 (PyTorch momentum
    0.0003); the layers' own 0.1 averages over about ten steps."""
    x, y = digits(64, image=8)
    for given, want in ((0.0003, 0.0003), (0.0, 0.1)):
        net = nn.Sequential(nn.Flatten(), nn.Linear(3 * 64, 10), nn.BatchNorm1d(10))
        Trainer(net, TrainConfig(batch_size=16, bn_momentum=given), ArrayDataset(x, y))
        assert net[2].momentum == want
    with pytest.raises(SettingError, match="bn_momentum must be in"):
        TrainConfig(bn_momentum=1.5).check()


def test_the_ema_averages_batch_norm_statistics_as_it_averages_weights():
    """TF-slim averages every model variable, moving mean and variance included (timm's ModelEmaV2
    likewise); the statistics were copied, so averaged weights were scored with the last steps'."""
    from nasdsl_search.trainer import ParameterEma

    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    ema = ParameterEma(net, decay=0.5)
    with torch.no_grad():
        net[1].running_mean.fill_(2.0)
        net[0].weight.fill_(1.0)
    before = ema.model[0].weight.clone()
    ema.update(net)  # the first update: decay min(0.5, 2 / 11)
    d = 2 / 11
    torch.testing.assert_close(ema.model[1].running_mean, torch.full((4,), (1 - d) * 2.0))
    torch.testing.assert_close(ema.model[0].weight, d * before + (1 - d) * 1.0)
    assert int(ema.model[1].num_batches_tracked) == int(net[1].num_batches_tracked)


class _OverflowingStatistic(nn.Module):
    """A running statistic gone to inf, as batch norm's running_var does under a huge lr, while the
    training loss stays finite (the forward pass in training uses the batch's own statistics)."""

    def __init__(self):
        super().__init__()
        self.register_buffer("running", torch.zeros(1))

    def forward(self, x):
        if self.training:
            self.running.fill_(float("inf"))
        return x


def test_an_epoch_that_leaves_non_finite_state_diverged():
    """The loss was finite at every step, but the model it leaves is not: train --nproc 2 wrote such a
    model (inf running variances) as its weights and called its held-out noise an accuracy."""
    x, y = digits(64, image=8)
    net = nn.Sequential(nn.Flatten(), nn.Linear(3 * 64, 10), _OverflowingStatistic())
    t = Trainer(net, TrainConfig(epochs=2, batch_size=16), ArrayDataset(x, y))
    with pytest.raises(ChildDiverged, match="weights or batch-norm statistics are not finite after epoch 1"):
        t.train_epoch()
    fine = Trainer(nn.Sequential(nn.Flatten(), nn.Linear(3 * 64, 10)), TrainConfig(epochs=2, batch_size=16),
                   ArrayDataset(x, y))
    assert fine.train_epoch()["epoch"] == 1


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
@pytest.mark.parametrize("amp", [False, True])
def test_cuda_training_and_resume(amp):
    x, y = digits(96)
    data, val = FlipData(x[:64], y[:64]), ArrayDataset(x[64:], y[64:])
    cfg = TrainConfig(epochs=2, batch_size=32)
    t = run(cfg, data, val, device="cuda", amp=amp)
    assert next(t.model.parameters()).is_cuda
    # the same 4 steps as on the CPU: the held-out loss agrees (loosely under AMP's 16-bit arithmetic)
    got, want = t.evaluate()["loss"], run(cfg, data, val).evaluate()["loss"]
    assert math.isfinite(got) and abs(got - want) <= (0.1 if amp else 0.02) * want, (got, want)  # TF32 convs
    r = run(cfg, data, val, stop_after=1, device="cuda", amp=amp)
    # cuDNN may pick other kernels, so only closeness is promised on the GPU
    a, b = weights(t), weights(r)
    assert all(torch.allclose(a[n].float(), b[n].float(), atol=1e-2 if amp else 1e-3) for n in a)
    start = model().state_dict()
    assert any(not torch.equal(a[n].cpu(), v) for n, v in start.items() if v.is_floating_point())  # it trained
