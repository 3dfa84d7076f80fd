"""Child training: SGD with momentum, a cosine learning rate, reward = held-out accuracy.

Works on any nn.Module whose forward returns logits, or (logits, aux_logits) in training mode
when an auxiliary head is on (its loss is weighted by `aux_weight`, 0.4 in NASNet).
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn


class ChildDiverged(RuntimeError):
    """The training loss became NaN or infinite."""


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 4
    batch_size: int = 64
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 3e-4
    grad_clip: float = 5.0
    aux_weight: float = 0.4
    eval_batch: int = 500

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class TrainResult:
    accuracy: float  # on the held-out split
    loss: float  # mean training loss of the last epoch
    steps: int
    seconds: float


def set_progress(model: nn.Module, fraction: float) -> None:
    """Tell the network how far training has come (0..1): compiled networks scale ScheduledDropPath
    by it through their `set_progress`; other modules are left alone."""
    hook = getattr(model, "set_progress", None)
    if callable(hook):
        hook(fraction)


def _split_logits(out) -> tuple[torch.Tensor, torch.Tensor | None]:
    if isinstance(out, (tuple, list)):
        return out[0], (out[1] if len(out) > 1 else None)
    return out, None


@torch.no_grad()
def evaluate(model: nn.Module, x: np.ndarray, y: np.ndarray, batch: int = 500) -> float:
    """Top-1 accuracy in eval mode."""
    model.eval()
    correct = 0
    for i in range(0, len(x), batch):
        logits, _ = _split_logits(model(torch.from_numpy(x[i:i + batch])))
        correct += int((logits.argmax(1) == torch.from_numpy(y[i:i + batch])).sum())
    return correct / max(len(x), 1)


def train(model: nn.Module, x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray, y_val: np.ndarray,
          config: TrainConfig = TrainConfig(), seed: int = 0,
          on_epoch: Callable[[int, float, float], None] | None = None) -> TrainResult:
    """Train `model` in place and return its held-out accuracy. Raises ChildDiverged on NaN/inf."""
    start = time.perf_counter()
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
    opt = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                          weight_decay=config.weight_decay)
    steps_per_epoch = math.ceil(len(xt) / config.batch_size)
    total = max(config.epochs * steps_per_epoch, 1)
    lossf = nn.CrossEntropyLoss()
    step, last_loss = 0, float("nan")
    for epoch in range(config.epochs):
        model.train()
        order = torch.randperm(len(xt), generator=gen)
        running, seen = 0.0, 0
        for i in range(0, len(xt), config.batch_size):
            idx = order[i:i + config.batch_size]
            for g in opt.param_groups:  # cosine schedule, per step
                g["lr"] = 0.5 * config.lr * (1 + math.cos(math.pi * step / total))
            set_progress(model, step / total)
            logits, aux = _split_logits(model(xt[idx]))
            loss = lossf(logits, yt[idx])
            if aux is not None:
                loss = loss + config.aux_weight * lossf(aux, yt[idx])
            if not torch.isfinite(loss):
                raise ChildDiverged(f"training loss is {loss.item()} at step {step} (epoch {epoch})")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if config.grad_clip > 0:
                nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            opt.step()
            running += loss.item() * len(idx)
            seen += len(idx)
            step += 1
        last_loss = running / max(seen, 1)
        if on_epoch is not None:
            on_epoch(epoch, last_loss, time.perf_counter() - start)
    acc = evaluate(model, x_val, y_val, config.eval_batch)
    return TrainResult(acc, last_loss, step, time.perf_counter() - start)
