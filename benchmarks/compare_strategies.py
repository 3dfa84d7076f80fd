"""Strategies side by side on real child training at an equal compute budget counted in child-epochs:
ppo, reinforce, random, evolution and random+asha (random search with early stopping), over
several seeds, with a one-sided Mann-Whitney U test of each strategy against random.

A plain strategy gets budget // epochs trials, each trained `--epochs`. A strategy with `+asha`
runs `nasdsl search --scheduler asha` (rungs --min-epochs .. --epochs, eta --reduction) with
enough trials to spend the budget; its best-so-far counts only accuracies at the top rung (the
full --epochs, so they are comparable with the plain runs) and stops counting at the budget.
Printed: per strategy the best and the top-5 mean full-training reward within the budget (mean
± sd over seeds), the best-so-far at 1/4, 1/2, 3/4 and all of the budget, the p-value of
"better than random", and for each +asha strategy the child-epochs and the wall time it needed to
reach the best reward plain random reached with its whole budget, against what random spent (the
saving; target 3x fewer child-epochs for every +asha strategy on every seed, exit 1 when missed,
exit 2 when --strategies holds no random or no +asha strategy to check it on; wall time counts from a run's first proposal, so
run it on an otherwise idle machine and in one sitting). Every run is a normal run folder under
--out, resumed where it stopped when the script is started again with the same settings (a folder
of other settings is refused).

    python benchmarks/compare_strategies.py [--budget 40 x epochs] [--seeds 0,1,2,3,4] [--workers 2]
        [--strategies ppo,reinforce,random,evolution,random+asha] [--epochs (the default proxy's)] [--min-epochs 1]
        [--reduction 3] [--out runs/compare] [--dataset digits] [--reward accuracy|synthetic]
"""
from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nasdsl.testing import int_list  # noqa: E402
from nasdsl_search.driver import Search, SearchConfig, proxy_network, with_own_image  # noqa: E402
from nasdsl_search.rewards import mann_whitney_greater, reaches  # noqa: E402
from nasdsl_search.scheduler import rung_epochs  # noqa: E402
from nasdsl_search.strategies import StrategyOptions  # noqa: E402

STRATEGIES = ("ppo", "reinforce", "random", "evolution", "random+asha")


def asha_trials(budget: int, epochs: int, eta: int, min_epochs: int) -> int:
    """Trials an ASHA run may start so that it spends the whole budget of child-epochs: the budget
    over one trial's expected child-epochs (each rung's extra epochs, reached by 1/eta^k of them),
    with a quarter more."""
    rungs = rung_epochs(min_epochs, epochs, eta)
    per_trial = sum((e - (rungs[k - 1] if k else 0)) / eta ** k for k, e in enumerate(rungs))
    return math.ceil(budget / per_trial * 1.25)


def run_one(folder: Path, cfg: SearchConfig, workers: int) -> tuple[list[dict], list[dict]]:
    """Run (or resume) one search; a folder holding a run of other settings (an earlier --budget,
    --epochs, ...) is refused: resuming it would measure the old settings under the new labels."""
    resume = (folder / "trials.sqlite").exists()
    s = Search(folder, None if resume else cfg, resume=resume)
    if resume:  # made with the data's own size kept in its config, or (before 2026-12-07) not
        made = [json.dumps(c.to_dict(), sort_keys=True) for c in (cfg, with_own_image(cfg, proxy_network(cfg)))]
        if json.dumps(s.config.to_dict(), sort_keys=True) not in made:
            s.close()
            raise SystemExit(f"{folder}: holds a run made with other settings than these; give another --out")
    s.run("local", workers=workers, progress=False)
    trials, rungs = s.store.trials(), s.store.rungs()
    s.close()
    return trials, rungs


