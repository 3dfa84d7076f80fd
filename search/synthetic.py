"""A cheap synthetic reward over cells, for testing strategies without training anything.

A hidden target architecture is drawn from `seed`; the reward is the fraction of decisions that
match it, so 1.0 is reachable and random search averages about 1 / (mean choices per decision).
"""
from __future__ import annotations

import random

from .space import Space


def target(space: Space, seed: int) -> tuple[int, ...]:
    """The hidden architecture for `seed`."""
    rng = random.Random(f"synthetic-{seed}")
    return tuple(rng.randrange(n) for n in space.sizes)


def match_fraction(decisions, target_decisions) -> float:
    """Fraction of positions where the two decision lists agree."""
    return sum(int(a == b) for a, b in zip(decisions, target_decisions)) / len(target_decisions)


def synthetic_reward(space: Space, decisions: tuple[int, ...], seed: int = 0) -> float:
    """Fraction of `decisions` equal to the hidden target's."""
    return match_fraction(decisions, target(space, seed))
