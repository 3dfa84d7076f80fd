"""The strategy registry: name -> class. A strategy proposes decisions and learns from rewards."""
from __future__ import annotations

from nasdsl.errors import NasError
from nasdsl.lang.ops import suggest

from ..space import Space
from .base import Strategy, StrategyOptions
from .darts import Darts
from .enas import Enas
from .evolution import RegularizedEvolution
from .random_search import RandomSearch
from .random_ws import RandomWS
from .rl import PPO, Reinforce

STRATEGIES: dict[str, type[Strategy]] = {
    "ppo": PPO,
    "reinforce": Reinforce,
    "random": RandomSearch,
    "evolution": RegularizedEvolution,
    # one-shot (weight sharing): `oneshot = True`, run by search/oneshot.py, not the multi-trial loop
    "random-ws": RandomWS,
    "enas": Enas,
    "darts": Darts,
}


def make_strategy(name: str, space: Space, seed: int, options: StrategyOptions | None = None) -> Strategy:
    """A fresh strategy by name (NasError lists the known ones)."""
    if name not in STRATEGIES:
        hint = suggest(name, STRATEGIES)
        raise NasError(f"unknown strategy {name!r}; known: {', '.join(STRATEGIES)}" + (f"; {hint}" if hint else ""))
    return STRATEGIES[name](space, seed, options or StrategyOptions())


__all__ = ["STRATEGIES", "Strategy", "StrategyOptions", "make_strategy"]
