"""Search throughput: trials per minute with 1 and 2 workers, on the local process pool and on a
local Ray cluster, side by side in one run.

Every configuration runs the same trials: the random strategy with one seed proposes the same
architectures, and each child trains on digits with the default settings, so only the executor
and the number of workers differ. Reports the wall time of each run (executor start-up included,
as a user pays it), trials per minute, the start-up time alone, and the speed-up over one local
worker. Exits 1 if a trial fails, or if a configuration of 2 or more workers is no faster than
one worker of the same executor (`ray-2node` against `ray` x1, else `local` x1), or has no such
row to be compared with.

The `ray-2node` row runs the same trials with 2 workers on a real two-node Ray cluster (a head and
a worker node started with the `ray` CLI on this machine, 1 CPU each; see tests/ray_cluster.py),
driven by `--address`; its start-up is starting both nodes, shown apart and left out of its wall
time (a user runs on a cluster already up).

    python benchmarks/bench_search.py [--trials 8] [--executors local,ray,ray-2node] [--workers 1,2]
    python benchmarks/bench_search.py --child-formats [--cells 3] [--steps 20]

`--child-formats`: one child before and after the channels_last change: training steps of the
same default children (one thread, in this process) in the contiguous (NCHW) memory format and in
channels_last, alternating step by step so that both see the same load on a shared machine;
prints ms per step, the estimated child seconds and children per minute for each, and exits 1 if
channels_last is not faster.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nasdsl_search.driver import Search, SearchConfig  # noqa: E402
from nasdsl_search.executors import default_threads, make_executor  # noqa: E402


def startup_seconds(executor: str, workers: int) -> float:
    """Making and closing the executor: ray.init of a local cluster; the local pool spawns lazily."""
    t = time.perf_counter()
    make_executor(executor, workers).shutdown()
    return time.perf_counter() - t


def _epochs(trainer):
    """The trainer's training batches, epoch after epoch (a proxy epoch is only a few steps)."""
    while True:
        yield from trainer._train_batches()


def child_formats(cells: int, steps: int, seed: int) -> int:
    """Per-step cost of the default child in NCHW and in channels_last, measured step by step in
    alternation (A, B, A, B, ...) so that both formats see the same load on a shared machine."""
    import random

    import torch

    import nasdsl
    from nasdsl_search.space import load_space, to_nas
    from nasdsl_search.trainer import Trainer
    from nasdsl_search.trial import child_data, data_settings

    torch.set_num_threads(1)
    cfg = SearchConfig()
    data = child_data(data_settings(cfg))  # the default proxy's split, as every child of a search sees it
    proxy = type(cfg.proxy)(**{**cfg.proxy.__dict__, "image": data.image, "classes": data.classes})
    space = load_space(cfg.space)
    rng = random.Random(seed)
    train, val = data.train, data.val
    step_ms: dict[bool, list[float]] = {False: [], True: []}
    eval_s: dict[bool, list[float]] = {False: [], True: []}
    per_child = 0
    for i in range(cells):
        nas = to_nas(space, tuple(rng.randrange(n) for n in space.sizes), proxy)
        trainers, batches = {}, {}
        for fmt in (False, True):
            torch.manual_seed(i)
            trainers[fmt] = Trainer(nasdsl.compile(nas, network="proxy", num_classes=data.classes), cfg.train,
                                    train, val, seed=i, channels_last=fmt)
            trainers[fmt].net.train()
            batches[fmt] = _epochs(trainers[fmt])
        per_child = trainers[False].steps_per_epoch * cfg.train.epochs * cfg.repeats
        for k in range(steps + 1):  # the first step of each is a warm-up
            for fmt in ((False, True) if k % 2 else (True, False)):
                t = trainers[fmt]
                xb, yb = t._to_device(*next(batches[fmt]))
                t0 = time.perf_counter()
                logits = t.net(xb)
                logits = logits[0] if isinstance(logits, tuple) else logits
                loss = t.lossf(logits, yb)
                t.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                t.optimizer.step()
                if k:
                    step_ms[fmt].append((time.perf_counter() - t0) * 1000)
        for fmt in ((False, True) if i % 2 else (True, False)):
            t0 = time.perf_counter()
            trainers[fmt].evaluate()
            eval_s[fmt].append(time.perf_counter() - t0)
        print(f"  cell {i}: NCHW {statistics.median(step_ms[False][-steps:]):.0f} ms/step, channels_last "
              f"{statistics.median(step_ms[True][-steps:]):.0f} ms/step", file=sys.stderr, flush=True)
    print(f"\n{cells} default children (digits, batch {cfg.train.batch_size}, F = {cfg.proxy.filters}, one thread), "
          f"{steps} training steps per format and cell, formats alternating step by step; a child is "
          f"{per_child} steps + {cfg.repeats} evaluation(s) ({cfg.repeats} training(s) on {len(train)} images)")
    print(f"{'format':<16}{'ms/step (median)':>18}{'eval s':>8}{'child s (est.)':>16}{'children/min':>14}")
    rate = {}
    for fmt in (False, True):
        ms, ev = statistics.median(step_ms[fmt]), statistics.median(eval_s[fmt])
        child = per_child * ms / 1000 + cfg.repeats * ev
        rate[fmt] = 60 / child
        print(f"{'channels_last' if fmt else 'NCHW (before)':<16}{ms:>18.1f}{ev:>8.2f}{child:>16.1f}{rate[fmt]:>14.2f}")
    print(f"speed-up {rate[True] / rate[False]:.2f}x")
    return 0 if rate[True] > rate[False] else 1


