"""Runtime pieces every skeleton's generated code shares: size pairs, BN folding, drop path, fusion.

Like every module of nasdsl/codegen/runtime/, this is ordinary Python (linted, imported, unit-tested) that
the code generator copies, definition by definition, into the torch-only file it writes.
"""
from __future__ import annotations

import torch
from torch import nn


def _pair(v: int | tuple[int, int]) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def fold_bn(conv: nn.Conv2d, bn: nn.BatchNorm2d, start: int = 0) -> None:
    """Fold eval-mode BN channels [start, start + conv.out_channels) into `conv` (adds a bias)."""
    stop = start + conv.out_channels
    scale = bn.weight[start:stop] / torch.sqrt(bn.running_var[start:stop] + bn.eps)
    bias = bn.bias[start:stop] - bn.running_mean[start:stop] * scale
    with torch.no_grad():
        conv.weight.mul_(scale.reshape(-1, 1, 1, 1))
        if conv.bias is None:
            conv.bias = nn.Parameter(bias.detach().clone())
        else:
            conv.bias.mul_(scale).add_(bias)


class ScheduledDropPath(nn.Module):
    """Drop a whole example's branch with probability progress * layer_ratio * (1 - keep),
    rescaling the kept ones (TF-slim: layer_ratio = cell depth; DARTS: layer_ratio 1; progress =
    step / total steps for both, where DARTS's own code moves it once an epoch). Identity in eval
    mode, so export sees nothing of it; `progress` is set by the network's `set_progress`. The draw
    is float32 whatever the activations' type (in bf16 a drop of 0.001 came out as none)."""

    def __init__(self, keep: float = 1.0, layer_ratio: float = 1.0) -> None:
        super().__init__()
        self.keep, self.layer_ratio, self.progress = keep, layer_ratio, 0.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        drop = self.progress * self.layer_ratio * (1.0 - self.keep)
        if not self.training or drop <= 0.0:
            return x
        keep = 1.0 - drop
        mask = torch.floor(keep + torch.rand(x.shape[0], 1, 1, 1, device=x.device)).to(x.dtype)
        return x / keep * mask


class Fusable(nn.Module):
    """A layer whose batch norms can be folded into its convolutions for inference (`fuse`)."""

    def fuse(self) -> None:
        raise NotImplementedError


class Lanes:
    """A second thread for the cells' h1 sides (`network.lanes()`). It runs them in the caller's
    grad and inference mode (both are per thread in torch) and with the caller's intra-op thread
    count (OpenMP keeps one per thread: a new thread would start at one per core, and its idle
    team slows the caller's parallel work); a copied or unpickled network, and a forked process
    (which does not inherit the thread), get a thread of their own. `ahead` starts a cell's h1
    side before the cell runs (the network does so one cell early: a cell's h1 is the output of
    the cell before the previous one), and the cell takes that run when it starts."""

    def __init__(self) -> None:
        import os
        from concurrent.futures import ThreadPoolExecutor

        self.pid = os.getpid()
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="nasdsl-lane")
        self.threads = 0  # the lane thread's intra-op thread count, once it has set one
        self.early: dict = {}  # cell -> (its h1 side's inputs, what gives the result), from ahead()

    def __reduce__(self):
        return Lanes, ()

    def start(self, fn, *args):
        import os

        if self.pid != os.getpid():
            self.__init__()
        grad, inference = torch.is_grad_enabled(), torch.is_inference_mode_enabled()
        threads = torch.get_num_threads()

        def call():
            if self.threads != threads:  # only the lane thread runs this
                torch.set_num_threads(threads)
                self.threads = threads
            with torch.inference_mode(inference), torch.set_grad_enabled(grad):
                return fn(*args)

        return self.pool.submit(call).result

    def ahead(self, cell: nn.Module, *args) -> None:
        self.early[cell] = (args, self.start(cell.h1_side, *args))

    def take(self, cell: nn.Module, *args):
        """The run ahead() started for this cell on these very inputs, else one started now."""
        early = self.early.pop(cell, None)
        if early is not None and len(early[0]) == len(args) and all(a is b for a, b in zip(early[0], args)):
            return early[1]
        return self.start(cell.h1_side, *args)


class LaneCell(nn.Module):
    """A cell whose h1 side can run on a second thread (the lanes pass; `network.lanes()`)."""

    lanes: Lanes | None = None

    def ahead(self, *args) -> None:
        """With lanes on, start the h1 side on the lane now, before the cell runs."""
        if self.lanes is not None:
            self.lanes.ahead(self, *args)

    def start_h1_side(self, *args):
        """What gives the h1 side's result: on the lane (started by ahead() or now), else run here."""
        if self.lanes is not None:
            return self.lanes.take(self, *args)
        out = self.h1_side(*args)
        return lambda: out
