"""Training throughput of our compiled NASNet-A Mobile vs Cadene's `nasnetamobile`, side by side.

One training step = forward (train mode: batch statistics, dropout), cross-entropy, backward and
an SGD-with-momentum step, on the same random batch and labels, with the same weights (Cadene's
random init converted onto ours, so both are the same function: checked by comparing the first
step's loss, which must agree to 1e-4). No downloads: `pretrained=None`.

Ours is timed as compiled and with what is fair in training: the optimization passes (`cse`: one
pooling computed once instead of twice) and channels_last memory layout. Batch norms cannot be
folded in training. Cadene's model is also timed in channels_last, for information: the target
compares with Cadene's model as published (contiguous).

Configurations are timed round-robin (each round: `--steps` steps of each), the median per-step
time over rounds is reported with images/s. Exits 1 when the best of ours takes more than
`--max-ratio` (0.8) times Cadene's step time, or when the losses disagree.

Usage: python benchmarks/bench_train.py [--batch 8] [--rounds 5] [--steps 2] [--threads N]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import nasdsl  # noqa: E402
from nasdsl.weights.reference import convert  # noqa: E402

IMAGE = 224  # Cadene's nasnetamobile ends in a fixed 7x7 average pool: 224 px only


def models() -> dict[str, tuple[torch.nn.Module, bool]]:
    """name -> (model in train mode, channels_last), all with the same weights."""
    import pretrainedmodels

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = pretrainedmodels.nasnetamobile(num_classes=1000, pretrained=None)
    state = convert(ref.state_dict(), nasdsl.compile("nasnet_a_mobile", aux_head=False).state_dict(), "cadene")
    out: dict[str, tuple[torch.nn.Module, bool]] = {"cadene": (ref, False)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref_cl = pretrainedmodels.nasnetamobile(num_classes=1000, pretrained=None)
    ref_cl.load_state_dict(ref.state_dict())
    out["cadene channels_last (info)"] = (ref_cl.to(memory_format=torch.channels_last), True)
    for name, passes, cl in [("ours", None, False), ("ours cse", "cse", False),
                             ("ours cse+channels_last", "cse", True)]:
        m = nasdsl.compile("nasnet_a_mobile", passes=passes, aux_head=False)
        m.load_state_dict(state)
        out[name] = (m.to(memory_format=torch.channels_last) if cl else m, cl)
    for m, _ in out.values():
        m.train()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=5, help="timed rounds (median over them)")
    ap.add_argument("--steps", type=int, default=2, help="training steps per configuration per round")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--max-ratio", type=float, default=0.8, help="fail when best-of-ours/cadene step time exceeds this")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {args.threads} threads, batch {args.batch}, {IMAGE}x{IMAGE}, "
          f"{args.rounds} rounds x {args.steps} steps", file=sys.stderr)
    nets = models()
    g = torch.Generator().manual_seed(1)
    x = torch.randn(args.batch, 3, IMAGE, IMAGE, generator=g)
    y = torch.randint(0, 1000, (args.batch,), generator=g)
    inputs = {k: x.contiguous(memory_format=torch.channels_last) if cl else x for k, (_, cl) in nets.items()}
    opts = {k: torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9, weight_decay=4e-5) for k, (m, _) in nets.items()}

    def step(k: str) -> float:
        m = nets[k][0]
        torch.manual_seed(7)  # the same dropout mask in every model on the first step
        loss = F.cross_entropy(m(inputs[k]), y)
        opts[k].zero_grad(set_to_none=True)
        loss.backward()
        opts[k].step()
        return loss.item()

    failed = []
    first = {k: step(k) for k in nets}  # also the warm-up
    for k, v in first.items():
        if abs(v - first["cadene"]) > 1e-4 * max(1.0, abs(first["cadene"])):
            failed.append(f"{k}: first-step loss {v:.6f} vs Cadene's {first['cadene']:.6f}")
    times: dict[str, list[float]] = {k: [] for k in nets}
    for _ in range(args.rounds):
        for k in nets:
            t = time.perf_counter()
            for _ in range(args.steps):
                step(k)
            times[k].append((time.perf_counter() - t) / args.steps)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"\ntraining step, NASNet-A Mobile {IMAGE}x{IMAGE}, batch {args.batch} "
          f"(forward + backward + SGD step; median of {args.rounds} rounds)")
    print(f"  {'model':<30}{'ms/step':>10}{'images/s':>10}{'vs cadene':>11}{'first loss':>12}")
    for k, t in med.items():
        print(f"  {k:<30}{t * 1e3:>10.1f}{args.batch / t:>10.2f}{t / med['cadene']:>11.3f}{first[k]:>12.6f}")
    ours = [k for k in nets if k.startswith("ours")]
    best = min(ours, key=med.get)
    ratio = med[best] / med["cadene"]
    print(f"  best of ours = {best}: {ratio:.3f} x Cadene's step time (target <= {args.max_ratio})")
    if ratio > args.max_ratio:
        failed.append(f"best ratio {ratio:.3f} > {args.max_ratio}")
    for f in failed:
        print(f"FAIL: {f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
