"""Does the proxy reward rank architectures? Seed-to-seed agreement of candidate proxy tasks.

For each candidate proxy (data set and subset, held-out size, epochs, width, batch), the same
random cells of the nasnet space are trained with two seeds, and once more (first seed) for
`--longer` times the epochs. Printed per candidate, side by side with the bar:

  spearman seeds     rank correlation between the two seeds' rewards over all cells   (bar >= 0.8)
  better half        the same within the better half of the cells (by mean reward)     (bar >= 0.5)
  seed sd            seed-to-seed standard deviation of a cell's reward, sqrt(mean((a - b)^2 / 2))
  spread             standard deviation of the cells' mean rewards, and their range
  vs Nx longer       rank correlation of the proxy reward (first seed) with N times the epochs
  child s            median wall seconds of one child (workers in parallel, --threads each)
  main job min       60 trials x child s / 2 workers: the default main job's training time
  (a candidate with repeats K averages K trainings of each child: its child s is K trainings)

Exits 1 when the default candidate (SearchConfig's defaults) misses either correlation bar, or its
main job estimate exceeds 10 minutes. Children run through nasdsl_search.trial.run_trial (the code the
search runs), on a spawned process pool. Results are cached in --cache (JSON), each with a digest of
the cell and settings it trained with, so a run that was stopped continues where it stopped and a
changed candidate trains again; a candidate is reported with however many cells it finished.

    python benchmarks/proxy_signal.py [--cells 30] [--candidates all-e4,t200-e8] [--longer 4]
        [--workers 2] [--threads 1] [--cache runs/proxy_signal.json] [--list]
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import contextlib
import json
import os
import random
import re
import statistics
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nasdsl_search.driver import SearchConfig, proxy_network  # noqa: E402
from nasdsl_search.lifetime import die_with_parent, worker_context  # noqa: E402
from nasdsl_search.rewards import spearman  # noqa: E402
from nasdsl_search.space import load_space, to_nas  # noqa: E402
from nasdsl_search.trial import run_trial, training_digest, trial_payload  # noqa: E402

BAR_ALL, BAR_HALF, BAR_MINUTES, MAIN_TRIALS, MAIN_WORKERS = 0.8, 0.5, 10.0, 60, 2

# name -> settings that differ from BEFORE, the proxy before 2 Dec 2026 (all 1297 training images,
# the data set's 500 held out, 4 epochs, one training per child): data set, val_size, train_size,
# repeats, proxy filters/cells, train epochs/batch_size/lr. The candidate equal to SearchConfig()'s
# defaults is the default proxy: it is always measured and it decides the exit status.
BEFORE = {"val_size": None, "epochs": 4, "repeats": 1, "precise_bn": 0}
CANDIDATES: dict[str, dict] = {
    "all-e4": {},
    "val1000": {"val_size": 1000},  # more held-out images: one image is worth 0.001
    "val1000-e2": {"val_size": 1000, "epochs": 2},  # fewer epochs: further from the ceiling
    "val1000-t300": {"val_size": 1000, "train_size": 300},  # fewer training images: headroom
    "val1000-t300-e8": {"val_size": 1000, "train_size": 300, "epochs": 8},
    "val1000-f16": {"val_size": 1000, "filters": 16},
    # fewer training images, the rest held out: headroom below the ceiling and a finer reward
    "t500": {"val_size": 1297},
    "t500-e2": {"val_size": 1297, "epochs": 2},
    "t300": {"val_size": 1497},
    "t300-e8": {"val_size": 1497, "epochs": 8},
    "t300-b16": {"val_size": 1497, "batch_size": 16},
    "t200-e8": {"val_size": 1597, "epochs": 8},
    "t500-b32": {"val_size": 1297, "batch_size": 32},
    "t500-b16": {"val_size": 1297, "batch_size": 16},
    "t500-e8": {"val_size": 1297, "epochs": 8},
    "t500-b16-e2": {"val_size": 1297, "batch_size": 16, "epochs": 2},
    # the reward averaged over 2 trainings (seeds) of the child: half the seed variance, twice the cost
    "t200-e8-r2": {"val_size": 1597, "epochs": 8, "repeats": 2},
    "t500-r2": {"val_size": 1297, "repeats": 2},
    # scored with batch-norm statistics recomputed on the training images (PreciseBN) instead of the
    # running averages, which after 32 steps still lag behind the weights
    "t500-pbn": {"val_size": 1297, "precise_bn": 1024},
    "t500-r2-pbn": {"val_size": 1297, "repeats": 2, "precise_bn": 1024},
    "t300-r2-pbn": {"val_size": 1497, "repeats": 2, "precise_bn": 1024},
    "t500-e2-r2-pbn": {"val_size": 1297, "epochs": 2, "repeats": 2, "precise_bn": 1024},
}


def config_of(overrides: dict) -> SearchConfig:
    cfg = SearchConfig()
    overrides = {**BEFORE, **overrides}
    top = {k: v for k, v in overrides.items() if k in ("dataset", "val_size", "train_size", "repeats")}
    proxy = {k: v for k, v in overrides.items() if k in ("filters", "cells")}
    train = {k: v for k, v in overrides.items() if k in ("epochs", "batch_size", "lr", "precise_bn")}
    return replace(cfg, **top, proxy=replace(cfg.proxy, **proxy), train=replace(cfg.train, **train))


def default_candidate() -> str:
    """The candidate whose settings are SearchConfig's defaults."""
    return next(name for name, o in CANDIDATES.items() if config_of(o) == SearchConfig())