# A driver process: Ray's auth token must be in its environment before Ray is imported.
_TWO_NODE_DRIVER = """
import json, sys, time
from nasdsl_search.driver import Search, SearchConfig
a = json.loads(sys.argv[1])
s = Search(a["out"], SearchConfig(strategy="random", trials=a["trials"], seed=a["seed"]))
t = time.perf_counter()
summary = s.run("ray", workers=2, address=a["address"], progress=False)
wall = time.perf_counter() - t
print(json.dumps({"wall": wall, "done": summary.counts["done"], "nodes": sorted({t["ip"] for t in s.store.trials()}),
                  "seconds": [t["seconds"] for t in s.store.trials() if t["seconds"]]}))
"""


def two_node_row(trials: int, seed: int) -> tuple[tuple, str | None]:
    """(executor, workers, wall, trials/min, start-up, child median) on a two-node cluster, and a
    failure text if a trial failed or one node ran nothing."""
    import json
    import os
    import subprocess

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from ray_cluster import LocalCluster

    folder = Path(tempfile.mkdtemp(prefix="bench_search_ray2node_"))
    cluster = LocalCluster(folder / "cluster")
    t = time.perf_counter()
    try:
        cluster.head(cpus=1)
        cluster.add_node("127.0.0.2", cpus=1)
        start = time.perf_counter() - t
        env = {**os.environ, **cluster.env,
               "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[1]), os.environ.get("PYTHONPATH", "")])}
        arg = json.dumps({"out": str(folder / "run"), "trials": trials, "seed": seed, "address": cluster.address})
        run = subprocess.run([sys.executable, "-c", _TWO_NODE_DRIVER, arg], capture_output=True, text=True, env=env)
    finally:
        cluster.stop()
    if run.returncode:
        return ("ray-2node", 2, float("nan"), 0.0, start, float("nan")), f"ray-2node: driver failed: {run.stderr[-500:]}"
    r = json.loads(run.stdout.strip().splitlines()[-1])
    row = ("ray-2node", 2, r["wall"], trials / r["wall"] * 60, start, statistics.median(r["seconds"]))
    failed = None
    if r["done"] != trials or len(r["nodes"]) != 2:
        failed = f"ray-2node: {r['done']} of {trials} done, on nodes {r['nodes']}"
    return row, failed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--child-formats", action="store_true", help="time one child in NCHW and channels_last")
    ap.add_argument("--cells", type=int, default=3)
    ap.add_argument("--steps", type=int, default=20, help="--child-formats: timed steps per format and cell")
    ap.add_argument("--trials", type=int, default=8)
    ap.add_argument("--executors", default="local,ray,ray-2node")
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.child_formats:
        return child_formats(args.cells, args.steps, args.seed)
    failed = []
    rows = []
    for executor in args.executors.split(","):
        if executor == "ray-2node":
            row, why = two_node_row(args.trials, args.seed)
            rows.append(row)
            failed += [why] if why else []
            print(f"  ray-2node x2: {row[2]:.1f} s", file=sys.stderr, flush=True)
            continue
        for workers in (int(w) for w in args.workers.split(",")):
            start = startup_seconds(executor, workers)
            folder = Path(tempfile.mkdtemp(prefix=f"bench_search_{executor}{workers}_"))
            s = Search(folder / "run", SearchConfig(strategy="random", trials=args.trials, seed=args.seed))
            t = time.perf_counter()
            summary = s.run(executor, workers=workers, progress=False)
            wall = time.perf_counter() - t
            trials = s.store.trials()
            s.close()
            if summary.counts["done"] != args.trials:
                failed.append(f"{executor} x{workers}: {summary.counts}")
            child = statistics.median(t["seconds"] for t in trials if t["seconds"])
            rows.append((executor, workers, wall, args.trials / wall * 60, start, child))
            print(f"  {executor} x{workers}: {wall:.1f} s", file=sys.stderr, flush=True)
    base = next((r for r in rows if r[:2] == ("local", 1)), rows[0])
    print(f"\n{args.trials} trials per configuration (random strategy, seed {args.seed}, digits, default child); "
          f"torch threads per trial = cores / workers ({default_threads(1)} for one worker)")
    vs = f"vs {base[0]} x{base[1]}"
    print(f"{'executor':<10}{'workers':>8}{'wall s':>9}{'trials/min':>12}{'start-up s':>12}"
          f"{'child s (median)':>18}{vs:>14}")
    for executor, workers, wall, tpm, start, child in rows:
        print(f"{executor:<10}{workers:>8}{wall:>9.1f}{tpm:>12.2f}{start:>12.2f}{child:>18.2f}{tpm / base[3]:>14.2f}")
    one = {r[0]: r[3] for r in rows if r[1] == 1}  # trials/min of one worker, per executor
    for executor, workers, _, tpm, _, _ in rows:
        if workers < 2:
            continue
        against = next((e for e in (executor, "ray" if executor == "ray-2node" else None, "local") if e in one), None)
        if against is None:  # the target needs a one-worker row: without it the run would check nothing
            failed.append(f"{executor} x{workers}: no one-worker row to compare with (add 1 to --workers)")
        elif tpm <= one[against]:
            failed.append(f"{executor}: {workers} workers ({tpm:.2f}/min) no faster than {against} x1 "
                          f"({one[against]:.2f}/min)")
    if not any(workers >= 2 for _, workers, *_ in rows):  # nothing to check: say so rather than pass
        failed.append("no row with 2 or more workers: the target compares them with one (give --workers 1,2)")
    for f in failed:
        print(f"FAIL: {f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
