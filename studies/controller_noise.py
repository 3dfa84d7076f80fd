"""Does a controller become certain with nothing to learn? The enas controller (ENAS's options)
fed rewards of pure noise, as many as a one-shot enas search feeds it, and its entropy printed after
each supernet epoch's worth of updates, for each controller learning rate in --lrs.

In the published-cells comparison enas's controller collapsed on three seeds of five while its
reward, the sampled child's shared-weight accuracy, stayed at chance (README). If it also collapses
here, the collapse comes from the optimizer stepping on noise, not from anything the supernet told
it. There is no target: the curves are the result (exit 0). results/controller_noise_unbounded.txt
was measured before enas had ENAS's tanh bound on its logits (ENAS_OPTIONS has it now; pass
--tanh-constant 0 to measure without it).

    python studies/controller_noise.py [--space nasnet] [--lrs 0.0035,0.00035] [--seeds 0,1,2]
        [--epochs 10] [--per-epoch 300] [--reward 0.10] [--sd 0.03] [--tanh-constant 1.1]
"""
from __future__ import annotations

import argparse
import math
import random
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from nasdsl.testing import int_list  # noqa: E402
from nasdsl_search.oneshot import OneShotConfig  # noqa: E402
from nasdsl_search.space import load_space  # noqa: E402
from nasdsl_search.strategies import StrategyOptions, make_strategy  # noqa: E402
from nasdsl_search.strategies.enas import ENAS_OPTIONS  # noqa: E402


def entropy_curve(space, lr: float, seed: int, args) -> list[float]:
    """The controller's entropy after each epoch of `per_epoch` noise rewards."""
    options = replace(StrategyOptions(), **{**ENAS_OPTIONS, "lr": lr, "tanh_constant": args.tanh_constant})
    controller = make_strategy("enas", space, seed, options)
    rng = random.Random(seed)
    curve = [controller.entropy()]
    for _ in range(args.epochs):
        for _ in range(args.per_epoch):
            decisions, meta = controller.propose()
            controller.observe(decisions, rng.gauss(args.reward, args.sd), meta)
        curve.append(controller.entropy())
    return curve


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    searched = OneShotConfig()
    ap.add_argument("--space", default="nasnet", help="the space the comparison searched (the search's default)")
    ap.add_argument("--lrs", default=f"{ENAS_OPTIONS['lr']},{StrategyOptions().lr}",
                    help="controller learning rates: ENAS's, then NASNet's (the other controllers' default)")
    ap.add_argument("--seeds", type=int_list, default="0,1,2")
    ap.add_argument("--epochs", type=int, default=searched.epochs, help="supernet epochs of an enas search")
    ap.add_argument("--per-epoch", type=int, default=searched.controller_steps * ENAS_OPTIONS["batch"],
                    help="rewards a controller takes in an epoch (controller steps x its batch)")
    ap.add_argument("--reward", type=float, default=0.10, help="mean of the noise: chance on 10 classes")
    ap.add_argument("--sd", type=float, default=0.03, help="its sd: a held-out batch's accuracy at chance")
    ap.add_argument("--tanh-constant", type=float, default=ENAS_OPTIONS["tanh_constant"],
                    help="ENAS's bound on the logits (0: none, as before 2026-12-06)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    space = load_space(args.space)
    print(f"enas controller (tanh constant {args.tanh_constant:g}) on the {args.space} space, "
          f"rewards ~ N({args.reward}, {args.sd}), "
          f"{args.per_epoch} an epoch; entropy at the start and after each epoch:")
    unmeasured = []
    for lr in (float(x) for x in args.lrs.split(",")):
        for seed in args.seeds:
            curve = entropy_curve(space, lr, seed, args)
            print(f"  lr {lr:g} seed {seed}: " + " ".join(f"{h:.0f}" for h in curve)
                  + f"  (lowest {min(curve):.0f}, {min(curve) / curve[0]:.0%} of the start)", flush=True)
            if not all(map(math.isfinite, curve)):  # a diverged controller: its entropy is not a measurement
                unmeasured.append(f"lr {lr:g} seed {seed}")
    if unmeasured:
        print(f"FAILED: the entropy is not finite for {', '.join(unmeasured)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
