"""DARTS, first order, on its own space: the derived cell, its stand-alone reward, and whether it
collapsed to parameter-free ops (the known failure: Zela et al., ICLR 2020; DARTS+; P-DARTS).

For each `EPOCHS:ARCH_LR[:WARMUP]` in --settings and each seed in --seeds, `nasdsl search
--strategy darts --space darts --supernet-epochs EPOCHS --arch-lr ARCH_LR --arch-warmup WARMUP`
runs as the CLI runs it (`OneShot.run`: the supernet with its architecture weights, the derived
cell, that cell trained stand-alone as the run's trial). Printed per run:
  - the derived normal and reduction cells, and how many of each cell's 8 edges hold a
    parameter-free op (id, max3x3, avg3x3; `none` is never derived);
  - how far the architecture weights got from uniform: per edge the largest softmax weight
    (uniform: 1/8), and each op's mean weight over the normal cell's 14 edges (DARTS's collapse
    shows as `id` and the pools gaining there);
  - the run's own stand-alone reward of its cell, and the cell trained again with the
    --train-seeds seeds that every reference below gets too.
References on the same proxy and skeleton (DARTS's), trained with the same seeds as a search
trains a child: --random architectures drawn uniformly from the space (where do the derived cells
fall among them?), and the published DARTS V1 (found first order, as here) and V2 cells.

Collapse, as reported: the derived normal cell has at least half of its 8 edges parameter-free.
DARTS's published normal cells have 3 (V1) and 2 (V2); their reduction cells are pools and
identities (V1: 8 of 8), so a reduction cell of pools alone is what DARTS found, not a collapse.

No target: the table is the result, whichever way it comes out. Exits 1 only when a training
failed. Every search and training is kept in --json, so a stopped run continues where it stopped
(an entry is reused only with the settings it ran with).

    python studies/darts_cell.py [--settings 10:3e-4,50:3e-4,50:3e-3,20:3e-4:10,50:3e-4:15] [--seeds 0,1,2,3,4]
        [--train-seeds 2] [--random 20] [--json studies/results/darts_cell.json]
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import nasdsl  # noqa: E402
from nasdsl.lang.ops import OPS  # noqa: E402
from nasdsl.testing import int_list  # noqa: E402
from nasdsl_search.driver import SearchConfig  # noqa: E402
from nasdsl_search.oneshot import OneShot, OneShotConfig  # noqa: E402
from nasdsl_search.rewards import mann_whitney_greater  # noqa: E402
from nasdsl_search.space import cell_blocks, load_space, to_nas, zoo_cells_nas  # noqa: E402
from nasdsl_search.trial import run_trial, trial_payload  # noqa: E402

SPACE = "darts"
PARAMETER_FREE = {"identity", "zero", "avg", "max"}  # op families that hold no weights (at stride 1)
PUBLISHED = {"DARTS V1": ("darts_v1_normal", "darts_v1_reduce"), "DARTS V2": ("darts_v2_normal", "darts_v2_reduce")}
TRAIN_SEED0 = 500_000  # the --train-seeds trainings' seeds start here, apart from the searches' own


def setting_list(text: str) -> list[tuple[int, float, int]]:
    """argparse type of --settings: comma-separated EPOCHS:ARCH_LR[:WARMUP] (WARMUP default 0)."""
    out = []
    for s in text.split(","):
        e, lr, *warm = s.split(":")
        if len(warm) > 1:
            raise ValueError(s)
        out.append((int(e), float(lr), int(warm[0]) if warm else 0))
    return out


def parameter_free(ops: list[str]) -> int:
    return sum(OPS[op].family in PARAMETER_FREE for op in ops)


def derived_ops(space, decisions: tuple[int, ...], cell: str) -> list[str]:
    return [op for _, ops, _ in cell_blocks(space, decisions, cell) for op in ops]


def published_ops(cell: str) -> list[str]:
    program = nasdsl.load_text(f"import {cell}\n")
    return [b.op for block in program.cells[cell].blocks for b in block.branches]


def weights_summary(space, weights: dict) -> dict:
    """From softmax(alpha) per cell kind, block, input state, op: the largest weight per edge (mean
    and range) and each op's mean weight over the normal cell's edges."""
    out = {}
    for kind, blocks in weights.items():
        edges = [edge for block in blocks for edge in block]
        top = [max(e) for e in edges]
        out[kind] = {"edge_max_mean": statistics.fmean(top), "edge_max_range": [min(top), max(top)],
                     "op_mean": {op: statistics.fmean(e[i] for e in edges) for i, op in enumerate(space.ops)}}
    return out


def train(cfg: SearchConfig, nas: str, seeds: list[int]) -> list[float | None]:
    """`nas` trained as the search trains a child (repeats included), once per seed."""
    out = []
    for s in seeds:
        r = run_trial(trial_payload(cfg, {"id": s, "nas": nas, "decisions": [], "seed": s}, threads=1))
        if r["status"] != "done":
            print(f"  training failed (seed {s}): {r['error'].splitlines()[0]}", flush=True)
        out.append(r["reward"])
    return out


def search(cfg: SearchConfig, oc: OneShotConfig) -> dict:
    """One darts run as `nasdsl search` makes it; what it derived, scored and trained."""
    with tempfile.TemporaryDirectory() as tmp:
        run = OneShot(f"{tmp}/run", cfg, oc)
        try:
            summary = run.run(progress=False)
            weights = run.strategy.weights()
            trials = run.store.trials("done")
        finally:
            run.close()
    pick = summary.picks[0]
    return {"decisions": list(pick["decisions"]), "shared_accuracy": pick["shared_accuracy"],
            "reward": trials[0]["reward"] if trials else None, "seconds": summary.seconds, "weights": weights}


def mean(xs: list[float | None]) -> float | None:
    done = [x for x in xs if x is not None]
    return statistics.fmean(done) if done else None


def fmt(x: float | None) -> str:
    return "failed" if x is None else f"{x:.4f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--settings", type=setting_list, default="10:3e-4,50:3e-4,50:3e-3,20:3e-4:10,50:3e-4:15",
                    help="comma-separated EPOCHS:ARCH_LR[:WARMUP] (supernet epochs, DARTS's Adam lr on the "
                         "architecture weights, --arch-warmup epochs)")
    ap.add_argument("--seeds", type=int_list, default="0,1,2,3,4", help="search seeds")
    ap.add_argument("--train-seeds", type=int, default=2, help="trainings of every cell, derived and reference")
    ap.add_argument("--random", type=int, default=20, help="random architectures of the space as the reference")
    ap.add_argument("--json", help="keep every result here (and reuse what is there)")
    args = ap.parse_args()
    space = load_space(SPACE)
    cfg = replace(SearchConfig(), strategy="darts", space=SPACE)
    train_seeds = [TRAIN_SEED0 + i for i in range(args.train_seeds)]
    key = json.loads(json.dumps({"proxy": cfg.to_dict(), "train_seeds": train_seeds}))  # as the file holds it
    path = Path(args.json) if args.json else None
    kept = json.loads(path.read_text()) if path and path.exists() else {}
    out = kept if kept.get("key") == key else {"key": key}
    out.setdefault("searches", {})
    out.setdefault("cells", {})

    def save() -> None:
        if path:
            path.write_text(json.dumps(out, indent=1))

    def trained(name: str, nas: str) -> list[float | None]:
        if name not in out["cells"]:
            out["cells"][name] = train(cfg, nas, train_seeds)
            save()
        return out["cells"][name]

    proxy = cfg.proxy
    print(f"darts on the {SPACE} space, default proxy; every cell trained with {len(train_seeds)} seeds "
          f"({cfg.repeats} trainings of {cfg.train.epochs} epochs each)", flush=True)
    print("\nreferences:")
    for label, (normal, reduction) in PUBLISHED.items():
        r = trained(label, zoo_cells_nas(normal, reduction, proxy, "darts"))
        print(f"  {label:8s} reward {fmt(mean(r))} ({', '.join(map(fmt, r))}); parameter-free edges: normal "
              f"{parameter_free(published_ops(normal))} of 8, reduction {parameter_free(published_ops(reduction))} of 8",
              flush=True)
    rng = random.Random(17)
    randoms = []
    for i in range(args.random):
        a = tuple(rng.randrange(k) for k in space.sizes)
        randoms.append(mean(trained(f"random {i}", to_nas(space, a, proxy))))
    done = [r for r in randoms if r is not None]
    print(f"  {len(done)} random architectures: mean {statistics.fmean(done):.4f}, median "
          f"{statistics.median(done):.4f}, best {max(done):.4f}, worst {min(done):.4f}", flush=True)

    failed = any(r is None for rs in out["cells"].values() for r in rs)
    for epochs, arch_lr, warmup in args.settings:
        oc = OneShotConfig.for_strategy("darts", epochs=epochs, arch_lr=arch_lr, arch_warmup=warmup)
        warm = f", the first {warmup} the weights alone" if warmup else ""
        print(f"\ndarts, {epochs} supernet epochs{warm}, architecture lr {arch_lr:g}:", flush=True)
        derived_means = []
        for seed in args.seeds:
            name = f"{epochs}:{arch_lr:g}{f':{warmup}' if warmup else ''} seed {seed}"
            if name not in out["searches"]:
                t = time.time()
                out["searches"][name] = search(replace(cfg, seed=seed), oc)
                out["searches"][name]["wall"] = time.time() - t
                save()
            s = out["searches"][name]
            d = tuple(s["decisions"])
            again = trained(name, to_nas(space, d, proxy))
            failed |= s["reward"] is None or any(r is None for r in again)
            m = mean(again)
            derived_means.append(m)
            w = weights_summary(space, s["weights"])
            below = sum(r < m for r in done) if m is not None else 0
            normal, reduction = derived_ops(space, d, "normal"), derived_ops(space, d, "reduction")
            collapsed = parameter_free(normal) >= 4
            top_ops = sorted(w["normal"]["op_mean"].items(), key=lambda kv: -kv[1])[:3]
            print(f"  seed {seed}: {s['seconds']:.0f} s; normal {' '.join(normal)} ({parameter_free(normal)} of 8 "
                  f"parameter-free{', COLLAPSED' if collapsed else ''}); reduction {' '.join(reduction)} "
                  f"({parameter_free(reduction)} of 8)", flush=True)
            print(f"    largest softmax weight per edge: normal {w['normal']['edge_max_mean']:.4f} "
                  f"(range {w['normal']['edge_max_range'][0]:.4f}-{w['normal']['edge_max_range'][1]:.4f}; "
                  f"uniform {1 / len(space.ops):.4f}), reduction {w['reduction']['edge_max_mean']:.4f}; normal's "
                  f"heaviest ops {', '.join(f'{op} {v:.4f}' for op, v in top_ops)}", flush=True)
            print(f"    reward: the run's own {fmt(s['reward'])}; trained again {fmt(m)} "
                  f"({', '.join(map(fmt, again))}), above {below} of {len(done)} random architectures", flush=True)
        ms = [m for m in derived_means if m is not None]
        if ms:
            print(f"  derived cells' mean {statistics.fmean(ms):.4f} against the random architectures' "
                  f"{statistics.fmean(done):.4f}; one-sided Mann-Whitney p (derived > random) "
                  f"{mann_whitney_greater(ms, done):.3f}", flush=True)
    if failed:
        print("FAILED: a training did not finish; its figures are missing")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
