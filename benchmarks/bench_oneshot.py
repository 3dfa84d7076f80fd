"""What a one-shot run pays for sharing: the supernet against the children it holds, and its checkpoints.

On the default proxy (the enas space, random-ws's supernet, one thread), side by side in one run:
1. A shared-weight score, as the ranking scores an architecture (`eval_images` held-out images,
   batch-statistics BN, channels_last), against the same child compiled stand-alone, forward on
   the same images in the same layout with its own copy of the weights. The supernet pays for
   choosing the path and for cutting its readers' weights to the child's channels. Target: median
   ratio <= --max-score-ratio.
2. A supernet training step of one child (forward, backward, gradient clipping, SGD over all
   shared weights) against the compiled child's step on the same minibatch. Target: median ratio
   <= --max-step-ratio.
3. Checkpoints: random-ws's supernet trained --epochs epochs three ways from the same seed (the
   same steps): checkpointed as a run does (spaced by their cost, search/oneshot.py), after every
   epoch (as before 2026-12-05), and after the first and last epoch only (the least a resumable run
   writes); each prints the share of its wall time spent outside the epochs (the epochs' own
   seconds are in the store). Target: the run's spacing at most --max-checkpoint-share.
Architectures and rounds are timed round-robin, so load from other processes spreads over both
sides. Exits 1 when a target is missed, or when a compiled child's logits differ from its path in
the supernet by over 1e-4 (the comparison would time different networks).

    python benchmarks/bench_oneshot.py [--archs 10] [--rounds 5] [--epochs 20] [--seed 0]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import replace

import torch
import torch.nn.functional as F

import nasdsl
from nasdsl_search import oneshot_store as os_store
from nasdsl_search.driver import SearchConfig
from nasdsl_search.oneshot import SCORE_BATCH, OneShot, OneShotConfig
from nasdsl_search.space import to_nas

CL = torch.channels_last


def _timed(fn, *args, **kwargs) -> float:
    t = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - t


def _child(run: OneShot, arch) -> torch.nn.Module:
    """The stand-alone compiled child of `arch`, holding the supernet's weights of its path."""
    model = nasdsl.compile(to_nas(run.space, arch, run.proxy), network="proxy", num_classes=run.proxy.classes)
    model.load_state_dict(run.net.child_state_dict(arch))
    return model.to(memory_format=CL).train()


