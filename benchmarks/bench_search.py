"""Search throughput: trials per minute with 1 and 2 workers, on the local process pool and on a
local Ray cluster, side by side in one run.

Every configuration runs the same trials: the random strategy with one seed proposes the same
architectures, and each child trains on digits with the default settings, so only the executor
and the number of workers differ. Reports the wall time of each run (executor start-up included,
as a user pays it), trials per minute, the start-up time alone, and the speed-up over one local
worker. Exits 1 if a trial fails or if two workers are no faster than one.

    python benchmarks/bench_search.py [--trials 8] [--executors local,ray] [--workers 1,2]
    python benchmarks/bench_search.py --child-formats [--cells 3] [--rounds 2]

`--child-formats`: one child, before and after the channels_last change: the same default
children (one thread each, in this process) trained in the contiguous (NCHW) memory format and in
channels_last, interleaved round by round so that both see the same machine; prints children per
minute for each and exits 1 if channels_last is not faster.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from search.driver import Search, SearchConfig  # noqa: E402
from search.executors import default_threads, make_executor  # noqa: E402


def startup_seconds(executor: str, workers: int) -> float:
    """Making and closing the executor: ray.init of a local cluster; the local pool spawns lazily."""
    t = time.perf_counter()
    make_executor(executor, workers).shutdown()
    return time.perf_counter() - t


def child_formats(cells: int, rounds: int, seed: int) -> int:
    import random

    import torch

    from search.data import load_dataset
    from search.space import load_space, to_nas
    from search.trial import run_trial

    torch.set_num_threads(1)
    cfg = SearchConfig()
    data = load_dataset(cfg.dataset)
    proxy = type(cfg.proxy)(**{**cfg.proxy.__dict__, "image": data.image, "classes": data.classes})
    space = load_space(cfg.space)
    rng = random.Random(seed)
    decisions = [tuple(rng.randrange(n) for n in space.sizes) for _ in range(cells)]
    seconds: dict[bool, list[float]] = {False: [], True: []}
    for r in range(rounds):
        for i, d in enumerate(decisions):
            for fmt in ((False, True) if (r + i) % 2 == 0 else (True, False)):
                p = {"trial": i, "nas": to_nas(space, d, proxy), "seed": i, "decisions": list(d),
                     "reward": "accuracy", "dataset": cfg.dataset, "train": cfg.train.to_dict(), "threads": 1,
                     "channels_last": fmt}
                res = run_trial(p)
                if res["status"] != "done":
                    print(f"FAIL: child {i} ({'channels_last' if fmt else 'NCHW'}): {res['error']}")
                    return 1
                seconds[fmt].append(res["seconds"])
                print(f"  cell {i} {'channels_last' if fmt else 'NCHW'}: {res['seconds']:.1f} s, "
                      f"accuracy {res['reward']:.4f}", file=sys.stderr, flush=True)
    print(f"\n{cells} default children x {rounds} rounds per format (digits, {cfg.train.epochs} epochs, F = "
          f"{cfg.proxy.filters}, one thread, in-process, interleaved)")
    print(f"{'format':<16}{'child s (median)':>18}{'children/min':>14}")
    rate = {}
    for fmt, xs in seconds.items():
        med = statistics.median(xs)
        rate[fmt] = 60 / med
        print(f"{'channels_last' if fmt else 'NCHW (before)':<16}{med:>18.2f}{rate[fmt]:>14.2f}")
    print(f"speed-up {rate[True] / rate[False]:.2f}x")
    return 0 if rate[True] > rate[False] else 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--child-formats", action="store_true", help="time one child in NCHW and channels_last")
    ap.add_argument("--cells", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--trials", type=int, default=8)
    ap.add_argument("--executors", default="local,ray")
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.child_formats:
        return child_formats(args.cells, args.rounds, args.seed)
    failed = []
    rows = []
    for executor in args.executors.split(","):
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
    base = next((r[3] for r in rows if r[:2] == ("local", 1)), rows[0][3])
    print(f"\n{args.trials} trials per configuration (random strategy, seed {args.seed}, digits, default child); "
          f"torch threads per trial = cores / workers ({default_threads(1)} for one worker)")
    print(f"{'executor':<10}{'workers':>8}{'wall s':>9}{'trials/min':>12}{'start-up s':>12}"
          f"{'child s (median)':>18}{'vs local x1':>13}")
    for executor, workers, wall, tpm, start, child in rows:
        print(f"{executor:<10}{workers:>8}{wall:>9.1f}{tpm:>12.2f}{start:>12.2f}{child:>18.2f}{tpm / base:>13.2f}")
    for executor in {r[0] for r in rows}:
        by_w = {r[1]: r[3] for r in rows if r[0] == executor}
        if 1 in by_w and 2 in by_w and by_w[2] <= by_w[1]:
            failed.append(f"{executor}: 2 workers ({by_w[2]:.2f}/min) no faster than 1 ({by_w[1]:.2f}/min)")
    for f in failed:
        print(f"FAIL: {f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
