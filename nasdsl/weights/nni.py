"""Map an NNI 3.0 DARTS-family state_dict (`nni.nas.hub.pytorch` DARTS / NDS models) onto ours.

NNI names modules by position: `stem.{0,1}` (CIFAR) or `stem0.{0,1,3,4}` + `stem1.{1,2}`
(ImageNet), `stages.{s}.{j}` for the j-th cell of stage s, inside a cell `preprocessor.pre0`
(DARTS input 0, the cell input two back: our h1, `conv_prev_1x1`), `preprocessor.pre1` (our h0,
`conv_1x1`) and `ops.{node}.{k}` (the k-th edge of node `node`: our `comb_iter_{node}_{left|right}`,
so the cell's blocks must list their branches in genotype order, as the zoo does), `classifier`
(`last_linear`) and `auxiliary_head.{features.{2,3,5,6},classifier}`. With drop path on, NNI wraps
an op as `Sequential(op, DropPath)`, which adds a `0.` to its keys.

Cells pair up in forward order; inside a module (an op, a preprocessor, a stem conv) the tensors
pair up in registration order, which both sides share (conv, then BN weight, bias, running mean,
running var, count), and every pair must have the same shape (and floats for our floats). Anything
left over on either side is a NasError naming the keys.
"""
from __future__ import annotations

import re
from collections.abc import Mapping

import torch

from ..errors import NasError
from ..naming import OP_ATTR, op_attr
from .mapping import cannot_map, fill_problem

_CELL = re.compile(r"^stages\.(\d+)\.(\d+)\.(.+)$")
_OP = re.compile(r"^ops\.(\d+)\.(\d+)\.(.+)$")
_PRE = {"preprocessor.pre0": "conv_prev_1x1", "preprocessor.pre1": "conv_1x1"}


def _nni_part(key: str) -> tuple[tuple, str]:
    """(sort key of the NNI module a tensor belongs to, our module path) for one NNI key."""
    m = _CELL.match(key)
    if m:
        stage, j, rest = int(m[1]), int(m[2]), m[3]
        for pre, ours in _PRE.items():
            if rest.startswith(pre + "."):
                return (1, stage, j, 0, pre), ours
        op = _OP.match(rest)
        if op:
            node, k = int(op[1]), int(op[2])
            return (1, stage, j, 1, node, k), op_attr(node, k)
        raise NasError(f"NNI key {key!r}: not a preprocessor or an op of a cell")
    top = key.split(".", 1)[0]
    if top in ("stem", "stem0", "stem1"):
        # one module per conv (+ BN): stem.0/1, stem0.0/1 and stem0.3/4, stem1.1/2
        index = int(key.split(".")[1])
        conv = {"stem": 0, "stem0": 0 if index < 3 else 1, "stem1": 2}[top]
        return (0, conv), ""
    if top == "classifier":
        return (3,), "last_linear"
    if top == "auxiliary_head":
        return (2,), "aux_head"
    raise NasError(f"NNI key {key!r}: unknown module {top!r}")


def _our_part(key: str) -> tuple[str, str]:
    """(the top-level cell/stem/head, our module path inside it used for pairing) of one key."""
    top, _, rest = key.partition(".")
    m = re.match(rf"^(conv_1x1|conv_prev_1x1|{OP_ATTR.pattern})\.", rest)
    return top, (m[1] if m else "")


def convert_nni(reference: Mapping[str, torch.Tensor], ours: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename an NNI DARTS-family state_dict onto the keys of `ours` (our network's state_dict).
    An aux head is converted when `ours` has one; otherwise NNI's is left out."""
    if reference and all(k.startswith("module.") for k in reference):  # saved from DataParallel
        reference = {k[len("module."):]: v for k, v in reference.items()}
    has_aux = any(k.startswith("aux_head.") for k in ours)
    groups: dict[tuple, list[str]] = {}
    where: dict[tuple, str] = {}
    for key in reference:
        part, inner = _nni_part(key)
        if part == (2,) and not has_aux:
            continue
        groups.setdefault(part, []).append(key)
        where[part] = inner
    # ours, grouped the same way: stems by conv, then cells in forward order, aux head, classifier
    our_groups: dict[tuple, list[str]] = {}
    cell_order: list[str] = []
    stem_convs: list[str] = []
    for key in ours:
        top, inner = _our_part(key)
        if top.startswith("stem"):  # stem, or stem0_conv_1, stem0_conv_2, stem1: one conv + BN each
            if top not in stem_convs:
                stem_convs.append(top)
            our_groups.setdefault((0, stem_convs.index(top)), []).append(key)
        elif top.startswith("cell_"):
            if top not in cell_order:
                cell_order.append(top)
            our_groups.setdefault(("cell", top, inner), []).append(key)
        elif top == "aux_head":
            our_groups.setdefault((2,), []).append(key)
        elif top == "last_linear":
            our_groups.setdefault((3,), []).append(key)
        else:
            raise NasError(f"cannot convert NNI weights onto {key!r}: not a DARTS-skeleton network")
    nni_cells = sorted({p[1:3] for p in groups if p[0] == 1})
    if len(nni_cells) != len(cell_order):
        raise NasError(f"the NNI state_dict has {len(nni_cells)} cells, this network {len(cell_order)}: "
                       "not the same architecture")
    cell_of = dict(zip(nni_cells, cell_order, strict=True))
    out: dict[str, torch.Tensor] = {}
    problems: list[str] = []
    used: set[tuple] = set()
    for part in sorted(groups):
        if part[0] == 1:
            target = ("cell", cell_of[part[1:3]], where[part])
        else:
            target = part
        used.add(target)
        theirs, mine = groups[part], our_groups.get(target, [])
        if len(theirs) != len(mine):
            problems.append(f"{theirs[0].rsplit('.', 1)[0]}: {len(theirs)} tensors, but "
                            f"{'.'.join(str(t) for t in target[1:]) or target} has {len(mine)}")
            continue
        for r, o in zip(theirs, mine, strict=True):
            if problem := fill_problem(r, o, reference[r], ours[o]):
                problems.append(problem)
            else:
                out[o] = reference[r].detach().clone()
    for target, keys in our_groups.items():
        if target not in used:
            problems += [f"{k}: no NNI counterpart" for k in keys]
    if problems:
        raise cannot_map("NNI", problems)
    return {k: out[k] for k in ours}
