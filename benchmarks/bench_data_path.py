"""Digits children per minute before and after issue 10's data path, side by side.

"Before" is the code of a git revision from before the data registry (default: the commit this
branch started from), unpacked with `git archive` into a temporary folder; "after" is this
working tree. Both run the same children through their own `run_trial` (`search.trial`, imported
as `nasdsl_search.trial` since the rename): the default search child (proxy network 1 cell / 8
filters, 4 epochs on digits, 1 thread), architectures drawn by a seeded random generator,
sequentially in one fresh process per round, so each round pays the data set's first load once, as
a search worker does. Rounds alternate before/after to spread the noise of a shared machine evenly.
Prints per-round figures and the medians, in children per minute of wall time and of the child
process's CPU time, and whether the rewards are identical; exits 1 if "after" is more than 10%
slower by either clock, if a child fails, or if the rewards differ (then the trees trained different
children, and the times would compare more than the data path). Children train in NCHW on both
sides, as before the data path (the search's children have trained in channels_last since).

    python benchmarks/bench_data_path.py [--before REV] [--children 2] [--rounds 2] [--epochs 4]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nasdsl_search.space import ProxyNet, load_space, to_nas  # noqa: E402
from nasdsl_search.trainer import TrainConfig  # noqa: E402

BASE = "50209f2"  # main when issue 10 began: load_dataset -> numpy, train() on arrays
MAX_SLOWDOWN = 0.10

# argv[1]: the trial module (a tree from before the rename has it as search.trial, not nasdsl_search.trial)
RUNNER = """
import importlib, json, sys, time
run_trial = importlib.import_module(sys.argv[1]).run_trial
out = []
for p in json.load(sys.stdin):
    t, c = time.perf_counter(), time.process_time()
    r = run_trial(p)
    out.append({"status": r["status"], "reward": r["reward"], "error": r["error"],
                "seconds": time.perf_counter() - t, "cpu": time.process_time() - c})
print(json.dumps(out))
"""


def payloads(children: int, seed: int, epochs: int) -> list[dict]:
    """Default search children on digits: random architectures, seeded."""
    space, rng = load_space("nasnet"), random.Random(seed)
    out = []
    for i in range(children):
        decisions = [rng.randrange(n) for n in space.sizes]
        out.append({"trial": i + 1, "nas": to_nas(space, decisions, ProxyNet()), "network": "proxy",
                    "seed": 1000 + i, "decisions": decisions, "reward": "accuracy", "dataset": "digits",
                    "val_size": None, "train_size": None, "train": {"epochs": epochs}, "threads": 1,
                    "channels_last": False})  # children train in NCHW, as before the data path (an older tree ignores it)
    return out


def unpack(rev: str, into: Path) -> Path:
    """The tree of `rev` (its packages only) in `into`."""
    tar = into / "before.tar"
    subprocess.run(["git", "-C", str(ROOT), "archive", "-o", str(tar), rev, "nasdsl", "search", "grammar",
                    "templates"], check=True)
    with tarfile.open(tar) as t:
        t.extractall(into / "tree", filter="data")
    return into / "tree"


def run(tree: Path, jobs: list[dict]) -> tuple[float, float, list[dict]]:
    """Wall and CPU seconds of all children in one fresh process (imports excluded), and their results."""
    env = {**os.environ, "PYTHONPATH": str(tree), "OMP_NUM_THREADS": "1"}
    renamed = any("nasdsl_search" in p.read_text() for p in (tree / "nasdsl").rglob("*.py"))
    trial = "nasdsl_search.trial" if renamed else "search.trial"
    p = subprocess.run([sys.executable, "-c", RUNNER, trial], input=json.dumps(jobs), capture_output=True,
                       text=True, env=env, cwd=tree, check=False)
    if p.returncode != 0:
        raise SystemExit(f"runner failed in {tree}:\n{p.stderr[-2000:]}")
    results = json.loads(p.stdout.strip().splitlines()[-1])
    return sum(r["seconds"] for r in results), sum(r["cpu"] for r in results), results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", default=BASE, help=f"git revision of the old data path (default {BASE})")
    ap.add_argument("--children", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=TrainConfig().epochs, help="child epochs (default: the search's)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    jobs = payloads(args.children, args.seed, args.epochs)
    rates: dict[str, list[float]] = {"before": [], "after": []}
    cpu_rates: dict[str, list[float]] = {"before": [], "after": []}
    rewards: dict[str, list] = {}
    failed = []
    with tempfile.TemporaryDirectory(prefix="bench_data_path_") as tmp:
        trees = {"before": unpack(args.before, Path(tmp)), "after": ROOT}
        for r in range(args.rounds):
            for name in (("before", "after") if r % 2 == 0 else ("after", "before")):
                t0 = time.perf_counter()
                seconds, cpu, results = run(trees[name], jobs)
                rates[name].append(len(jobs) / seconds * 60)
                cpu_rates[name].append(len(jobs) / cpu * 60)
                rewards[name] = [x["reward"] for x in results]
                failed += [f"{name}: {x['error']}" for x in results if x["status"] != "done"]
                print(f"  round {r + 1} {name:<6}: {seconds:6.1f} s for {len(jobs)} children "
                      f"({rates[name][-1]:.2f}/min; {cpu:.1f} CPU s; process {time.perf_counter() - t0:.1f} s)", file=sys.stderr)
    print(f"\ndigits children (default child: 1 cell, 8 filters, {args.epochs} epochs, 1 thread), {args.children} "
          f"per round, {args.rounds} rounds; before = {args.before}, after = this tree")
    print("wall: children per minute of wall time (what a user waits; on a shared machine it also measures the "
          "other jobs); CPU: per minute of the child process's CPU time (the work the data path and training do)")
    print(f"{'clock':<6}{'data path':<11}{'children/min (median)':>23}{'rounds':>26}")
    for clock, table in (("wall", rates), ("CPU", cpu_rates)):
        before, after = statistics.median(table["before"]), statistics.median(table["after"])
        for name, med in (("before", before), ("after", after)):
            print(f"{clock:<6}{name:<11}{med:>23.2f}{'  '.join(f'{v:.2f}' for v in table[name]):>26}")
        print(f"{clock:<6}after / before: {after / before:.3f} (target >= {1 - MAX_SLOWDOWN:.2f})")
        if after < (1 - MAX_SLOWDOWN) * before:
            failed.append(f"{clock}: the new data path is {100 * (1 - after / before):.0f}% slower "
                          f"(limit {100 * MAX_SLOWDOWN:.0f}%)")
    same = rewards["before"] == rewards["after"]
    print(f"rewards identical: {'yes' if same else 'NO'}  before {rewards['before']}  after {rewards['after']}")
    if not same:  # then the two trees trained different children, and the times compare different work
        failed.append("the rewards differ: the trees do not train the same children, so this is no measure of "
                      "the data path")
    for f in failed:
        print(f"FAIL: {f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
