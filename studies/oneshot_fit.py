"""How well does a supernet fit when its paths share weights? Shared-weight accuracy by what is drawn.

random-ws trains one uniformly drawn child of the space per minibatch. Here the same supernet (the
default proxy, the enas space, random-ws's supernet settings and seed) is trained the same number of
steps on ever more architectures, and each is scored with the shared weights on 500 held-out
images (batch-statistics BN, as the search scores):

  1 architecture          one fixed child: what the supernet reaches without sharing
  K in turn               K fixed children, round robin (K = 4, 8, 30)
  ops drawn               the ops of every block drawn, inputs and combiners those of the first child
  inputs drawn            the inputs drawn, ops and combiners those of the first child
  everything drawn        random-ws itself

Printed per regime: the mean shared-weight accuracy of 20 of its architectures (the K fixed ones for
K < 20), their range, and the training loss of the last epoch (chance: ln 10 = 2.30). No target:
the script exits 1 only when a regime could not be measured (a non-finite loss).

    python studies/oneshot_fit.py [--supernet-epochs E] [--seed S] [--json out.json]
"""
from __future__ import annotations

import argparse
import itertools
import json
import math
import random
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace

import torch

from nasdsl_search import oneshot_store as os_store
from nasdsl_search.driver import SearchConfig
from nasdsl_search.oneshot import OneShot, OneShotConfig
from nasdsl_search.space import Space, load_space

Sampler = Callable[[], tuple[int, ...]]


def regimes(space: Space, rng: random.Random) -> dict[str, tuple[Sampler, list[tuple[int, ...]]]]:
    """name -> (the sampler training draws from, the architectures scored)."""
    def draw() -> tuple[int, ...]:
        return tuple(rng.randrange(d.choices) for d in space.decisions)

    fixed = [draw() for _ in range(30)]
    first = fixed[0]

    def drawing(kinds: set[str]) -> Sampler:
        return lambda: tuple(rng.randrange(d.choices) if d.kind in kinds else first[i]
                             for i, d in enumerate(space.decisions))

    def in_turn(archs: list[tuple[int, ...]]) -> Sampler:
        return itertools.cycle(archs).__next__

    out: dict[str, tuple[Sampler, list[tuple[int, ...]]]] = {"1 architecture": (in_turn(fixed[:1]), fixed[:1])}
    for k in (4, 8, 30):
        out[f"{k} in turn"] = (in_turn(fixed[:k]), fixed[:min(k, 20)])
    for name, kinds in (("ops drawn", {"op"}), ("inputs drawn", {"input"}), ("everything drawn", {"input", "op", "combine"})):
        sampler = drawing(kinds)
        out[name] = (sampler, [sampler() for _ in range(20)])
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--supernet-epochs", type=int, help="default: random-ws's")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", help="write the measured figures here")
    args = ap.parse_args()
    torch.set_num_threads(1)
    space = load_space("enas")
    cfg = replace(SearchConfig(), strategy="random-ws", space="enas", seed=args.seed)
    oc = OneShotConfig.for_strategy("random-ws", epochs=args.supernet_epochs)
    out: dict = {"space": "enas", "supernet_epochs": oc.epochs, "seed": args.seed, "regimes": {}}
    failed = []
    print(f"enas space, default proxy, {oc.epochs} supernet epochs, seed {args.seed}", flush=True)
    for name, (sampler, scored) in regimes(space, random.Random(args.seed + 17)).items():
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.time()
            run = OneShot(f"{tmp}/run", cfg, oc)
            try:
                run.strategy.random_decisions = sampler  # what random-ws trains on, per minibatch
                run.train_supernet()
                loss = os_store.epochs(run.store)[-1]["loss"]
                acc = [run.rank_accuracy(a) for a in scored]
            finally:
                run.close()
        if not math.isfinite(loss):
            failed.append(name)
        mean = sum(acc) / len(acc)
        out["regimes"][name] = {"mean": mean, "min": min(acc), "max": max(acc), "scored": len(acc),
                                "last_loss": loss, "seconds": time.time() - t0}
        print(f"{name:18s} shared-weight accuracy {mean:.3f} ({min(acc):.3f}-{max(acc):.3f} over {len(acc)}), "
              f"last-epoch training loss {loss:.3f}  [{time.time() - t0:.0f} s]", flush=True)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(out, f, indent=1)
    if failed:
        print(f"FAILED: no finite loss for {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
