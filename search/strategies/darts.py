"""DARTS (Liu et al., 2019), first order: architecture logits per edge (block, input state) and op,
trained with Adam (lr 3e-4, betas (0.5, 0.999), weight decay 1e-3) on one half of the training split
while the supernet's weights train on the other half (search/oneshot.py; with --arch-warmup the
first epochs train the weights alone, as PC-DARTS does). The discrete cell: per block the two
strongest incoming edges, each edge's strongest op, `none` excluded from both."""
from __future__ import annotations

import io
from typing import Any

import torch

from nasdsl.errors import NasError

from ..space import CELL_KINDS, Space
from .base import Strategy, StrategyOptions


def check_space(space: Space) -> None:
    """DARTS needs one weight per (edge, op): a space whose blocks add two branches and whose
    cells concatenate every block."""
    if space.output != "blocks" or tuple(space.combine) != ("add",) or space.inputs != 2:
        raise NasError(f"--strategy darts: space {space.name!r} must have inputs = 2, combine = add and "
                       f"output = blocks (the darts space does)")


def derive(space: Space, alphas: dict[str, list[torch.Tensor]]) -> tuple[int, ...]:
    """The decision vector of the discrete cells: per block the top-2 incoming edges by their strongest
    non-`none` op weight, each with that op; the combiner `add`."""
    none = space.ops.index("none") if "none" in space.ops else None
    out: list[int] = []
    for kind in CELL_KINDS:
        for b in range(space.blocks):
            w = torch.softmax(alphas[kind][b].detach().float(), dim=-1).clone()
            if none is not None:
                w[:, none] = -1.0
            best, ops = w.max(dim=-1)
            edges = sorted(torch.argsort(best, descending=True)[:2].tolist())
            out += edges + [int(ops[e]) for e in edges] + [space.combine.index("add")]
    return tuple(out)


class Darts(Strategy):
    name = "darts"
    oneshot = True

    def __init__(self, space: Space, seed: int, options: StrategyOptions, lr: float = 3e-4,
                 weight_decay: float = 1e-3):
        super().__init__(space, seed, options)
        g = torch.Generator().manual_seed(seed)
        # DARTS initialises every logit at 1e-3 * N(0, 1)
        self.alphas = {kind: [torch.nn.Parameter(1e-3 * torch.randn(2 + b, len(space.ops), generator=g))
                              for b in range(space.blocks)] for kind in CELL_KINDS}
        self.optimizer = torch.optim.Adam(self.parameters(), lr=lr, betas=(0.5, 0.999), weight_decay=weight_decay)

    def parameters(self) -> list[torch.nn.Parameter]:
        return [a for kind in CELL_KINDS for a in self.alphas[kind]]

    def propose(self) -> tuple[tuple[int, ...], dict[str, Any]]:
        return derive(self.space, self.alphas), {}

    def _observe(self, decisions, reward, meta):
        return None

    def weights(self) -> dict[str, list[list[list[float]]]]:
        """softmax(alpha) per cell kind, block, input state, op (for the report's curves)."""
        return {k: [torch.softmax(a.detach(), -1).tolist() for a in self.alphas[k]] for k in CELL_KINDS}

    def _state(self) -> dict[str, Any]:
        buf = io.BytesIO()
        torch.save({"alphas": [a.detach() for a in self.parameters()], "optimizer": self.optimizer.state_dict()}, buf)
        return {"weights": buf.getvalue()}

    def _load(self, state: dict[str, Any]) -> None:
        w = torch.load(io.BytesIO(state["weights"]), weights_only=True)
        with torch.no_grad():
            for a, saved in zip(self.parameters(), w["alphas"], strict=True):
                a.copy_(saved)
        self.optimizer.load_state_dict(w["optimizer"])
