"""Search throughput: trials per minute with 1 and 2 workers, on the local process pool and on a
local Ray cluster, side by side in one run.

Every configuration runs the same trials: the random strategy with one seed proposes the same
architectures, and each child trains on digits with the default settings, so only the executor
and the number of workers differ. Reports the wall time of each run (executor start-up included,
as a user pays it), trials per minute, the start-up time alone, and the speed-up over one local
worker. Exits 1 if a trial fails or if two workers are no faster than one.

    python benchmarks/bench_search.py [--trials 8] [--executors local,ray] [--workers 1,2]
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=8)
    ap.add_argument("--executors", default="local,ray")
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
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
