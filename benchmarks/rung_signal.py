"""How much does an early rung tell? The default proxy's accuracy after each epoch against the top rung's.

ASHA (`nasdsl search --scheduler asha`) stops a trial at a rung when its accuracy there is outside
the top 1/eta; that saves child-epochs only as far as an early accuracy ranks cells as the full
training does. Here N random cells of the nasnet space (the cells `proxy_signal.py` draws) are
trained as an ASHA trial is, through the search's own rung jobs (checkpoint after every epoch, the
schedule over the top rung's epochs, each child trained --repeats times), with a rung at every
epoch; printed per epoch:

  spearman vs top   rank correlation of the accuracies at that epoch with the top rung's
  best kept         whether the best cell at the top rung is in the top 1/eta at that epoch
  top-k kept        how many of the k best cells at the top rung are in the top 1/eta there
                    (k = N / eta^2: the cells a full ASHA run is meant to finish)

These are the cuts ASHA would make if every cell reached the rung at once (the asynchronous ones
are made on fewer cells, so they are noisier still). Target, at the search's bottom rung (--min-epochs
of `nasdsl search`, 1): a Spearman of at least --target (0.7) against the top rung, and the best cell
kept; the script exits 1 when either is missed or fewer than N cells finished.

    python benchmarks/rung_signal.py [--cells 30] [--reduction 3] [--workers 2] [--threads 1] [--json F]
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from proxy_signal import cells, payload  # noqa: E402

from nasdsl_search.driver import SearchConfig  # noqa: E402
from nasdsl_search.lifetime import die_with_parent, worker_context  # noqa: E402
from nasdsl_search.rewards import spearman  # noqa: E402
from nasdsl_search.trial import run_trial  # noqa: E402


def rung_jobs(cfg: SearchConfig, decisions: list[tuple[int, ...]], threads: int, folder: str) -> list[dict]:
    """One payload per cell, as proxy_signal.py trains its first seed, to which each epoch adds its
    "until_epoch" (a rung at every epoch)."""
    return [{**payload(cfg, d, 1000 + i, cfg.train.epochs, threads, cfg.repeats), "checkpoint": f"{folder}/cell{i}.pt"}
            for i, d in enumerate(decisions)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", type=int, default=30)
    ap.add_argument("--reduction", type=int, default=SearchConfig().reduction, help="ASHA's eta")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", help="write every cell's accuracies here")
    ap.add_argument("--target", type=float, default=0.7, help="least Spearman at the bottom rung")
    args = ap.parse_args()
    cfg = SearchConfig()  # the default proxy, as `nasdsl search` trains a child
    decisions = cells(args.cells)
    curves: dict[int, list] = {i: [] for i in range(len(decisions))}  # cell -> [(accuracy, seconds)] per epoch
    with tempfile.TemporaryDirectory(prefix="rung-signal-") as tmp, \
            cf.ProcessPoolExecutor(args.workers, mp_context=worker_context(), initializer=die_with_parent,
                                   initargs=(os.getpid(),)) as pool:  # workers go with the script, even on kill -9
        jobs = rung_jobs(cfg, decisions, args.threads, tmp)
        for epoch in range(1, cfg.train.epochs + 1):  # every cell on from its checkpoint, one epoch at a time
            alive = [i for i in curves if len(curves[i]) == epoch - 1]
            futures = {pool.submit(run_trial, {**jobs[i], "rung": epoch - 1, "until_epoch": epoch}): i for i in alive}
            for fut in cf.as_completed(futures):
                r = fut.result()
                if r["status"] == "done":
                    curves[futures[fut]].append((r["reward"], r["seconds"]))
                else:
                    print(f"  cell {futures[fut]} failed at epoch {epoch}: {r['error']}", file=sys.stderr, flush=True)
            print(f"  epoch {epoch}: {len(alive)} cells", file=sys.stderr, flush=True)
    curves = {i: c for i, c in curves.items() if len(c) == cfg.train.epochs}
    ids = sorted(curves)
    epochs = cfg.train.epochs
    top = [curves[i][-1][0] for i in ids]
    eta = args.reduction
    k = max(1, len(ids) // eta ** 2)
    best_k = set(sorted(range(len(ids)), key=lambda j: -top[j])[:k])
    print(f"\n{len(ids)} random nasnet cells on the default proxy ({cfg.dataset}, {cfg.val_size} images held out, "
          f"{cfg.repeats} trainings a child, schedule over {epochs} epochs); eta {eta}: the top "
          f"{len(ids) // eta} of {len(ids)} pass a cut; top-k: the {k} best at epoch {epochs}\n")
    print("| epoch | spearman vs top | best kept | top-k kept | accuracy range | s per cell-epoch |")
    print("|---|---|---|---|---|---|")
    best = max(range(len(ids)), key=lambda j: top[j])
    rows = []  # (spearman, best kept) per epoch
    for e in range(epochs):
        acc = [curves[i][e][0] for i in ids]
        passed = set(sorted(range(len(ids)), key=lambda j: -acc[j])[:len(ids) // eta])
        secs = sorted(curves[i][e][1] for i in ids)[len(ids) // 2]
        rows.append((spearman(acc, top), best in passed))
        print(f"| {e + 1} | {rows[-1][0]:.2f} | {'yes' if best in passed else 'no'} | "
              f"{len(best_k & passed)} of {k} | {min(acc):.3f}-{max(acc):.3f} | {secs:.2f} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"cells": {i: curves[i] for i in ids}, "reduction": eta}, indent=1))
    missed = [f"only {len(ids)} of {args.cells} cells finished"] if len(ids) < args.cells else []
    bottom = SearchConfig().min_epochs
    rho, kept = rows[bottom - 1] if ids else (float("nan"), False)
    if not rho >= args.target:
        missed.append(f"spearman at epoch {bottom} (the bottom rung) {rho:.2f} < {args.target:g}")
    if not kept:
        missed.append(f"the best cell is cut at epoch {bottom} (the bottom rung)")
    print(f"\ntarget at the bottom rung (epoch {bottom}): spearman >= {args.target:g} and the best cell kept: "
          + ("met" if not missed else "MISSED: " + "; ".join(missed)))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
