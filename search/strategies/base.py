"""What every search strategy offers the driver: propose, observe, and a state to save and restore."""
from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from typing import Any

from ..space import Space


@dataclass(frozen=True)
class StrategyOptions:
    """Every strategy knob, with the NASNet paper's values where it gives them."""

    lr: float = 0.00035  # controller learning rate (Adam)
    entropy_weight: float = 1e-5
    baseline_decay: float = 0.95  # exponential moving average of the reward
    batch: int = 20  # architectures per controller update
    units: int = 100  # LSTM hidden units
    init_range: float = 0.1  # weights uniform(-init_range, init_range)
    # ENAS's bound on the controller's logits, C * tanh(logits): C for an input choice, C / op_tanh_reduce
    # for an op or combiner choice. 0: unbounded (NASNet's controller; no published code says otherwise)
    tanh_constant: float = 0.0
    op_tanh_reduce: float = 1.0
    ppo_epochs: int = 4  # gradient steps per minibatch (PPO)
    ppo_clip: float = 0.2
    population: int = 20  # regularized evolution
    sample_size: int = 5
    failed_reward: float = 0.0  # the reward a failed or over-budget child gives ppo and reinforce

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Strategy:
    """Base class. `propose` may be called several times before the matching `observe`s arrive
    (asynchronous workers); `meta` travels with a proposal and comes back to `observe`."""

    name = ""
    # False: a failed child is counted, not learned from (no --failed-reward), and a proposal over
    # budget is not stored at all: the driver calls `propose` again, so it must keep nothing but its rng
    learns_from_failures = True

    def __init__(self, space: Space, seed: int, options: StrategyOptions):
        self.space = space
        self.seed = seed
        self.options = options
        self.rng = random.Random(seed)
        self.observed = 0
        self.updates = 0

    def propose(self) -> tuple[tuple[int, ...], dict[str, Any]]:
        """The next architecture's decisions and data to hand back to `observe`."""
        raise NotImplementedError

    def observe(self, decisions: tuple[int, ...], reward: float | None, meta: dict[str, Any]) -> dict | None:
        """Learn from one finished child (reward None = failed: the strategy takes `failed_reward`
        for it, unless it does not learn from failures). Returns update info when the strategy's
        model changed (a controller step, a population change), else None.

        Under early stopping (`--scheduler asha`) each trial is observed exactly once, when it is
        over: it finished the top rung, failed, or can never be promoted again; its reward is then
        its held-out accuracy at the highest rung it reached (the trial's stored reward). The RL
        baselines and buffers and evolution's population all take that same number."""
        self.observed += 1
        if reward is None:
            if not self.learns_from_failures:
                return None
            reward = self.options.failed_reward
        return self._observe(decisions, float(reward), meta)

    def _observe(self, decisions: tuple[int, ...], reward: float, meta: dict[str, Any]) -> dict | None:
        raise NotImplementedError

    def random_decisions(self) -> tuple[int, ...]:
        return tuple(self.rng.randrange(n) for n in self.space.sizes)

    # -- state: plain python values and tensors, saved with torch.save(weights_only-loadable)
    def state_dict(self) -> dict[str, Any]:
        return {"name": self.name, "observed": self.observed, "updates": self.updates,
                "rng": _rng_to_list(self.rng.getstate()), **self._state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("name") != self.name:
            raise ValueError(f"saved state is for strategy {state.get('name')!r}, not {self.name!r}")
        self.observed = int(state["observed"])
        self.updates = int(state["updates"])
        self.rng.setstate(_rng_from_list(state["rng"]))
        self._load(state)

    def _state(self) -> dict[str, Any]:
        return {}

    def _load(self, state: dict[str, Any]) -> None:
        pass


def _rng_to_list(state: tuple) -> list:
    version, internal, gauss = state
    return [version, list(internal), gauss]


def _rng_from_list(state: list) -> tuple:
    version, internal, gauss = state
    return (version, tuple(internal), gauss)
