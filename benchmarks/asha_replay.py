"""What can early stopping save on this proxy? ASHA replayed offline on measured learning curves.

Input: the per-epoch accuracies that `rung_signal.py --json` writes (cells trained as ASHA trials
are, with a rung at every epoch). Each replay shuffles those cells (seeded) into the order a search
draws them, and runs on it:
- plain random: the first budget / epochs cells, fully trained; its best is the target R*;
- random+asha: the same sequence through the scheduler `nasdsl search --scheduler asha` uses
  (nasdsl_search.scheduler.Asha, pure bookkeeping), on --workers simulated workers; a rung job takes
  as long as the epochs it trains plus --eval-epochs for its evaluation (0.35: an evaluation of the
  held-out digits took 0.16 s against 0.45 s an epoch, README). A trial's accuracy at a rung is its
  measured accuracy after that many epochs.
The saving is the budget over the child-epochs ASHA has spent when a top-rung result first reaches
R*, as `compare_strategies.py` counts it (total: sum over replays; median: of the replays). A replay
that never reaches R* is charged every child-epoch it spent before its trials ran out (in the median it
counts as never: infinitely many), so a setting cannot pass by leaving its failures out.

Both strategies draw the same sequence, as `nasdsl search` does for one seed (the random strategy's
proposals do not depend on results), and a cell promoted to the top rung scores what it scores
trained in one go (bitwise, tested), so the replay is what a live run on these cells would do up
to the timing of its jobs. It needs at least as many distinct cells as ASHA may start (113 for the
defaults); a smaller pool is refused, since repeated cells would make the best one easy to find again.
The figure is only as good as the pool: what decides it is how the few best cells (those as good as
plain random's best of 40) look after one epoch. benchmarks/results/rung_signal.json holds 240 cells
measured on the default proxy (PreciseBN scoring, 2026-12-04); 12 of them reach 0.92 after 4 epochs,
and all 12 score 0.46-0.70 after one (the median cell: 0.44).
Exits 1 when the default setting's total saving is below --target (3x, issue 11).

    python benchmarks/rung_signal.py --cells 240 --json benchmarks/results/rung_signal.json   # 13 min
    python benchmarks/asha_replay.py benchmarks/results/rung_signal.json [--replays 2000] [--budget 160] [--workers 2]
"""
from __future__ import annotations

import argparse
import heapq
import json
import math
import random
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from compare_strategies import asha_trials  # noqa: E402

from nasdsl_search.driver import SearchConfig  # noqa: E402
from nasdsl_search.rewards import reaches  # noqa: E402
from nasdsl_search.scheduler import Asha, rung_epochs  # noqa: E402

DEFAULT = (SearchConfig().reduction, SearchConfig().min_epochs)  # (eta, min epochs) of `nasdsl search`
SETTINGS = tuple(dict.fromkeys((DEFAULT, (2, 1), (3, 1), (4, 1), (2, 2), (3, 2))))  # for comparison


def replay(curves: list[list[float]], order: list[int], budget: int, eta: int, min_epochs: int, workers: int,
           eval_epochs: float) -> tuple[int, bool]:
    """(child-epochs ASHA spent, whether it finished a cell as good as plain random's best): the spend
    when it first did, else all it spent before running out of trials."""
    epochs = len(curves[0])
    target = max(curves[c][-1] for c in order[:budget // epochs])
    rungs = rung_epochs(min_epochs, epochs, eta)
    span = [e - (rungs[k - 1] if k else 0) for k, e in enumerate(rungs)]  # epochs a job to rung k trains
    asha = Asha(rungs, eta, asha_trials(budget, epochs, eta, min_epochs))
    running: list[tuple[float, int, int]] = []  # (finish time, trial, rung)
    now, spent = 0.0, 0
    while True:
        while len(running) < workers and (job := asha.next_job()) is not None:
            kind, tid, rung = job
            if kind == "new":
                tid = len(asha.started)
                asha.start(tid)
            else:
                asha.promote(tid, rung - 1)
            heapq.heappush(running, (now + span[rung] + eval_epochs, tid, rung))
        if not running:
            return spent, False
        now, tid, rung = heapq.heappop(running)
        spent += span[rung]
        accuracy = curves[order[tid]][rungs[rung] - 1]
        asha.report(tid, rung, accuracy)
        for t in asha.to_settle():
            asha.settle(t)
        if rung == asha.top and reaches(accuracy, target):
            return spent, True


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("curves", help="the JSON file rung_signal.py --json wrote")
    ap.add_argument("--replays", type=int, default=2000)
    ap.add_argument("--budget", type=int, help="child-epochs of plain random (default: 40 full trainings)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--eval-epochs", type=float, default=0.35, help="an evaluation's time, in epochs")
    ap.add_argument("--target", type=float, default=3.0)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    cells = json.loads(Path(args.curves).read_text())["cells"]
    curves = [[acc for acc, _ in c] for c in cells.values()]
    epochs = len(curves[0])
    budget = args.budget or 40 * epochs
    settings = [(eta, m) for eta, m in SETTINGS if m < epochs]
    need = max(asha_trials(budget, epochs, eta, m) for eta, m in settings)
    if len(curves) < need:
        print(f"{args.curves}: {len(curves)} cells, but ASHA may start {need}: measure at least that many "
              f"(rung_signal.py --cells {need})", file=sys.stderr)
        return 2
    rng = random.Random(args.seed)
    orders = [rng.sample(range(len(curves)), len(curves)) for _ in range(args.replays)]
    print(f"{args.replays} replays over {len(curves)} measured cells ({epochs} epochs each), budget {budget} "
          f"child-epochs ({budget // epochs} full trainings for plain random), {args.workers} workers, an evaluation "
          f"= {args.eval_epochs} epochs\n")
    print("| eta | min epochs | rungs | reached R* within the budget | never reached | saving, total | "
          "saving, median replay |")
    print("|---|---|---|---|---|---|---|")
    totals = {}
    for eta, min_epochs in settings:
        runs = [replay(curves, order, budget, eta, min_epochs, args.workers, args.eval_epochs) for order in orders]
        within = sum(reached and s <= budget for s, reached in runs) / len(runs)
        never = sum(not reached for _, reached in runs)
        totals[eta, min_epochs] = total = budget * len(runs) / sum(s for s, _ in runs)
        median = budget / statistics.median(s if reached else math.inf for s, reached in runs)
        print(f"| {eta} | {min_epochs} | {', '.join(map(str, rung_epochs(min_epochs, epochs, eta)))} | {within:.1%} | "
              f"{never} | {total:.2f}x | {median:.2f}x |")
    if DEFAULT not in totals:
        print(f"the search's default (eta {DEFAULT[0]}, min epochs {DEFAULT[1]}) needs curves of more than "
              f"{DEFAULT[1]} epochs", file=sys.stderr)
        return 2
    eta, min_epochs = DEFAULT
    verdict = "meets" if totals[DEFAULT] >= args.target else "MISSES"
    print(f"\nthe search's default (eta {eta}, min epochs {min_epochs}): total saving {totals[DEFAULT]:.2f}x, "
          f"{verdict} the {args.target:g}x target even without a live run's seed noise")
    return 0 if totals[DEFAULT] >= args.target else 1

if __name__ == "__main__":
    sys.exit(main())
