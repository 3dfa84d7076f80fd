"""Back-end speed, side by side with the references in one run; medians and ratios.

1. Compile time, .nas text to nn.Module: `nasdsl.compile('nasnet_a_large')` (parse, validate,
   passes, codegen, exec, module construction) vs `timm.create_model('nasnetalarge')`.
2. Eager CPU inference of the generated NASNet-A Mobile vs Cadene's `nasnetamobile`, batch 1 and 16.
   Ours is timed as compiled (plain) and with the inference options a user turns on: the
   optimization passes (cse: NASNet-A's normal block 3 pools one state twice), batch norms folded
   into their convolutions (`fuse()`), channels_last memory layout, and the lanes pass with
   `lanes()` on (each cell's h1 side on a second thread, started one cell early; it runs with one
   intra-op thread, so it uses two cores like the others at --threads 2). Cadene's module is timed in channels_last too,
   at --threads and at one thread; the 0.8 target is against the faster of the two. Every variant's logits
   are checked against Cadene's on the same weights (max abs diff <= 1e-4), so a fast but wrong
   variant fails the run.

Usage: python benchmarks/bench_eager.py [--repeats 15] [--threads N] [--max-ratio 0.6] [--max-ratio-cl 0.8]

Configurations are timed round-robin, one call each per round, so load from other processes
spreads evenly over them. Exits 1 when a variant's logits drift, or when the best of ours is
slower than --max-ratio times Cadene's latency, or --max-ratio-cl times Cadene's in channels_last,
at some batch size.
"""
from __future__ import annotations

import argparse
import copy
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import nasdsl  # noqa: E402
from nasdsl.testing import randomize_bn  # noqa: E402
from nasdsl.weights.reference import convert  # noqa: E402


