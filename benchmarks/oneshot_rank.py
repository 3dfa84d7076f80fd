"""Can the supernet be trusted? Kendall tau between shared-weight and stand-alone accuracy.

For each strategy: train its supernet (random-ws and enas on the `enas` space, darts on `darts`),
score N random architectures of the space with the shared weights (held-out images, batch-stat BN),
train the same N stand-alone as ordinary trials (`run_trial`, the multi-trial proxy and recipe), and
report Kendall's tau-b between the two rankings. Yu et al. (ICLR 2020) measured about 0; there is no
target, so the script fails only if it cannot measure (fewer than N stand-alone children finished).

    python benchmarks/oneshot_rank.py --archs 20 --supernet-epochs 10 [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from dataclasses import replace

from nasdsl_search.driver import SearchConfig
from nasdsl_search.oneshot import OneShot, OneShotConfig, enas_defaults
from nasdsl_search.space import ProxyNet, load_space, to_nas
from nasdsl_search.trainer import TrainConfig
from nasdsl_search.trial import run_trial


def kendall_tau(a: list[float], b: list[float]) -> float:
    """Kendall's tau-b (ties in either list counted as neither concordant nor discordant)."""
    n, conc, disc, ta, tb = len(a), 0, 0, 0, 0
    for i in range(n):
        for j in range(i + 1, n):
            da, db = a[i] - a[j], b[i] - b[j]
            if da == 0 and db == 0:
                continue
            if da == 0:
                ta += 1
            elif db == 0:
                tb += 1
            elif (da > 0) == (db > 0):
                conc += 1
            else:
                disc += 1
    denom = ((conc + disc + ta) * (conc + disc + tb)) ** 0.5
    return (conc - disc) / denom if denom else float("nan")


def _span(values: list[float | None]) -> str:
    done = [v for v in values if v is not None]
    return f"{min(done):.3f}-{max(done):.3f} ({len(set(done))} distinct)" if done else "none finished"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--archs", type=int, default=20)
    ap.add_argument("--strategies", default="random-ws,enas,darts")
    ap.add_argument("--supernet-epochs", type=int, default=10)
    ap.add_argument("--controller-steps", type=int, default=5)
    ap.add_argument("--child-epochs", type=int, default=TrainConfig().epochs)
    ap.add_argument("--dataset", default="digits")
    ap.add_argument("--filters", type=int, default=ProxyNet().filters)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", help="write the measured figures here")
    args = ap.parse_args()
    spaces = {"random-ws": "enas", "enas": "enas", "darts": "darts"}
    standalone: dict[str, list[float | None]] = {}
    out = {"archs": args.archs, "supernet_epochs": args.supernet_epochs, "child_epochs": args.child_epochs,
           "dataset": args.dataset, "strategies": {}}
    for strategy in args.strategies.split(","):
        space_name = spaces[strategy]
        space = load_space(space_name)
        rng = random.Random(args.seed + 17)
        archs = [tuple(rng.randrange(k) for k in space.sizes) for _ in range(args.archs)]
        cfg = SearchConfig(strategy=strategy, space=space_name, seed=args.seed, dataset=args.dataset,
                           proxy=ProxyNet(filters=args.filters), train=replace(TrainConfig(), epochs=args.child_epochs))
        if strategy == "enas":
            cfg = enas_defaults(cfg, set())
        oc = OneShotConfig(epochs=args.supernet_epochs, controller_steps=args.controller_steps, threads=args.threads,
                           lr=0.025 if strategy == "darts" else OneShotConfig().lr)
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.time()
            run = OneShot(f"{tmp}/run", cfg, oc)
            run.train_supernet()
            supernet_s = time.time() - t0
            n = min(oc.eval_images, len(run.v_y))
            shared = [run.shared_accuracy(a, run.v_x[:n], run.v_y[:n]) for a in archs]
            proxy = run.proxy
            run.close()
        if space_name not in standalone:  # the same architectures serve every strategy on that space
            t0 = time.time()
            rewards = []
            for i, a in enumerate(archs):
                r = run_trial({"trial": i + 1, "nas": to_nas(space, a, proxy), "network": "proxy", "seed": args.seed + i,
                               "reward": "accuracy", "dataset": args.dataset, "train": cfg.train.to_dict(),
                               "threads": args.threads})
                rewards.append(r["reward"])
            standalone[space_name] = rewards
            out.setdefault("standalone_seconds", {})[space_name] = time.time() - t0
        pairs = [(s, r) for s, r in zip(shared, standalone[space_name]) if r is not None]
        tau = kendall_tau([p[0] for p in pairs], [p[1] for p in pairs])
        out["strategies"][strategy] = {"space": space_name, "tau": tau, "pairs": len(pairs), "supernet_seconds": supernet_s,
                                       "shared": shared, "standalone": standalone[space_name],
                                       "archs": [list(a) for a in archs]}
        print(f"{strategy:10s} space {space_name:6s} supernet {supernet_s:7.1f} s  Kendall tau {tau:+.3f} over "
              f"{len(pairs)} architectures (Yu et al. 2020: about 0); shared {min(shared):.3f}-{max(shared):.3f} "
              f"({len(set(shared))} distinct), stand-alone {_span(standalone[space_name])}", flush=True)
        if args.json:  # after every strategy, so a cut-short run keeps what it measured
            with open(args.json, "w") as f:
                json.dump(out, f, indent=1)
    short = [s for s, v in out["strategies"].items() if v["pairs"] < args.archs]
    if short:
        print(f"FAILED: fewer than {args.archs} stand-alone children finished for {', '.join(short)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