def curve(trials: list[dict], rungs: list[dict], epochs: int, rung_list: tuple[int, ...] | None) -> list[tuple]:
    """(child-epochs spent so far, full-training reward, wall seconds since the run's first
    proposal) for every result, in the order they were recorded; the reward is None for a failed
    trial or a lower rung. Plain runs: each trial costs `epochs`, in finishing order."""
    start = min((t["proposed_at"] for t in trials), default=0.0)
    if rung_list is None:
        done = sorted((t for t in trials if t["status"] in ("done", "failed")),
                      key=lambda t: (t["finished_at"] or 0, t["id"]))
        out, spent = [], 0
        for t in done:
            spent += epochs if t["seconds"] else 0  # rejected proposals cost nothing
            out.append((spent, t["reward"] if t["status"] == "done" else None, (t["finished_at"] or start) - start))
        return out
    out, spent = [], 0
    for r in rungs:  # in the order they were stored
        spent += rung_list[r["rung"]] - (rung_list[r["rung"] - 1] if r["rung"] else 0)
        out.append((spent, r["accuracy"] if r["rung"] == len(rung_list) - 1 else None, r["at"] - start))
    return out


def summary(points: list[tuple], budget: int) -> dict:
    within = [r for spent, r, _ in points if spent <= budget and r is not None]
    top = sorted(within, reverse=True)
    marks = []
    for q in (1, 2, 3, 4):
        seen = [r for spent, r, _ in points if spent <= budget * q / 4 and r is not None]
        marks.append(max(seen) if seen else float("nan"))
    return {"best": top[0] if top else float("nan"), "top5": statistics.fmean(top[:5]) if top else float("nan"),
            "marks": marks, "points": points, "spent": max((s for s, _, _ in points if s <= budget), default=0),
            "wall": max((w for s, _, w in points if s <= budget), default=0.0)}


def to_reach(points: list[tuple], target: float) -> tuple[float, float]:
    """(child-epochs, wall seconds) spent when a full-training reward first reached `target`."""
    return next(((spent, wall) for spent, r, wall in points if reaches(r, target)), (math.inf, math.inf))


