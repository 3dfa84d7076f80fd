"""The strategy registry: name -> class. A strategy proposes decisions and learns from rewards."""
from __future__ import annotations

from nasdsl.errors import NasError
from nasdsl.ops import suggest

from ..space import Space
from .base import Strategy, StrategyOptions
from .evolution import RegularizedEvolution
from .random_search import RandomSearch
from .rl import PPO, Reinforce

STRATEGIES: dict[str, type[Strategy]] = {
    "ppo": PPO,
    "reinforce": Reinforce,
    "random": RandomSearch,
    "evolution": RegularizedEvolution,
}


def make_strategy(name: str, space: Space, seed: int, options: StrategyOptions | None = None) -> Strategy:
    """A fresh strategy by name (NasError lists the known ones)."""
    if name not in STRATEGIES:
        hint = suggest(name, STRATEGIES)
        raise NasError(f"unknown strategy {name!r}; known: {', '.join(STRATEGIES)}" + (f"; {hint}" if hint else ""))
    return STRATEGIES[name](space, seed, options or StrategyOptions())


__all__ = ["STRATEGIES", "Strategy", "StrategyOptions", "make_strategy"]
