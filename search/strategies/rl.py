"""The NASNet controller: a one-layer LSTM that emits the decisions one softmax at a time, trained
with PPO (NASNet, 2018) or REINFORCE (NAS, 2017) against a moving-average reward baseline."""
from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

from ..space import Space
from .base import Strategy, StrategyOptions


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """The controller's ops are tiny: one intra-op thread is several times faster than many."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class Controller(nn.Module):
    """LSTM over the decision sequence. Step t reads the embedding of decision t-1's choice (a
    learned start vector at t=0) and a per-decision linear head gives decision t's logits."""

    def __init__(self, sizes: tuple[int, ...], units: int = 100, init_range: float = 0.1,
                 bounds: tuple[float, ...] | None = None):
        super().__init__()
        self.sizes = tuple(sizes)
        self.bounds = tuple(bounds) if bounds else (0.0,) * len(self.sizes)  # per decision: B * tanh(logits); 0: none
        self.lstm = nn.LSTMCell(units, units)
        self.start = nn.Parameter(torch.zeros(1, units))
        self.embed = nn.ModuleList(nn.Embedding(n, units) for n in self.sizes)
        self.heads = nn.ModuleList(nn.Linear(units, n) for n in self.sizes)
        for p in self.parameters():
            nn.init.uniform_(p, -init_range, init_range)

    def forward(self, batch: int, actions: torch.Tensor | None = None,
                generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Sample `batch` sequences (actions None) or score the given ones ([batch, T] long).
        Returns (actions [batch, T], summed log-prob [batch], summed entropy [batch])."""
        x = self.start.expand(batch, -1)
        h = c = torch.zeros(batch, self.lstm.hidden_size)
        out, logp, ent = [], torch.zeros(batch), torch.zeros(batch)
        for t in range(len(self.sizes)):
            h, c = self.lstm(x, (h, c))
            logits = self.heads[t](h)
            if self.bounds[t]:  # ENAS: how sure the controller can get is bounded, against early collapse
                logits = self.bounds[t] * torch.tanh(logits)
            log_probs = torch.log_softmax(logits, dim=-1)
            if actions is None:
                a = torch.multinomial(log_probs.exp(), 1, generator=generator).squeeze(1)
            else:
                a = actions[:, t]
            logp = logp + log_probs.gather(1, a[:, None]).squeeze(1)
            ent = ent - (log_probs.exp() * log_probs).sum(-1)
            out.append(a)
            x = self.embed[t](a)
        return torch.stack(out, 1), logp, ent


def logit_bounds(space: Space, options: StrategyOptions) -> tuple[float, ...]:
    """Each decision's bound on its logits (ENAS's tanh constant; an op's divided by op_tanh_reduce)."""
    c = options.tanh_constant
    return tuple(c if d.kind == "input" else c / options.op_tanh_reduce for d in space.decisions)


class _PolicyGradient(Strategy):
    """Shared machinery: sampling, the minibatch buffer, the baseline, saving and loading."""

    def __init__(self, space: Space, seed: int, options: StrategyOptions):
        super().__init__(space, seed, options)
        torch.manual_seed(seed)  # parameter init
        self.controller = Controller(space.sizes, options.units, options.init_range, logit_bounds(space, options))
        self.optimizer = torch.optim.Adam(self.controller.parameters(), lr=options.lr)
        self.generator = torch.Generator().manual_seed(seed)
        self.baseline: float | None = None
        self.buffer: list[tuple[list[int], float, float]] = []  # decisions, reward, old log-prob
        self._weights: bytes | None = None  # serialized controller + optimizer, until the next update

    def propose(self) -> tuple[tuple[int, ...], dict[str, Any]]:
        with torch.no_grad(), one_thread():
            actions, logp, _ = self.controller(1, generator=self.generator)
        return tuple(int(a) for a in actions[0]), {"logp": float(logp[0])}

    def _observe(self, decisions: tuple[int, ...], reward: float, meta: dict[str, Any]) -> dict | None:
        old = meta.get("logp")
        if old is None:  # proposed elsewhere: score under the current policy
            with torch.no_grad():
                old = float(self.controller(1, torch.tensor([list(decisions)]))[1][0])
        self.buffer.append((list(decisions), reward, float(old)))
        if len(self.buffer) < self.options.batch:
            return None
        with one_thread():
            info = self._update()
        self._weights = None
        self.buffer = []
        self.updates += 1
        return info

    def _advantages(self, rewards: torch.Tensor) -> torch.Tensor:
        """Reward minus the moving-average baseline; the baseline then moves towards each reward."""
        adv = []
        for r in rewards.tolist():
            if self.baseline is None:
                self.baseline = r
            adv.append(r - self.baseline)
            d = self.options.baseline_decay
            self.baseline = d * self.baseline + (1 - d) * r
        return torch.tensor(adv)

    def _update(self) -> dict[str, Any]:
        raise NotImplementedError

    def _state(self) -> dict[str, Any]:
        if self._weights is None:
            buf = io.BytesIO()
            torch.save({"controller": self.controller.state_dict(), "optimizer": self.optimizer.state_dict()}, buf)
            self._weights = buf.getvalue()
        return {"weights": self._weights, "generator": self.generator.get_state(),
                "baseline": self.baseline, "buffer": [list(x) for x in self.buffer]}

    def _load(self, state: dict[str, Any]) -> None:
        w = torch.load(io.BytesIO(state["weights"]), weights_only=True)
        self.controller.load_state_dict(w["controller"])
        self.optimizer.load_state_dict(w["optimizer"])
        self._weights = bytes(state["weights"])
        self.generator.set_state(state["generator"])
        self.baseline = state["baseline"]
        self.buffer = [(list(d), float(r), float(lp)) for d, r, lp in state["buffer"]]

    def _batch(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        actions = torch.tensor([d for d, _, _ in self.buffer], dtype=torch.long)
        rewards = torch.tensor([r for _, r, _ in self.buffer], dtype=torch.float32)
        old_logp = torch.tensor([lp for _, _, lp in self.buffer], dtype=torch.float32)
        return actions, rewards, old_logp


class Reinforce(_PolicyGradient):
    """NAS (Zoph & Le, 2017): one gradient step of -(R - b) log p per minibatch."""

    name = "reinforce"

    def _update(self) -> dict[str, Any]:
        actions, rewards, _ = self._batch()
        adv = self._advantages(rewards)
        _, logp, ent = self.controller(len(actions), actions)
        loss = -(adv * logp).mean() - self.options.entropy_weight * ent.mean()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return {"loss": loss.item(), "baseline": self.baseline, "mean_reward": float(rewards.mean())}


class PPO(_PolicyGradient):
    """NASNet (Zoph et al., 2018): the clipped surrogate objective, `ppo_epochs` steps per minibatch,
    the ratio taken against the policy that sampled each architecture."""

    name = "ppo"

    def _update(self) -> dict[str, Any]:
        actions, rewards, old_logp = self._batch()
        adv = self._advantages(rewards)
        clip = self.options.ppo_clip
        loss = torch.zeros(())
        for _ in range(self.options.ppo_epochs):
            _, logp, ent = self.controller(len(actions), actions)
            ratio = torch.exp(logp - old_logp)
            surrogate = torch.minimum(ratio * adv, torch.clamp(ratio, 1 - clip, 1 + clip) * adv)
            loss = -surrogate.mean() - self.options.entropy_weight * ent.mean()
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
        return {"loss": loss.item(), "baseline": self.baseline, "mean_reward": float(rewards.mean())}
