"""Deployment speed: our NASNet-A Mobile .onnx vs Cadene's nasnetamobile through torch.onnx, both
under onnxruntime, plus onnxruntime vs PyTorch eager; batch 1 and 16; medians and ratios.

Usage: python benchmarks/bench_onnx.py [--repeats 10] [--threads N] [--max-ratio 0.85]

Both networks get random weights (speed does not depend on them). Every timed configuration is run
once per round, round-robin, so that load from other processes spreads evenly over them. Exits 1
when our latency exceeds --max-ratio (0.85, the target) of the reference under the default settings
(dynamo exporter, onnxruntime ORT_ENABLE_ALL), or when an onnxruntime output drifts from eager
PyTorch by more than 1e-4.
"""
from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
import warnings
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nasdsl.deploy.export import export_onnx, fused, onnx_proto, prepare

# our graph with fewer export-time passes than the default (slice-into-conv, pad-channels)
PASS_VARIANTS = {"no-graph-passes": (), "slice-into-conv only": ("slice-into-conv",),
                 "pad-channels only": ("pad-channels",)}

LEVELS = {"none": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
          "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
          "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
          "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL}


def cadene_mobile() -> torch.nn.Module:
    import pretrainedmodels

    return pretrainedmodels.nasnetamobile(num_classes=1000, pretrained=None).eval()


def export_variants(name: str, module: torch.nn.Module, folder: Path, ours_card=None) -> dict[str, Path]:
    """The graphs compared: torch.onnx dynamo with and without its onnxscript optimizer, and the
    TorchScript exporter (which folds BN into the preceding conv at export time)."""
    x = torch.randn(2, 3, 224, 224)
    out = {}
    with warnings.catch_warnings(), redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        t = time.perf_counter()
        if ours_card is not None:  # the product path: nasdsl export (dynamo + optimizer + metadata)
            out["dynamo"] = export_onnx(module, ours_card, folder / f"{name}_dynamo.onnx")
        else:  # the reference the way a user would export it: torch.onnx defaults
            onnx.save(onnx_proto(module, x, 18), str(folder / f"{name}_dynamo.onnx"))
            out["dynamo"] = folder / f"{name}_dynamo.onnx"
        print(f"  {name}: dynamo export {time.perf_counter() - t:.1f} s", file=sys.stderr)
        if ours_card is not None:  # what each export-time graph pass gains: the graph without them
            for label, passes in PASS_VARIANTS.items():
                path = folder / f"{name}_{label}.onnx"
                out[label] = export_onnx(module, ours_card, path, graph_passes=passes)
        if ours_card is not None:  # the other variants export our graph as nasdsl does: BN folded
            module = fused(module)
        onnx.save(onnx_proto(module, x, 18, optimize=False), str(folder / f"{name}_dynamo_noopt.onnx"))
        out["dynamo-noopt"] = folder / f"{name}_dynamo_noopt.onnx"
        onnx.save(onnx_proto(module, x, 17, "torchscript"), str(folder / f"{name}_torchscript.onnx"))
        out["torchscript"] = folder / f"{name}_torchscript.onnx"
    return out


def session(path: Path, level: str, threads: int) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.graph_optimization_level = LEVELS[level]
    opts.intra_op_num_threads = threads
    # no busy-waiting after a run: spinning threads would steal the cores of whatever runs next
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def node_count(path: Path) -> int:
    return len(onnx.load(str(path), load_external_data=False).graph.node)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=10, help="timed rounds per configuration")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--batches", default="1,16")
    ap.add_argument("--max-ratio", type=float, default=0.85,
                    help="fail when ours/reference (default settings) exceeds this")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    batches = [int(b) for b in args.batches.split(",")]

    print(f"torch {torch.__version__}, onnxruntime {ort.__version__}, {args.threads} threads, "
          f"{args.repeats} rounds, medians in ms", file=sys.stderr)
    ours, card = prepare("nasnet_a_mobile")
    ref = cadene_mobile()
    tmp = Path(tempfile.mkdtemp(prefix="bench_onnx_"))
    graphs = {"ours": export_variants("ours", ours, tmp, card), "cadene": export_variants("cadene", ref, tmp)}

    # (model, graph, onnxruntime level) or (model, "eager", "")
    configs = [(m, "dynamo", lvl) for m in graphs for lvl in ("none", "basic", "extended", "all")]
    configs += [(m, g, "all") for m in graphs for g in ("dynamo-noopt", "torchscript")]
    configs += [("ours", g, "all") for g in PASS_VARIANTS]
    configs += [(m, "eager", "") for m in graphs]
    eager = {"ours": ours, "cadene": ref}
    runners = {}
    for m, g, lvl in configs:
        if g == "eager":
            runners[(m, g, lvl)] = lambda x, mod=eager[m]: mod(torch.from_numpy(x)).numpy()
        else:
            s = session(graphs[m][g], lvl, args.threads)
            name = s.get_inputs()[0].name
            runners[(m, g, lvl)] = lambda x, s=s, name=name: s.run(None, {name: x})[0]

    failed = []
    results: dict[tuple, float] = {}
    with torch.inference_mode():
        for b in batches:
            x = np.random.default_rng(b).standard_normal((b, 3, 224, 224)).astype(np.float32)
            expect = {m: eager[m](torch.from_numpy(x)).numpy() for m in eager}
            for key, run in runners.items():  # warm up, and check every graph computes the same
                diff = float(np.abs(run(x) - expect[key[0]]).max())
                if diff > 1e-4:
                    failed.append(f"{key} batch {b}: max abs diff {diff:.2g} vs eager")
                run(x)
            times: dict[tuple, list[float]] = {k: [] for k in runners}
            for _ in range(args.repeats):
                for key, run in runners.items():
                    t = time.perf_counter()
                    run(x)
                    times[key].append(time.perf_counter() - t)
            for key, ts in times.items():
                results[key + (b,)] = statistics.median(ts) * 1000

    def ms(m, g, lvl, b):
        return results[(m, g, lvl, b)]

    nodes = {(m, g): node_count(p) for m in graphs for g, p in graphs[m].items()}
    hdr = "".join(f"{'b=' + str(b) + ' ms':>11}{'vs ref':>8}" for b in batches)
    print(f"\n{'configuration':<44}{'nodes':>6}{hdr}")
    for m, g, lvl in configs:
        row = f"{m + ' ' + (g if g == 'eager' else f'{g}, ort {lvl}'):<44}"
        row += f"{nodes.get((m, g), ''):>6}"
        for b in batches:
            # ratio against the reference under the same settings
            ref = ms("cadene", g if g in graphs["cadene"] or g == "eager" else "dynamo", lvl, b)
            row += f"{ms(m, g, lvl, b):>11.2f}{ms(m, g, lvl, b) / ref:>8.3f}"
        print(row)

    print("\nsummary (default settings: dynamo exporter, ORT_ENABLE_ALL)")
    for b in batches:
        ratio = ms("ours", "dynamo", "all", b) / ms("cadene", "dynamo", "all", b)
        best = min(((g, lvl) for m, g, lvl in configs if m == "ours" and g != "eager"),
                   key=lambda k: ms("ours", k[0], k[1], b))
        print(f"  batch {b:>2}: ours/cadene onnxruntime {ratio:.3f} (target <= {args.max_ratio}); "
              f"ours onnxruntime/eager {ms('ours', 'dynamo', 'all', b) / ms('ours', 'eager', '', b):.3f}; "
              f"cadene onnxruntime/eager {ms('cadene', 'dynamo', 'all', b) / ms('cadene', 'eager', '', b):.3f}; "
              f"fastest of ours: {best[0]}, ort {best[1]} ({ms('ours', *best, b):.2f} ms)")
        if ratio > args.max_ratio:
            failed.append(f"batch {b}: ours/cadene {ratio:.3f} > {args.max_ratio}")
    for f in failed:
        print(f"FAIL: {f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
