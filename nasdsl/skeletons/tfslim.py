"""The TF-slim skeletons: NASNet (`_build_nasnet_base`) and PNASNet (`_build_pnasnet_base`).

Both stack 3N cells with reductions at cells N and 2N (`calc_reduction_layers`), double the filters
at each, put the aux head after the cell before the second reduction and (ImageNet) start with a
strided 3x3 VALID conv and two reduction "stem cells" at F/4 and F/2. They differ in one point:
NASNet inserts a reduction cell before cells N and 2N (3N + 2 cells), PNASNet makes cells N and 2N
themselves reducing (3N cells). Layers use TF 'SAME' padding; the head is ReLU, global pool, linear;
drop path grows with the cell's depth (layer_ratio = (index + 1) / total cells).
"""
from __future__ import annotations

from ..errors import NasError
from ..lang.spec import NetworkSpec
from .base import Builder, NetworkPlan, Passes, Skeleton, Stem, register


def reduction_indices(num_cells: int, num_reductions: int = 2) -> list[int]:
    """TF-slim `calc_reduction_layers`."""
    return [int(float(i) / (num_reductions + 1) * num_cells) for i in range(1, num_reductions + 1)]


def stem(b: Builder) -> Stem:
    """`imagenet`: 3x3 conv stride 2 VALID + BN (conv0); `cifar`: 3x3 conv SAME + BN (stem)."""
    s = b.spec
    image = (s.image, s.image)
    if s.stem == "imagenet":
        if s.image < 3:
            raise NasError(f"network {s.name}: image {s.image} is smaller than the 3x3 stem conv")
        hw = ((s.image - 3) // 2 + 1,) * 2
        out = Stem("imagenet", "conv0", 3, int(32 * s.stem_multiplier), 2, "valid", hw)
    else:
        out = Stem("cifar", "stem", 3, int(s.stem_multiplier * s.filters), 1, "same", image)
    if out.channels < 1:
        raise NasError(f"network {s.name}: the stem has {out.channels} filters")
    b.shapes[out.attr] = (out.channels, out.hw)
    return out


def imagenet_stem_cells(b: Builder, stem: Stem) -> list[str | None]:
    """TF-slim `_imagenet_stem`: two reduction cells at F/4 and F/2; stem 0 has no previous layer."""
    outputs: list[str | None] = [None, stem.attr]
    scaling = 1.0 / 4
    for k in range(2):
        filters = int(b.spec.filters * scaling)
        outputs.append(b.add(f"cell_stem_{k}", b.spec.stem_cell, filters, True, outputs[-1], outputs[-2]))
        scaling *= 2
    return outputs


def _layout(cells: dict, spec: NetworkSpec, passes: Passes, family: str) -> NetworkPlan:
    b = Builder(cells, spec, passes, family)
    first = stem(b)
    outputs = imagenet_stem_cells(b, first) if spec.stem == "imagenet" else [None, first.attr]
    num_cells = 3 * spec.n
    reds = reduction_indices(num_cells)
    aux = [reds[1] - 1] if len(reds) >= 2 else []
    separate = family == "nasnet"  # NASNet: a reduction cell before cells N, 2N; PNASNet: those cells reduce
    scaling, prev, aux_after = 1.0, outputs[-2], None
    for k in range(num_cells):
        reduction = k in reds
        if reduction:
            scaling *= 2
        if spec.skip_reduction_input or not reduction or separate:
            prev = outputs[-2]
        if reduction and separate:
            outputs.append(b.add(f"reduction_cell_{reds.index(k)}", spec.reduction,
                                 int(spec.filters * scaling), True, outputs[-1], outputs[-2]))
            if not spec.skip_reduction_input:
                prev = outputs[-2]
            reduction = False
        cell = spec.reduction if reduction else spec.normal
        outputs.append(b.add(f"cell_{k}", cell, int(spec.filters * scaling), reduction, outputs[-1], prev))
        if k in aux:
            aux_after = outputs[-1]
    total = num_cells + (2 if separate else 0) + (2 if spec.stem == "imagenet" else 0)
    return NetworkPlan(spec, first, b.instances, total, aux_after)


def nasnet_layout(cells: dict, spec: NetworkSpec, passes: Passes) -> NetworkPlan:
    """TF-slim `_build_nasnet_base`: N normal cells, reduction, N normal, reduction, N normal."""
    return _layout(cells, spec, passes, "nasnet")


def pnasnet_layout(cells: dict, spec: NetworkSpec, passes: Passes) -> NetworkPlan:
    """TF-slim `_build_pnasnet_base`: 3N cells, the reductions (cells N and 2N) counted among them."""
    return _layout(cells, spec, passes, "pnasnet")


def stem_code(stem: Stem, spec: NetworkSpec) -> tuple[list[str], list[str]]:
    """One conv + BN, VALID (ImageNet) or 'SAME' (CIFAR)."""
    pad = '"valid"' if stem.padding == "valid" else '"same"'
    return ([f"self.{stem.attr} = ConvBn({stem.in_channels}, {stem.channels}, 3, {stem.stride}, {pad}, "
             f"hw={spec.image!r}, eps=eps)"], [f"x_{stem.attr} = self.{stem.attr}(x)"])


def nasnet_transfer(preset: dict, concat: int) -> dict:
    """`network` keys of a transfer preset: `cells = N @ P`, P = 4 x F x (states the normal cell
    concatenates), which gives NASNet-A's 4 @ 1056 and 6 @ 4032."""
    t = dict(preset)
    n, f = t.pop("n"), t.pop("filters")
    return {"stem": t.pop("stem"), "cells": f"{n} @ {4 * int(f) * concat}", **t}


# TF-slim's mobile and large configurations (REFERENCE.md)
NASNET_TRANSFERS = {
    "mobile": {"n": 4, "filters": 44, "stem": "imagenet", "image": 224, "classes": 1000, "stem_multiplier": 1,
               "skip_reduction_input": False, "aux_head": True, "drop_path_keep": 1.0, "dropout_keep": 0.5},
    "large": {"n": 6, "filters": 168, "stem": "imagenet", "image": 331, "classes": 1000, "stem_multiplier": 3,
              "skip_reduction_input": True, "aux_head": True, "drop_path_keep": 0.7, "dropout_keep": 0.5},
}

# TF-slim's CIFAR configuration, 6 @ 768, F = 32: what a file of cells compiles to
CIFAR = {"stem": "cifar", "n": 6, "filters": 32, "image": 32, "classes": 10, "stem_multiplier": 3.0,
         "skip_reduction_input": False, "aux_head": True, "drop_path_keep": 0.6, "dropout_keep": 1.0,
         "bn_eps": 1e-5}

register(Skeleton("nasnet", nasnet_layout, stem_code, "same", doc="TF-slim NASNet",
                  proxy={"stem": "cifar"}, cifar=CIFAR, transfers=NASNET_TRANSFERS, transfer_keys=nasnet_transfer))
register(Skeleton("pnasnet", pnasnet_layout, stem_code, "same", doc="TF-slim PNASNet", cifar=CIFAR))
