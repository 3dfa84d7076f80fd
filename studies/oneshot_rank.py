"""Can the supernet be trusted? Kendall tau between shared-weight and stand-alone accuracy.

For each strategy: train its supernet (random-ws and enas on the `enas` space, darts on `darts`),
score N random architectures of the space with the shared weights (the supernet with that discrete
architecture selected; held-out images, batch-stat BN; darts: its mixture-trained weights), train the
same N stand-alone exactly as `nasdsl search` trains a child (`trial_payload` of the search's default
config: the default proxy, 300 digits to train on, 1497 held out, each child trained twice), and
report Kendall's tau-b between the two rankings. Yu et al. (ICLR 2020) measured about 0; there is no
target, so the script fails only if it cannot measure (fewer than N stand-alone children finished).
With --retrain the same N are trained stand-alone a second time with other seeds: the tau between
the two stand-alone rankings is how far one training's ranking can be trusted, the reference for
the shared-weight tau (a ranking that knew each cell's expected reward would agree with one
training about as well as, or better than, a second training does).

    python studies/oneshot_rank.py --archs 30 [--supernet-epochs E] [--strategies random-ws,enas,darts] [--retrain] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import math
import random
import sys
import tempfile
import time
from dataclasses import replace

from nasdsl_search.driver import SearchConfig
from nasdsl_search.oneshot import OneShot, OneShotConfig, enas_defaults
from nasdsl_search.rewards import canonical, kendall_tau
from nasdsl_search.space import load_space, to_nas
from nasdsl_search.trial import run_trial, trial_payload

SPACES = {"random-ws": "enas", "enas": "enas", "darts": "darts"}  # strategy -> the space it is measured on
RETRAIN_SEEDS = 100_000  # --retrain's children train with seed + this: none of the first training's seeds


def _span(values: list[float | None]) -> str:
    done = [v for v in values if v is not None]
    return f"{min(done):.3f}-{max(done):.3f} ({len(set(map(canonical, done)))} distinct)" if done else "none finished"


def _tau(x: list[float | None], y: list[float | None]) -> tuple[float, float, int]:
    """Kendall tau-b and its p-value over the pairs where both were measured, and how many."""
    pairs = [(a, b) for a, b in zip(x, y) if a is not None and b is not None]
    tau, p_value = kendall_tau([p[0] for p in pairs], [p[1] for p in pairs])
    return tau, p_value, len(pairs)


def _standalone(cfg: SearchConfig, space, proxy, archs: list[tuple[int, ...]], seed0: int,
                threads: int) -> list[float | None]:
    """Each architecture trained stand-alone as the search trains a child; None where it failed."""
    rewards = []
    for i, a in enumerate(archs):
        child = {"id": i + 1, "nas": to_nas(space, a, proxy), "decisions": list(a), "seed": seed0 + i}
        r = run_trial(trial_payload(cfg, child, threads))
        if r["status"] != "done":
            print(f"child {i + 1} failed: {r['error'].splitlines()[0]}", flush=True)
        rewards.append(r["reward"])
    return rewards


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    base = SearchConfig()  # the default proxy, as `nasdsl search` trains a child
    ap.add_argument("--archs", type=int, default=20)
    ap.add_argument("--strategies", default=",".join(SPACES), help="comma-separated, of " + ", ".join(SPACES))
    ap.add_argument("--supernet-epochs", type=int, help="default: the strategy's, as `nasdsl search` uses")
    ap.add_argument("--controller-steps", type=int, default=5)
    ap.add_argument("--child-epochs", type=int, default=base.train.epochs)
    ap.add_argument("--dataset", help="another data set than the default proxy's (with its own split)")
    ap.add_argument("--filters", type=int, default=base.proxy.filters)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--retrain", action="store_true",
                    help="train the architectures stand-alone a second time (other seeds) and report that tau too")
    ap.add_argument("--json", help="write the measured figures here")
    args = ap.parse_args()
    strategies = args.strategies.split(",")
    unknown = [s for s in strategies if s not in SPACES]
    if unknown:
        ap.error(f"unknown strategies {', '.join(unknown)}; known: {', '.join(SPACES)}")
    if args.dataset:
        base = replace(base, dataset=args.dataset, val_size=None)
    base = replace(base, seed=args.seed, proxy=replace(base.proxy, filters=args.filters),
                   train=replace(base.train, epochs=args.child_epochs))
    standalone: dict[str, list[float | None]] = {}
    out = {"archs": args.archs, "child_epochs": args.child_epochs,
           "repeats": base.repeats, "dataset": base.dataset, "val_size": base.val_size, "strategies": {}}
    for strategy in strategies:
        space_name = SPACES[strategy]
        space = load_space(space_name)
        rng = random.Random(args.seed + 17)
        archs = [tuple(rng.randrange(k) for k in space.sizes) for _ in range(args.archs)]
        cfg = replace(base, strategy=strategy, space=space_name)
        if strategy == "enas":
            cfg = enas_defaults(cfg, set())
        oc = OneShotConfig.for_strategy(strategy, epochs=args.supernet_epochs, controller_steps=args.controller_steps,
                                        threads=args.threads)
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.time()
            run = OneShot(f"{tmp}/run", cfg, oc)
            run.train_supernet()
            supernet_s = time.time() - t0
            shared = [run.rank_accuracy(a) for a in archs]
            proxy = run.proxy
            run.close()
        if space_name not in standalone:  # the same architectures serve every strategy on that space
            t0 = time.time()
            standalone[space_name] = _standalone(cfg, space, proxy, archs, args.seed, args.threads)
            seconds = time.time() - t0
            out.setdefault("standalone_seconds", {})[space_name] = seconds
            print(f"{space_name:6s} {len(archs)} stand-alone children in {seconds:.0f} s ({seconds / len(archs):.1f} s "
                  f"each: {base.repeats} trainings of {args.child_epochs} epochs)", flush=True)
            if args.retrain:
                again = _standalone(cfg, space, proxy, archs, args.seed + RETRAIN_SEEDS, args.threads)
                tau, p_value, n = _tau(standalone[space_name], again)
                out.setdefault("retrained", {})[space_name] = {"standalone": again, "tau": tau, "p": p_value, "pairs": n}
                print(f"{space_name:6s} stand-alone against stand-alone again (other seeds): Kendall tau {tau:+.3f} "
                      f"(p {p_value:.3f}) over {n} architectures; again {_span(again)}", flush=True)
        tau, p_value, n = _tau(shared, standalone[space_name])
        out["strategies"][strategy] = {"space": space_name, "supernet_epochs": oc.epochs, "tau": tau, "p": p_value, "pairs": n,
                                       "supernet_seconds": supernet_s, "shared": shared, "standalone": standalone[space_name],
                                       "archs": [list(a) for a in archs]}
        against_again = ""
        if args.retrain:
            tau2, p2, _ = _tau(shared, out["retrained"][space_name]["standalone"])
            out["strategies"][strategy].update(tau_retrained=tau2, p_retrained=p2)
            against_again = f"; {tau2:+.3f} (p {p2:.3f}) against the second training"
        print(f"{strategy:10s} space {space_name:6s} supernet {oc.epochs} epochs {supernet_s:6.1f} s  Kendall tau {tau:+.3f} (p {p_value:.3f}) over "
              f"{n} architectures (Yu et al. 2020: about 0){against_again}; shared {min(shared):.3f}-{max(shared):.3f} "
              f"({len(set(shared))} distinct), stand-alone {_span(standalone[space_name])}", flush=True)
        if args.json:  # after every strategy, so a cut-short run keeps what it measured
            with open(args.json, "w") as f:
                json.dump(out, f, indent=1)
    short = [s for s, v in out["strategies"].items() if v["pairs"] < args.archs]
    if short:
        print(f"FAILED: fewer than {args.archs} stand-alone children finished for {', '.join(short)}")
    # tau is undefined (nan) where one side scores every architecture the same, e.g. a collapsed supernet
    undefined = [s for s, v in out["strategies"].items()
                 if not all(math.isfinite(v.get(k, 0.0)) for k in ("tau", "tau_retrained"))]
    if undefined:
        print(f"FAILED: Kendall tau is undefined (one side scores every architecture the same) for "
              f"{', '.join(undefined)}")
    return 1 if short or undefined else 0


if __name__ == "__main__":
    sys.exit(main())
