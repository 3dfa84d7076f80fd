"""Map reference state_dicts (Cadene's pretrainedmodels, timm) onto the generated networks' names.

The references and our code share the TF-slim layout and most names (`conv_1x1`,
`comb_iter_0_left.separable_1.depthwise_conv2d`, ...). What differs:
  * top-level cells are paired in forward order, role by role (Cadene's NASNet-A Mobile numbers
    its normal cells 0-3, 6-9, 12-15; ours run 0..3N-1); timm/Cadene PNASNet call the stem `conv_0`;
  * Cadene's NASNet cells keep the factorized reduction's `path_1/path_2/final_path_bn` on the cell,
    ours (like PNASNet's) under `conv_prev_1x1`.
Every tensor must land on a tensor of the same shape and every one of ours must be filled; anything
else is a NasError naming the keys.
"""
from __future__ import annotations

import re
from collections.abc import Mapping

import torch

from ..errors import NasError
from .mapping import cannot_map, fill_problem

SOURCES = ("cadene", "timm", "nni")
_ROLE = re.compile(r"^(conv0|cell_stem_\d+|reduction_cell_\d+|cell_\d+|last_linear)$")
_TOP_ALIASES = {"conv_0": "conv0"}
_FR_PARTS = ("path_1.", "path_2.", "final_path_bn.")


def _role(name: str) -> str:
    return re.sub(r"_\d+$", "", name)


def _tops(keys) -> list[str]:
    seen: list[str] = []
    for k in keys:
        top = k.split(".", 1)[0]
        if top not in seen:
            seen.append(top)
    return seen


def _inner(rest: str) -> str:
    """A key inside a cell, in our naming."""
    if rest.startswith(_FR_PARTS):
        return "conv_prev_1x1." + rest
    return rest


def convert(reference: Mapping[str, torch.Tensor], ours: Mapping[str, torch.Tensor],
            source: str = "cadene") -> dict[str, torch.Tensor]:
    """Rename `reference` (a Cadene or timm state_dict) onto the keys of `ours` (our network's
    state_dict, built without the aux head, which the references lack)."""
    if source not in SOURCES:
        raise NasError(f"unknown weight source {source!r}; known: {', '.join(SOURCES)}")
    if source == "nni":  # NNI's DARTS-family models name modules by position: a mapping of its own
        from .nni import convert_nni

        return convert_nni(reference, ours)
    if reference and all(k.startswith("module.") for k in reference):  # saved from DataParallel
        reference = {k[len("module."):]: v for k, v in reference.items()}
    ref_tops = [t for t in _tops(reference) if t in _TOP_ALIASES or _ROLE.match(t)]
    our_tops = [t for t in _tops(ours) if _ROLE.match(t)]
    if len(ref_tops) != len(our_tops):
        raise NasError(f"the {source} state_dict has {len(ref_tops)} stem/cell/classifier modules, "
                       f"this network {len(our_tops)}: not the same architecture")
    top_map: dict[str, str] = {}
    for r, o in zip(ref_tops, our_tops, strict=True):
        if _role(_TOP_ALIASES.get(r, r)) != _role(o):
            raise NasError(f"{source} module {r!r} falls where this network has {o!r}: "
                           "not the same architecture")
        top_map[r] = o
    out: dict[str, torch.Tensor] = {}
    problems: list[str] = []
    for key, value in reference.items():
        top, _, rest = key.partition(".")
        if top not in top_map:
            problems.append(f"{key}: no counterpart")
            continue
        new = f"{top_map[top]}.{_inner(rest) if top_map[top].startswith(('cell', 'reduction')) else rest}"
        if new not in ours:
            problems.append(f"{key} -> {new}: not in this network")
        elif problem := fill_problem(key, new, value, ours[new]):
            problems.append(problem)
        else:
            out[new] = value.detach().clone()
    missing = [k for k in ours if k not in out]
    problems += [f"{k}: not filled" for k in missing]
    if problems:
        raise cannot_map(source, problems)
    return {k: out[k] for k in ours}
