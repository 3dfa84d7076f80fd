"""Regularized (aging) evolution, Real et al. 2019: tournament selection (with replacement, as its
Algorithm 1), one-decision mutation, the oldest member dies. Only trained children join the
population: a crashed one would age out a trained member with a made-up reward. A proposal over
budget is drawn again by the driver (a mutation of a parent near `--max-params` often goes over
it), so the trials go to trainable cells."""
from __future__ import annotations

from typing import Any

from .base import Strategy


class RegularizedEvolution(Strategy):
    name = "evolution"
    learns_from_failures = False

    def __init__(self, space, seed, options):
        super().__init__(space, seed, options)
        self.population: list[tuple[tuple[int, ...], float]] = []  # oldest first

    def propose(self) -> tuple[tuple[int, ...], dict[str, Any]]:
        if len(self.population) < self.options.population:
            return self.random_decisions(), {"parent": None}
        # S members drawn with replacement (Real et al.'s Algorithm 1: RandomElement, S times)
        sample = self.rng.choices(range(len(self.population)), k=self.options.sample_size)
        parent_idx = max(sample, key=lambda i: self.population[i][1])
        return self.mutate(self.population[parent_idx][0]), {"parent": list(self.population[parent_idx][0])}

    def mutate(self, decisions: tuple[int, ...]) -> tuple[int, ...]:
        """Change one decision that has more than one choice to another value."""
        sizes = self.space.sizes
        free = [i for i, n in enumerate(sizes) if n > 1]
        i = self.rng.choice(free)
        new = self.rng.randrange(sizes[i] - 1)
        child = list(decisions)
        child[i] = new if new < decisions[i] else new + 1
        return tuple(child)

    def _observe(self, decisions: tuple[int, ...], reward: float, meta: dict[str, Any]) -> dict | None:
        self.population.append((tuple(decisions), reward))
        if len(self.population) > self.options.population:
            self.population.pop(0)
        self.updates += 1
        best = max(r for _, r in self.population)
        return {"population": len(self.population), "best_in_population": best}

    def _state(self) -> dict[str, Any]:
        return {"population": [[list(d), r] for d, r in self.population]}

    def _load(self, state: dict[str, Any]) -> None:
        self.population = [(tuple(d), float(r)) for d, r in state["population"]]