def cells(n: int, seed: int = 0) -> list[tuple[int, ...]]:
    space = load_space("nasnet")
    rng = random.Random(f"proxy-signal-{seed}")
    return [tuple(rng.randrange(k) for k in space.sizes) for _ in range(n)]


def payload(cfg: SearchConfig, decisions: tuple[int, ...], seed: int, epochs: int, threads: int,
            repeats: int) -> dict:
    cfg = replace(cfg, repeats=repeats, train=replace(cfg.train, epochs=epochs))
    nas = to_nas(load_space("nasnet"), decisions, proxy_network(cfg))
    return trial_payload(cfg, {"id": seed, "nas": nas, "decisions": list(decisions), "seed": seed}, threads)


def long_key(name: str, i: int) -> str:
    """The longer training is one training (no repeats): candidates that differ only in repeats share it."""
    return f"{re.sub(r'-r[0-9]+', '', name)}/{i}/long"


def measure(name: str, cfg: SearchConfig, decisions: list[tuple[int, ...]], longer: int, pool, threads: int,
            cache: dict, cache_path: Path) -> dict:
    """Train every (cell, seed) this candidate still lacks; return its statistics. A cached training
    counts only for the cell and settings it trained with (its digest), so a changed candidate or
    default proxy trains again instead of reporting the old figures under the new name."""
    jobs, digests = {}, {}
    for i, d in enumerate(decisions):
        for kind, seed, epochs in (("a", 1000 + i, cfg.train.epochs), ("b", 2000 + i, cfg.train.epochs),
                                   ("long", 1000 + i, cfg.train.epochs * longer)):
            if kind == "long" and longer <= 1:
                continue
            key = long_key(name, i) if kind == "long" else f"{name}/{i}/{kind}"
            job = payload(cfg, d, seed, epochs, threads, 1 if kind == "long" else cfg.repeats)
            digests[key] = training_digest(job)
            if cache.get(key, {}).get("cell") != digests[key] and key not in jobs and pool is not None:
                jobs[key] = job
    futures = {pool.submit(run_trial, p): k for k, p in jobs.items()}
    for fut in cf.as_completed(futures):
        r, key = fut.result(), futures[fut]
        cache[key] = {"reward": r["reward"], "seconds": r["seconds"], "error": r["error"], "cell": digests[key]}
        cache_path.write_text(json.dumps(cache, indent=0, sort_keys=True))
        print(f"  {key}: {r['reward']} ({r['seconds']:.1f} s)", file=sys.stderr, flush=True)
    current = {k: v for k, v in cache.items() if k in digests and v.get("cell") == digests[k]}
    return stats(name, cfg, len(decisions), longer, current)


