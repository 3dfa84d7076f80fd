"""Strategies side by side on real child training: ppo, reinforce, random and evolution, each given
the same number of trials on the same data set, over several seeds.

Prints, per strategy, the best reward and the top-5 mean reward of each seed, and their mean and
standard deviation over seeds; also how many trials failed and the best reward after each quarter
of the budget (so a slow starter is visible). Every run is a normal run folder under --out
(trials.sqlite, best.nas), resumed where it stopped when the script is started again.

    python benchmarks/compare_strategies.py [--trials 40] [--seeds 0,1,2] [--workers 2]
        [--controller-batch 10] [--out runs/compare] [--dataset digits]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from search.driver import Search, SearchConfig  # noqa: E402
from search.strategies import StrategyOptions  # noqa: E402

STRATEGIES = ("ppo", "reinforce", "random", "evolution")


def run_one(folder: Path, cfg: SearchConfig, workers: int) -> list[dict]:
    resume = (folder / "trials.sqlite").exists()
    s = Search(folder, None if resume else cfg, resume=resume)
    s.run("local", workers=workers, progress=False)
    trials = s.store.trials()
    s.close()
    return trials


def summary(trials: list[dict]) -> dict[str, float]:
    rewards = [t["reward"] for t in sorted(trials, key=lambda t: t["id"]) if t["status"] == "done"]
    top = sorted(rewards, reverse=True)
    n = len(trials)
    ordered = sorted(trials, key=lambda t: t["id"])
    quarters = []
    for q in (1, 2, 3, 4):
        seen = [t["reward"] for t in ordered[: n * q // 4] if t["status"] == "done"]
        quarters.append(max(seen) if seen else float("nan"))
    return {"best": top[0] if top else float("nan"), "top5": statistics.fmean(top[:5]) if top else float("nan"),
            "failed": sum(t["status"] == "failed" for t in trials), "quarters": quarters}


def mean_sd(xs: list[float]) -> str:
    return f"{statistics.fmean(xs):.4f} ± {statistics.stdev(xs) if len(xs) > 1 else 0.0:.4f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=40)
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--strategies", default=",".join(STRATEGIES))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--controller-batch", type=int, default=10, help="architectures per ppo/reinforce update")
    ap.add_argument("--population", type=int, default=10, help="regularized evolution's population")
    ap.add_argument("--dataset", default="digits")
    ap.add_argument("--out", default="runs/compare")
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    options = StrategyOptions(batch=args.controller_batch, population=args.population)
    results: dict[str, list[dict]] = {}
    t0 = time.time()
    for strategy in args.strategies.split(","):
        for seed in seeds:
            cfg = SearchConfig(strategy=strategy, trials=args.trials, seed=seed, dataset=args.dataset,
                               options=options)
            folder = Path(args.out) / f"{strategy}-s{seed}"
            trials = run_one(folder, cfg, args.workers)
            results.setdefault(strategy, []).append(summary(trials))
            r = results[strategy][-1]
            print(f"  {strategy:<10} seed {seed}: best {r['best']:.4f}  top-5 {r['top5']:.4f}  "
                  f"failed {r['failed']}  ({time.time() - t0:.0f} s so far)", file=sys.stderr, flush=True)
    print(f"\n{args.trials} trials per run on {args.dataset}, seeds {args.seeds}, controller batch "
          f"{args.controller_batch}, population {args.population}; mean ± sd over seeds")
    print(f"{'strategy':<11}{'best':>18}{'top-5 mean':>18}{'failed':>8}   best after 1/4, 1/2, 3/4 of the trials")
    for strategy, rs in results.items():
        quarters = "  ".join(f"{statistics.fmean(r['quarters'][q] for r in rs):.4f}" for q in range(3))
        print(f"{strategy:<11}{mean_sd([r['best'] for r in rs]):>18}{mean_sd([r['top5'] for r in rs]):>18}"
              f"{sum(r['failed'] for r in rs):>8}   {quarters}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