def mean_sd(xs: list[float]) -> str:
    """mean ± sd of the finite values (a seed without a full training within the budget has none)."""
    got = [x for x in xs if math.isfinite(x)]
    if not got:
        return "—"
    text = f"{statistics.fmean(got):.4f} ± {statistics.stdev(got) if len(got) > 1 else 0.0:.4f}"
    return text if len(got) == len(xs) else f"{text} ({len(got)} of {len(xs)} seeds)"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_epochs = SearchConfig().train.epochs  # the default proxy's full training
    ap.add_argument("--budget", type=int, help="child-epochs per run (default: 40 full trainings)")
    ap.add_argument("--seeds", type=int_list, default="0,1,2,3,4")
    ap.add_argument("--strategies", default=",".join(STRATEGIES))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=default_epochs,
                    help=f"full training of a child (ASHA's top rung; default {default_epochs})")
    ap.add_argument("--min-epochs", type=int, default=1)
    ap.add_argument("--reduction", type=int, default=3)
    ap.add_argument("--controller-batch", type=int, default=10, help="architectures per ppo/reinforce update")
    ap.add_argument("--population", type=int, default=10, help="regularized evolution's population")
    ap.add_argument("--dataset", help="default: the default proxy's data set and split")
    ap.add_argument("--val-size", type=int)
    ap.add_argument("--train-size", type=int)
    ap.add_argument("--reward", default="accuracy", choices=("accuracy", "synthetic"))
    ap.add_argument("--out", default="runs/compare")
    args = ap.parse_args()
    args.budget = args.budget or 40 * args.epochs
    names = args.strategies.split(",")
    if "random" not in names or not any(name.endswith("+asha") for name in names):
        print("no target to check: --strategies needs random and at least one +asha strategy", file=sys.stderr)
        return 2
    seeds = args.seeds
    options = StrategyOptions(batch=args.controller_batch, population=args.population)
    base = SearchConfig(reward=args.reward, options=options)
    if args.dataset:  # another data set than the default proxy's: its own default split unless given
        base = replace(base, dataset=args.dataset, val_size=args.val_size, train_size=args.train_size)
    base = replace(base, train=replace(base.train, epochs=args.epochs))
    rungs = rung_epochs(args.min_epochs, args.epochs, args.reduction)
    results: dict[str, list[dict]] = {}
    t0 = time.time()
    for name in names:
        strategy, _, sched = name.partition("+")
        for seed in seeds:
            if sched == "asha":
                trials = asha_trials(args.budget, args.epochs, args.reduction, args.min_epochs)
                cfg = replace(base, strategy=strategy, seed=seed, trials=trials, scheduler="asha",
                              min_epochs=args.min_epochs, reduction=args.reduction)
            else:
                cfg = replace(base, strategy=strategy, seed=seed, trials=args.budget // args.epochs)
            trials, rung_rows = run_one(Path(args.out) / f"{name}-s{seed}", cfg, args.workers)
            r = summary(curve(trials, rung_rows, args.epochs, rungs if sched else None), args.budget)
            results.setdefault(name, []).append(r)
            print(f"  {name:<12} seed {seed}: best {r['best']:.4f}  top-5 {r['top5']:.4f}  "
                  f"({r['spent']} child-epochs, {time.time() - t0:.0f} s so far)", file=sys.stderr, flush=True)
    print(f"\nbudget {args.budget} child-epochs per run on {base.dataset} ({args.reward}), {args.epochs} epochs a "
          f"full child; asha rungs {list(rungs)}, eta {args.reduction}; seeds {','.join(map(str, seeds))}; mean ± sd over seeds\n")
    print("| strategy | best | top-5 mean | best at 1/4, 1/2, 3/4 of the budget | p (better than random) |")
    print("|---|---|---|---|---|")
    rnd = [r["best"] for r in results.get("random", [])]
    verdicts = []
    for name, rs in results.items():
        marks = ", ".join(f"{statistics.fmean(r['marks'][q] for r in rs):.4f}" for q in range(3))
        p = "—"
        if name != "random" and len(rnd) == len(rs) and len(rs) > 1:
            pv = mann_whitney_greater([r["best"] for r in rs], rnd)
            p = f"{pv:.3f}"
            verdicts.append(f"{name} {'is' if pv < 0.05 else 'is not'} significantly better than random "
                            f"(one-sided Mann-Whitney U, p = {pv:.3f}, {len(rs)} seeds each)")
        print(f"| {name} | {mean_sd([r['best'] for r in rs])} | {mean_sd([r['top5'] for r in rs])} | {marks} | {p} |")
    missed = []
    asha = [name for name in results if name.endswith("+asha")]
    spent = statistics.fmean(r["spent"] for r in results["random"])  # what random spent, measured
    for name in asha:
        rs = results[name]
        at = [to_reach(a["points"], r["best"]) for a, r in zip(rs, results["random"])]  # (epochs, seconds)
        needed = [epochs for epochs, _ in at]
        reached = [n for n in needed if math.isfinite(n)]
        text = ", ".join("not reached" if not math.isfinite(n) else f"{n:g}" for n in needed)
        saving = (f"{spent / statistics.fmean(reached):.2f}x fewer child-epochs on the seeds that reached it"
                  if reached else "never reached")
        verdicts.append(f"{name}: child-epochs to reach plain random's best (per seed: {text}) against the "
                        f"{spent:g} random spent: {saving} (target 3x)")
        walls = [(seconds, r["wall"]) for (_, seconds), r in zip(at, results["random"])]
        done = [(w, full) for w, full in walls if math.isfinite(w)]
        text = ", ".join("not reached" if not math.isfinite(w) else f"{w:.1f} s of {full:.1f} s" for w, full in walls)
        wall_saving = (f"{statistics.fmean(full for _, full in done) / statistics.fmean(w for w, _ in done):.2f}x "
                       "less wall time on the seeds that reached it" if done else "never reached")
        verdicts.append(f"{name}: wall time to reach plain random's best against random's whole run (per seed: "
                        f"{text}): {wall_saving}")
        per_seed = [r["spent"] / n if n else math.inf for n, r in zip(needed, results["random"])]  # each seed against its own random
        shown = ", ".join(f"{x:.2f}x" for x in per_seed)
        verdicts.append(f"{name}: per seed, random's child-epochs over these: {shown} (target 3x on every seed)")
        if not all(x >= 3 for x in per_seed):  # a seed that never reached it saves 0x
            missed.append(f"{name}'s saving is below 3x on a seed ({shown})")
    print("\n" + "\n".join(verdicts))
    if missed:
        print("MISSED: " + "; ".join(missed))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
