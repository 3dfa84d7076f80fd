"""One trial: compile the child from its text, train it on digits, reward = held-out accuracy;
failures (NaN, bad text, any exception) come back as data."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from nasdsl.ir.cost import cost
from nasdsl.lang.load import load_text
from nasdsl_search.space import ProxyNet, load_space, to_nas
from nasdsl_search.trainer import ChildDiverged, TrainConfig, train
from nasdsl_search.trial import run_trial

SPACE = load_space("nasnet")
NAS = to_nas(SPACE, [1, 0, 10, 11, 0] * 10, ProxyNet(cells=1, filters=8))  # sep3x3(h1) + sep5x5(h0)
PAYLOAD = {"trial": 1, "nas": NAS, "seed": 3, "dataset": "digits", "train_size": 400, "val_size": 200,
           "train": {"epochs": 3, "batch_size": 32, "lr": 0.1}, "threads": 1}


@pytest.mark.slow
def test_a_child_learns_digits_reproducibly():
    a = run_trial(PAYLOAD)
    assert a["status"] == "done", a["error"]
    assert a["reward"] > 0.4  # chance is 0.1
    assert a["params"] == cost(load_text(NAS, "<t>"), network="proxy").params
    b = run_trial(PAYLOAD)
    assert b["reward"] == a["reward"]  # seeded: the same child, the same reward


def test_repeats_average_trainings_from_different_seeds(tmp_path):
    from nasdsl_search.trial import REPEAT_SEED_STRIDE

    quick = {**PAYLOAD, "train_size": 200, "train": {**PAYLOAD["train"], "epochs": 1}}
    one, other = run_trial(quick), run_trial({**quick, "seed": quick["seed"] + REPEAT_SEED_STRIDE})
    both = run_trial({**quick, "repeats": 2})
    assert both["status"] == "done" and one["reward"] != other["reward"]
    assert both["reward"] == pytest.approx((one["reward"] + other["reward"]) / 2, abs=1e-12)
    # an early-stopped trial keeps one checkpoint per replicate and ends where one sitting ends
    ckpt = tmp_path / "trial-1.pt"
    two = {**quick, "repeats": 2, "train": {**quick["train"], "epochs": 2}}
    run_trial({**two, "checkpoint": str(ckpt), "until_epoch": 1})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["trial-1.pt", "trial-1.r1.pt"]
    assert run_trial({**two, "checkpoint": str(ckpt), "until_epoch": 2})["reward"] == run_trial(two)["reward"]


def test_nan_and_bad_text_are_failed_trials():
    nan = run_trial({**PAYLOAD, "train": {"epochs": 1, "lr": 1e30, "grad_clip": 0}})
    assert nan["status"] == "failed" and nan["reward"] is None
    assert nan["error"].startswith("ChildDiverged: training loss is nan")
    bad = run_trial({**PAYLOAD, "nas": "cell x { b0 = foo(h0) out = concat(unused) }"})
    assert bad["status"] == "failed" and "unknown op 'foo'" in bad["error"]
    unknown = run_trial({**PAYLOAD, "dataset": "mnist"})
    assert unknown["status"] == "failed" and "unknown data set" in unknown["error"]


class _AuxNet(nn.Module):
    """A small net with an aux head and a progress hook, like a compiled one."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(3 * 64, 32), nn.ReLU())
        self.head, self.aux = nn.Linear(32, 10), nn.Linear(32, 10)
        self.progress: list[float] = []

    def set_progress(self, p: float) -> None:
        self.progress.append(p)

    def forward(self, x):
        h = self.body(x)
        return (self.head(h), self.aux(h)) if self.training else self.head(h)


def test_trainer_uses_the_aux_head_and_reports_progress():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3, 8, 8)).astype(np.float32)
    y = (x[:, 0, 0, 0] > 0).astype(np.int64)
    torch.manual_seed(0)
    net = _AuxNet()
    res = train(net, x, y, x, y, TrainConfig(epochs=5, batch_size=16, lr=0.1), seed=0)
    assert res.steps == 20 and net.progress[0] == 0.0 and net.progress[-1] == pytest.approx(19 / 20)
    assert res.accuracy > 0.8
    net.train()
    with torch.no_grad():
        net.aux.weight.fill_(float("nan"))  # the aux loss counts: NaN there stops training
    with pytest.raises(ChildDiverged):
        train(net, x, y, x, y, TrainConfig(epochs=1, batch_size=16), seed=0)


def test_a_training_key_names_what_trains_not_where_nor_later_neutral_fields():
    """Caches of trainings (studies, benchmarks) key on `training_key`: a payload stored before a
    TrainConfig field existed keys as one made since with that field at its old behaviour, and
    anything that changes the training changes the key."""
    from dataclasses import replace

    from nasdsl_search.driver import SearchConfig
    from nasdsl_search.trial import training_digest, training_key, trial_payload

    now = trial_payload(SearchConfig(), {"id": 7, "nas": NAS, "decisions": [], "seed": 3}, threads=2)
    stored = {**now, "trial": 1, "threads": 1,
              "train": {k: v for k, v in now["train"].items() if k not in ("bn_momentum", "weight_decay_on")}}
    assert training_key(stored) == training_key(now)
    assert training_digest(stored) == training_digest(now)
    assert "trial" not in training_key(now) and "threads" not in training_key(now)
    for changed in ({"bn_momentum": 0.01}, {"weight_decay_on": "weights"}, {"lr": 0.1}):
        other = trial_payload(replace(SearchConfig(), train=replace(SearchConfig().train, **changed)),
                              {"id": 7, "nas": NAS, "decisions": [], "seed": 3}, threads=2)
        assert training_digest(other) != training_digest(now), changed
    assert training_digest({**now, "seed": 4}) != training_digest(now)
    assert training_digest({**now, "nas": NAS + "\n"}) != training_digest(now)