def median_s(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def bench_compile(repeats: int) -> None:
    import timm

    def ours():
        return nasdsl.compile("nasnet_a_large", aux_head=False)

    def ref():
        return timm.create_model("nasnetalarge", pretrained=False)

    first = median_s(ours, 1)  # builds the grammar and parses the zoo once per process
    rows = {"nasdsl.compile(nasnet_a_large)": median_s(ours, repeats),
            "timm.create_model(nasnetalarge)": median_s(ref, repeats)}
    print(f"\ncompile, text to module ({repeats} runs, median; the first nasdsl call took {first:.2f} s)")
    for k, t in rows.items():
        print(f"  {k:<44}{t:>8.2f} s")
    ours_s, ref_s = rows.values()
    print(f"  ratio ours/timm {ours_s / ref_s:.2f}  (both build and initialize NASNet-A Large)")


CHANNELS_LAST_TARGET = 0.8  # best of ours vs Cadene in channels_last too (issue 15)


def variants(ref: torch.nn.Module, threads: int) -> dict[str, tuple[torch.nn.Module, int]]:
    """Cadene's model and ours with the same weights, plain and with the inference options, each
    with the intra-op thread count it runs with."""
    state = convert(ref.state_dict(), nasdsl.compile("nasnet_a_mobile", aux_head=False).state_dict(), "cadene")
    cadene_cl = copy.deepcopy(ref).to(memory_format=torch.channels_last)
    out = {"cadene": (ref, threads), "cadene channels_last": (cadene_cl, threads)}
    if threads > 1:
        out["cadene channels_last, 1 thread"] = (cadene_cl, 1)
    for name, passes, fuse, cl in [("ours", None, False, False),
                                   ("ours cse", "cse", False, False),
                                   ("ours cse+fuse", "cse", True, False),
                                   ("ours cse+fuse+channels_last", "cse", True, True),
                                   ("ours cse+lanes+fuse+channels_last", "cse,lanes", True, True)]:
        m = nasdsl.compile("nasnet_a_mobile", passes=passes, aux_head=False)
        m.load_state_dict(state)
        m.eval()
        if fuse:
            m.fuse()
        if cl:
            m = m.to(memory_format=torch.channels_last)
        if "lanes" in name:  # two threads: the caller and the lane, one intra-op thread each
            out[name] = (m.lanes(), max(1, threads - 1))
        else:
            out[name] = (m, threads)
    return out


def bench_eager(repeats: int, batches: list[int], max_ratio: float, max_ratio_cl: float) -> list[str]:
    import pretrainedmodels

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = randomize_bn(pretrainedmodels.nasnetamobile(num_classes=1000, pretrained=None)).eval()
    models = variants(ref, torch.get_num_threads())
    failed = []
    print(f"\neager inference, NASNet-A Mobile 224x224 ({repeats} rounds, median ms)")
    print(f"  {'model':<36}" + "".join(f"{'b=' + str(b) + ' ms':>11}{'vs cadene':>11}" for b in batches)
          + f"{'max |diff|':>12}")
    rows: dict[str, list[float]] = {k: [] for k in models}
    diffs: dict[str, float] = {k: 0.0 for k in models}
    scales = []  # the reference logits' std per batch
    with torch.inference_mode():
        for b in batches:
            x = torch.randn(b, 3, 224, 224, generator=torch.Generator().manual_seed(b))
            xs = {k: (x.contiguous(memory_format=torch.channels_last) if "channels_last" in k else x)
                  for k in models}
            expect = ref(x)
            scale = expect.std().item()  # the logits are far from zero: the diff check can fail
            scales.append(scale)
            if scale < 1e-2:
                failed.append(f"batch {b}: reference logits std {scale:.2g}, too small to compare")
            for k, (m, threads) in models.items():  # warm up; check the logits
                torch.set_num_threads(threads)
                diffs[k] = max(diffs[k], (m(xs[k]) - expect).abs().max().item())
                m(xs[k])
            times: dict[str, list[float]] = {k: [] for k in models}
            for _ in range(repeats):
                for k, (m, threads) in models.items():
                    torch.set_num_threads(threads)
                    t = time.perf_counter()
                    m(xs[k])
                    times[k].append(time.perf_counter() - t)
            for k in models:
                rows[k].append(statistics.median(times[k]) * 1e3)
    print(f"  (reference logits std {min(scales):.3f}-{max(scales):.3f} over the batches)")
    for k, ms in rows.items():
        line = f"  {k:<36}" + "".join(f"{t:>11.2f}{t / c:>11.3f}" for t, c in zip(ms, rows["cadene"]))
        print(line + f"{diffs[k]:>12.1e}")
        if diffs[k] > 1e-4:
            failed.append(f"{k}: logits differ from Cadene's by {diffs[k]:.2g}")
    for i, b in enumerate(batches):
        best = min((k for k in models if k.startswith("ours")), key=lambda k: rows[k][i])
        fastest_cl = min((k for k in models if k.startswith("cadene channels_last")), key=lambda k: rows[k][i])
        for ref_name, target in (("cadene", max_ratio), (fastest_cl, max_ratio_cl)):
            ratio = rows[best][i] / rows[ref_name][i]
            print(f"  batch {b:>2}: best of ours = {best}, {ratio:.3f} x {ref_name} (target <= {target})")
            if ratio > target:
                failed.append(f"batch {b}: best ratio {ratio:.3f} vs {ref_name} > {target}")
    return failed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=15, help="timed rounds per eager configuration")
    ap.add_argument("--compile-repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--batches", default="1,16")
    ap.add_argument("--max-ratio", type=float, default=0.6, help="fail when best-of-ours/cadene exceeds this")
    ap.add_argument("--max-ratio-cl", type=float, default=CHANNELS_LAST_TARGET,
                    help="fail when best-of-ours / cadene in channels_last exceeds this")
    ap.add_argument("--skip-compile", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {args.threads} threads", file=sys.stderr)
    if not args.skip_compile:
        bench_compile(args.compile_repeats)
    failed = bench_eager(args.repeats, [int(b) for b in args.batches.split(",")], args.max_ratio, args.max_ratio_cl)
    for f in failed:
        print(f"FAIL: {f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
