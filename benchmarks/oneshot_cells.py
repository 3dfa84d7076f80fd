"""Given a tenth of multi-trial random search's time, does a one-shot search find as good a cell?

`oneshot_cost.py` asks a pick's reward to reach R*, the multi-trial's best reward: the best of 60
noisy trainings, which the cell that scored it does not reach again when retrained (its `hindsight`
rows). This compares the cells instead, as `studies/search_vs_published.py` does:
1. Multi-trial random, `--trials` (60) children on one worker, trained as `nasdsl search` trains a
   child (the default proxy, each child trained twice): its wall time T, its cell (the best reward's).
2. Each one-shot strategy given T / 10: supernet, ranking, then the picks trained stand-alone in
   rank order, nothing new started after T / 10 (as `--minutes` does); its cell is the best pick's,
   or the top-ranked architecture where no pick was trained in time.
3. Both cells retrained with the same `--retrains` (5) fresh seeds, as a search trains a child.
Target (issue 12, cells compared by retraining): on every seed the one-shot cell's mean retrained
reward is at least the multi-trial cell's, and its supernet and ranking fit in T / 10. Each seed
prints the paired t-test's p too; with several seeds a strategy's line adds the mean difference over
the seeds with its 95% interval (a cell per seed is one draw: which architecture a supernet ranks
first moves with the seed, and with rounding alone, README). Exit 1 when a strategy misses the
target on any seed.

    python benchmarks/oneshot_cells.py [--strategies random-ws,enas] [--seeds 0,1,2] [--retrains 5] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import replace

from oneshot_cost import add_comparison_args, multi_trial, ranked_picks, train_picks
from scipy.stats import t as t_dist
from scipy.stats import ttest_1samp, ttest_rel

from nasdsl_search.driver import SearchConfig
from nasdsl_search.trial import run_trial, trial_payload

RETRAIN_SEEDS = 200_000  # the retrainings' seeds: seed * 100 + this + j, none of a search's


def retrain(cfg: SearchConfig, nas: str, decisions: list[int], seeds: list[int]) -> list[float | None]:
    """`nas` trained stand-alone once per seed, as a search trains a child: the rewards (None: failed)."""
    return [run_trial(trial_payload(cfg, {"id": j + 1, "nas": nas, "decisions": decisions, "seed": s}, 1))["reward"]
            for j, s in enumerate(seeds)]


def _mean(rewards: list[float | None]) -> str:
    done = [r for r in rewards if r is not None]
    return f"{statistics.fmean(done):.4f}" if done else "none finished"


def _over_seeds(diffs: list[float]) -> str:
    """The mean difference over seeds with its 95% interval (t over the seeds' means), from 2 seeds on."""
    if len(diffs) < 2:
        return ""
    mean, sem = statistics.fmean(diffs), statistics.stdev(diffs) / len(diffs) ** 0.5
    half = t_dist.ppf(0.975, len(diffs) - 1) * sem
    p_value = float(ttest_1samp(diffs, 0.0).pvalue) if sem > 0 else 1.0
    return f"; over the seeds {mean:+.4f} (95% interval {mean - half:+.4f} to {mean + half:+.4f}, p {p_value:.2f})"


def measure(args, base: SearchConfig, seed: int) -> dict:
    """One comparison on `seed`: the multi-trial cell, then each one-shot strategy's, retrained alike."""
    base = replace(base, seed=seed)
    seeds = [seed * 100 + RETRAIN_SEEDS + j for j in range(args.retrains)]
    best, ranked, multi_s = multi_trial(base, args.trials)
    budget = multi_s / 10
    multi = retrain(base, ranked[0]["nas"], ranked[0]["decisions"], seeds)
    out = {"multi": {"wall_s": multi_s, "best": best, "decisions": ranked[0]["decisions"], "retrained": multi}}
    print(f"seed {seed}: multi-trial random: {args.trials} trials in {multi_s:.0f} s, best {best:.4f}; "
          f"its cell retrained {_mean(multi)} (mean of {len(multi)})", flush=True)
    for strategy in args.strategies.split(","):
        t0 = time.time()
        cfg, _, picks = ranked_picks(base, strategy, args)
        supernet_s = time.time() - t0
        _, rewards, _ = train_picks(cfg, picks, seed, None, t0, budget, len(picks))
        wall = time.time() - t0
        done = [(r, i) for i, r in enumerate(rewards) if r is not None]
        nas, decisions = picks[max(done)[1] if done else 0]
        cell = retrain(base, nas, decisions, seeds)
        pairs = [(a, b) for a, b in zip(cell, multi) if a is not None and b is not None]  # a failed training drops its seed
        diff = statistics.fmean(a - b for a, b in pairs)
        p_value = float(ttest_rel([a for a, _ in pairs], [b for _, b in pairs]).pvalue)
        ok = diff >= 0 and supernet_s <= budget
        out[strategy] = {"wall_s": wall, "supernet_and_rank_s": supernet_s, "budget_s": budget, "picks": rewards,
                         "decisions": decisions, "retrained": cell, "vs_multi": diff, "p": p_value, "target_met": ok}
        verdict = "met" if ok else "MISSED" + (" (supernet + ranking over the budget)" if supernet_s > budget else "")
        chosen = f"the best of {len(rewards)} pick{'s' * (len(rewards) > 1)} ({max(done)[0]:.4f})" if done else "the top-ranked (no pick trained)"
        print(f"seed {seed}: {strategy:10s} {wall:.0f} s of its {budget:.0f} s (supernet + ranking {supernet_s:.0f} s); "
              f"its cell, {chosen}, retrained {_mean(cell)}: {diff:+.4f} against the multi-trial's "
              f"(paired p {p_value:.3f}); target {verdict}", flush=True)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    base = SearchConfig()  # the default proxy, as `nasdsl search` trains a child
    add_comparison_args(ap, base)
    ap.add_argument("--strategies", default="random-ws,enas", help="comma-separated: random-ws, enas")
    ap.add_argument("--retrains", type=int, default=5, help="fresh training seeds per cell")
    args = ap.parse_args()
    unknown = set(args.strategies.split(",")) - {"random-ws", "enas"}
    if unknown:
        ap.error(f"unknown strategies {', '.join(sorted(unknown))}; known: random-ws, enas")
    if args.retrains < 2:
        ap.error("--retrains must be at least 2 (the paired test needs two)")
    base = replace(base, space=args.space, train=replace(base.train, epochs=args.child_epochs))
    seeds = args.seeds
    out: dict = {"space": args.space, "trials": args.trials, "child_epochs": args.child_epochs,
                 "repeats": base.repeats, "retrains": args.retrains, "seeds": {}}
    for seed in seeds:
        out["seeds"][str(seed)] = measure(args, base, seed)
        if args.json:  # after every seed, so a cut-short run keeps what it measured
            with open(args.json, "w") as f:
                json.dump(out, f, indent=1)
    missed = False
    for strategy in args.strategies.split(","):
        runs = [r[strategy] for r in out["seeds"].values()]
        met = sum(r["target_met"] for r in runs)
        fit = sum(r["supernet_and_rank_s"] <= r["budget_s"] for r in runs)
        diffs = [r["vs_multi"] for r in runs]
        print(f"{strategy:10s} as good a cell in a tenth of the time on {met} of {len(runs)} seeds (in the tenth on "
              f"{fit}); retrained against the multi-trial's cell: {', '.join(f'{d:+.4f}' for d in diffs)}"
              f"{_over_seeds(diffs)}")
        missed = missed or met < len(runs)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
