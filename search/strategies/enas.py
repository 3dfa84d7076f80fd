"""ENAS (Pham et al., 2018): the NASNet LSTM controller (rl.py) trained with REINFORCE on the
sampled child's shared-weight accuracy on a held-out minibatch, entropy bonus, moving-average
baseline, and ENAS's tanh bound on the controller's logits. ENAS's constants (released
micro-search script) are this strategy's defaults; every one can be overridden by its flag. The
one-shot loop is search/oneshot.py."""
from __future__ import annotations

from typing import Any

import torch

from .rl import Reinforce, one_thread

# StrategyOptions fields -> ENAS's values: Adam lr 0.0035, entropy bonus 1e-4, baseline decay 0.99,
# 64 LSTM units, 10 architectures per controller step, logits bounded by 1.1 tanh (ops' by 1.1 / 2.5)
ENAS_OPTIONS: dict[str, Any] = {"lr": 0.0035, "entropy_weight": 1e-4, "baseline_decay": 0.99, "units": 64,
                                "batch": 10, "tanh_constant": 1.1, "op_tanh_reduce": 2.5}


class Enas(Reinforce):
    name = "enas"
    oneshot = True

    def entropy(self, samples: int = 8) -> float:
        """Mean summed entropy of the controller's decisions over a few samples (its certainty)."""
        g = torch.Generator().manual_seed(self.updates)
        with torch.no_grad(), one_thread():
            _, _, ent = self.controller(samples, generator=g)
        return float(ent.mean())