def stats(name: str, cfg: SearchConfig, n: int, longer: int, cache: dict) -> dict:
    got = [(cache.get(f"{name}/{i}/a"), cache.get(f"{name}/{i}/b"), cache.get(long_key(name, i))) for i in range(n)]
    pairs = [(a["reward"], b["reward"], (lg or {}).get("reward")) for a, b, lg in got
             if a and b and a["reward"] is not None and b["reward"] is not None]
    a = [p[0] for p in pairs]
    b = [p[1] for p in pairs]
    mean = [(x + y) / 2 for x, y in zip(a, b)]
    half = sorted(range(len(pairs)), key=lambda i: -mean[i])[:len(pairs) // 2]
    longs = [(p[0], p[2]) for p in pairs if p[2] is not None]
    secs = [r["seconds"] for ra, rb, _ in got for r in (ra, rb) if r and r.get("seconds")]
    child = statistics.median(secs) if secs else float("nan")
    return {"name": name, "cells": len(pairs), "spearman": spearman(a, b),
            "half": spearman([a[i] for i in half], [b[i] for i in half]),
            "seed_sd": (statistics.fmean([(x - y) ** 2 / 2 for x, y in zip(a, b)]) ** 0.5) if pairs else float("nan"),
            "spread": statistics.pstdev(mean) if mean else float("nan"),
            "lo": min(mean, default=float("nan")), "hi": max(mean, default=float("nan")),
            "longer": spearman([x for x, _ in longs], [y for _, y in longs]), "n_longer": len(longs),
            "child_s": child, "main_min": MAIN_TRIALS * child / MAIN_WORKERS / 60,
            "epochs": cfg.train.epochs, "val": cfg.val_size, "train": cfg.train_size,
            "filters": cfg.proxy.filters, "repeats": cfg.repeats}


def longer_cell(r: dict) -> str:
    return f"{r['longer']:.2f} (n={r['n_longer']})" if r["n_longer"] else "not run"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", type=int, default=30)
    ap.add_argument("--candidates", default="t500-r2,t500-r2-pbn",
                    help="comma-separated (--list); the default proxy's candidate is always added")
    ap.add_argument("--longer", type=int, default=4, help="also train each cell N times longer (1: skip)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--cache", default="runs/proxy_signal.json")
    ap.add_argument("--list", action="store_true", help="list the candidates and exit")
    ap.add_argument("--cached-only", action="store_true", help="train nothing: report what --cache holds")
    args = ap.parse_args()
    if args.list:
        for k, v in CANDIDATES.items():
            print(f"{k}: {({**BEFORE, **v})}{' (the default)' if k == default_candidate() else ''}")
        return 0
    default_name = default_candidate()
    names = [n for n in args.candidates.split(",") if n != "default"]
    names = names if default_name in names else [default_name, *names]
    unknown = [n for n in names if n not in CANDIDATES]
    if unknown:
        print(f"unknown candidates: {', '.join(unknown)}; known: {', '.join(CANDIDATES)}", file=sys.stderr)
        return 2
    cache_path = Path(args.cache)
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    cache = json.loads(cache_path.read_text()) if cache_path.exists() else {}
    decisions = cells(args.cells)
    rows = []
    pool = None if args.cached_only else \
        cf.ProcessPoolExecutor(args.workers, mp_context=worker_context(), initializer=die_with_parent,
                               initargs=(os.getpid(),))  # workers go when the script does, even on kill -9
    with pool or contextlib.nullcontext():
        for name in names:
            rows.append(measure(name, config_of(CANDIDATES[name]), decisions, args.longer, pool, args.threads,
                                cache, cache_path))
    print(f"\nup to {args.cells} random nasnet cells, 2 seeds each, on digits; {args.workers} workers x {args.threads} "
          f"thread(s); bars: spearman >= {BAR_ALL}, better half >= {BAR_HALF}, main job <= {BAR_MINUTES:g} min\n")
    print("| candidate | train / val / epochs / F / repeats | cells | spearman seeds | better half | seed sd | spread sd "
          f"(range) | vs {args.longer}x longer | child s | main job min |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['name']} | {r['train'] or 'all'} / {r['val'] or 'default'} / {r['epochs']} / {r['filters']} / "
              f"{r['repeats']} | "
              f"{r['cells']} | {r['spearman']:.2f} | {r['half']:.2f} | {r['seed_sd']:.4f} | {r['spread']:.4f} "
              f"({r['lo']:.3f}-{r['hi']:.3f}) | {longer_cell(r)} | {r['child_s']:.1f} | "
              f"{r['main_min']:.1f} |")
    default = next(r for r in rows if r["name"] == default_name)
    missed = []
    if not default["spearman"] >= BAR_ALL:
        missed.append(f"spearman over all cells {default['spearman']:.2f} < {BAR_ALL}")
    if not default["half"] >= BAR_HALF:
        missed.append(f"spearman within the better half {default['half']:.2f} < {BAR_HALF}")
    if not default["main_min"] <= BAR_MINUTES:
        missed.append(f"main job {default['main_min']:.1f} min > {BAR_MINUTES:g}")
    if default["cells"] < 30:
        missed.append(f"only {default['cells']} cells measured (the bar asks for 30)")
    print(f"\ndefault proxy ({default_name}): " + ("meets the bar" if not missed else "MISSES the bar: " + "; ".join(missed)))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
