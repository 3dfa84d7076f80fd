"""Test helpers for the NNI reference: find the NNI virtualenv, describe a network to NNI, run it.

NNI 3.0 runs in a virtualenv of its own (scripts/nni_env.sh: it pins filelock<3.12 and typeguard
<4.1.3); scripts/nni_reference.py builds the reference networks there and saves state_dicts and
logits, which the tests compare with ours in this interpreter.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import torch

from nasdsl.lang.convert import DARTS_NAMES
from nasdsl.lang.validate import output_states

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "nni_reference.py"


def nni_python() -> Path | None:
    """$NASDSL_NNI_PYTHON, else .venv-nni/bin/python, if it exists."""
    path = Path(os.environ.get("NASDSL_NNI_PYTHON") or ROOT / ".venv-nni" / "bin" / "python")
    return path if path.exists() else None


def genotype(cell) -> tuple[list[list], set[str]]:
    """A zoo cell as NNI's genotype pairs (DARTS numbering: 0 = h1, 1 = h0, 2.. = blocks) and the
    merge_ops that give its concat ('all' = every block in order, 'loose_end' = the blocks no block
    reads; both when no block reads another)."""
    index = {"h1": 0, "h0": 1} | {b.name: 2 + k for k, b in enumerate(cell.blocks)}
    pairs = []
    for b in cell.blocks:
        assert b.combine == "add" and len(b.branches) == 2, f"{cell.name}: NNI cells add two branches"
        pairs += [[DARTS_NAMES[br.op], index[br.input]] for br in b.branches]
    blocks = [b.name for b in cell.blocks]
    read = {br.input for b in cell.blocks for br in b.branches}
    out = list(output_states(cell))
    merges = {m for m, states in (("all", blocks), ("loose_end", [n for n in blocks if n not in read]))
              if out == states}
    assert merges, f"{cell.name}: concat {out} is neither all blocks nor the loose ends"
    return pairs, merges


def nni_spec(program, network: str, auxiliary: bool = False) -> dict:
    """The JSON spec scripts/nni_reference.py builds with NNI's NDS for one of our networks."""
    spec = program.network_spec(network)
    normal, merge = genotype(program.cells[spec.normal])
    reduce, merge_r = genotype(program.cells[spec.reduction])
    merges = merge & merge_r
    assert merges, f"{network}: NDS uses one merge_op for both cells"
    return {"normal": normal, "reduce": reduce, "merge_op": min(merges), "width": spec.filters,
            "num_cells": 3 * spec.n + 2, "dataset": spec.stem, "image": spec.image, "auxiliary": auxiliary}


def run_reference(python: Path, jobs: dict[str, str | dict], out_dir: Path) -> dict[str, dict]:
    """Build every job in NNI (a name like 'darts-v2' or a spec dict) in one run; name -> saved dict."""
    argv = [str(python), str(SCRIPT)]
    outs = {}
    for name, what in jobs.items():
        if isinstance(what, dict):
            path = out_dir / f"{name}.json"
            path.write_text(json.dumps(what))
            what = str(path)
        outs[name] = out_dir / f"{name}.pt"
        argv += [what, str(outs[name])]
    subprocess.run(argv, check=True, capture_output=True, text=True, timeout=600)
    return {name: torch.load(path, weights_only=True) for name, path in outs.items()}
