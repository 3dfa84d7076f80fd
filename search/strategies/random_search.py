"""Random search, the paper's baseline: every decision uniform."""
from __future__ import annotations

from typing import Any

from .base import Strategy


class RandomSearch(Strategy):
    name = "random"
    learns_from_failures = False  # it learns from nothing

    def propose(self) -> tuple[tuple[int, ...], dict[str, Any]]:
        return self.random_decisions(), {}

    def _observe(self, decisions: tuple[int, ...], reward: float, meta: dict[str, Any]) -> dict | None:
        return None