def paths_vs_children(run: OneShot, archs: list, rounds: int) -> tuple[list[float], list[float]]:
    """Per architecture: median score ratio and median training-step ratio, supernet over child."""
    o = run.oneshot
    n = min(o.eval_images, len(run.v_y))
    vx, vy = run.v_x[:n], run.v_y[:n]
    xb, yb = run._xy(run.w_x, run.w_y, torch.arange(run.config.train.batch_size), augment=False)
    children = [_child(run, a) for a in archs]
    with torch.no_grad():
        for a, child in zip(archs, children):
            run._train_mode()
            diff = (run.net(xb, arch=a) - child(xb)).abs().max().item()
            if diff > 1e-4:
                raise SystemExit(f"arch {a}: the compiled child differs from its supernet path by {diff:.2e}")

    @torch.no_grad()
    def child_score(child):
        correct = 0
        for i in range(0, n, SCORE_BATCH):  # as shared_accuracy scores
            correct += int((child(run._images(vx[i:i + SCORE_BATCH])).argmax(1) == vy[i:i + SCORE_BATCH]).sum())
        return correct / n

    def child_step(child, opt):
        loss = F.cross_entropy(child(xb), yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(child.parameters(), o.grad_clip)
        opt.step()

    opts = [torch.optim.SGD(c.parameters(), lr=o.lr, momentum=o.momentum, weight_decay=o.weight_decay) for c in children]
    score = [([], []) for _ in archs]  # per architecture: (supernet seconds, child seconds)
    step = [([], []) for _ in archs]
    for r in range(rounds + 1):  # round 0 warms up every path
        for i, (a, child) in enumerate(zip(archs, children)):
            s = (_timed(run.shared_accuracy, a, vx, vy), _timed(child_score, child))
            t = (_timed(run._weight_step, xb, yb, 10**6, arch=a), _timed(child_step, child, opts[i]))
            if r:
                for k in (0, 1):
                    score[i][k].append(s[k])
                    step[i][k].append(t[k])
    return ([statistics.median(s) / statistics.median(c) for s, c in score],
            [statistics.median(s) / statistics.median(c) for s, c in step])


def checkpoint_share(cfg: SearchConfig, epochs: int, ratio: float | None) -> tuple[float, float]:
    """random-ws's supernet over `epochs` with checkpoints spaced by `ratio` (None: after the first
    and last epoch only): its wall time, and the share of it spent outside the epochs (checkpoints)."""
    with tempfile.TemporaryDirectory() as tmp:
        run = OneShot(f"{tmp}/run", cfg, OneShotConfig.for_strategy("random-ws", epochs=epochs))
        try:
            # None: a ratio so large that only the first epoch (after no cost yet: 0 x it) and the last
            # checkpoint; inf would make inf x 0 = nan there and leave out the first (mislabelled before)
            run.checkpoint_ratio = 1e300 if ratio is None else ratio
            wall = _timed(run.train_supernet)
            trained = sum(e["seconds"] for e in os_store.epochs(run.store))
            return wall, (wall - trained) / wall
        finally:
            run.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--archs", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=20, help="supernet epochs of the checkpoint runs (random-ws's default)")
    ap.add_argument("--checkpoint-rounds", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-score-ratio", type=float, default=1.25)
    ap.add_argument("--max-step-ratio", type=float, default=1.25)
    ap.add_argument("--max-checkpoint-share", type=float, default=0.10)
    args = ap.parse_args()
    torch.set_num_threads(1)
    cfg = replace(SearchConfig(), space="enas", strategy="random-ws", seed=args.seed)
    missed = []

    with tempfile.TemporaryDirectory() as tmp:
        run = OneShot(f"{tmp}/run", cfg, OneShotConfig.for_strategy("random-ws", epochs=1))
        try:
            run.train_supernet()  # weights and BN statistics away from their initial values
            archs = [run.strategy.random_decisions() for _ in range(args.archs)]
            scores, steps = paths_vs_children(run, archs, args.rounds)
        finally:
            run.close()
    for what, ratios, limit in (("shared-weight score", scores, args.max_score_ratio),
                                ("training step", steps, args.max_step_ratio)):
        med = statistics.median(ratios)
        ok = med <= limit
        print(f"{what:20s} supernet / compiled child: median {med:.2f}x over {len(ratios)} architectures "
              f"(range {min(ratios):.2f}-{max(ratios):.2f}x); target <= {limit:.2f}x: {'met' if ok else 'MISSED'}")
        if not ok:
            missed.append(what)

    runs = {"spaced (the run's)": OneShot.checkpoint_ratio, "after every epoch": 0.0, "first and last only": None}
    measured: dict[str, list[tuple[float, float]]] = {k: [] for k in runs}
    for _ in range(args.checkpoint_rounds):
        for name, ratio in runs.items():
            measured[name].append(checkpoint_share(cfg, args.epochs, ratio))
    for name, ms in measured.items():
        print(f"supernet, {args.epochs} epochs, checkpoints {name:20s} median wall {statistics.median(w for w, _ in ms):5.2f} s, "
              f"outside the epochs {statistics.median(s for _, s in ms):6.1%} ({', '.join(f'{s:.1%}' for _, s in ms)})")
    share = statistics.median(s for _, s in measured["spaced (the run's)"])
    ok = share <= args.max_checkpoint_share
    print(f"checkpoints as a run spaces them: {share:.1%} of the supernet's time; target <= "
          f"{args.max_checkpoint_share:.0%}: {'met' if ok else 'MISSED'}")
    if not ok:
        missed.append("checkpoints")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
