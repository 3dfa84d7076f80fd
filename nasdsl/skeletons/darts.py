"""The DARTS skeleton: the network layout most cells after NASNet are trained on (DARTS, AmoebaNet, ENAS).

Facts, from the DARTS code (quark0/darts `cnn/model.py`, `operations.py`) and NNI 3.0's hub
(`nni.nas.hub.pytorch.nasnet`, `DARTS.load_searched_model('darts-v2')`), which agree on all of them:

- Layers: L = 3N + 2 cells (`cells = N` normal cells per stage). Cells L//3 = N and 2L//3 = 2N + 1
  are reduction cells; C doubles at each, the reduction cell included. DARTS-CIFAR: C = 36, L = 20
  (`cells = 6`); DARTS-ImageNet: C = 48, L = 14 (`cells = 4`). NNI's NDS: stages of
  [(i+1)L//3 - iL//3] cells, the first of stages 2 and 3 a reduction: the same layout.
- Stems. CIFAR: 3x3 conv (3C filters, `stem_multiplier`, stride 1, pad 1) + BN; both inputs of the
  first cell are the stem output. ImageNet: stem0 = 3x3/2 conv to C/2 + BN + ReLU + 3x3/2 conv to
  C + BN; stem1 = ReLU + 3x3/2 conv C + BN; the first cell reads stem1 (h0) and stem0 (h1, so it is
  factorized down). No stem cells.
- Every cell preprocesses both inputs: the previous cell's output (DARTS s1, our h0) by
  ReLU-1x1 conv-BN to C; the one before (DARTS s0, our h1) by ReLU-1x1 conv-BN, or by a factorized
  reduction (ReLU, two 1x1/2 convs to C/2 on x and x[1:, 1:], concat, BN) when the previous cell
  reduced. DARTS numbers its states the other way round: input 0 = our h1, input 1 = our h0.
- Ops (C -> C, stride 2 only on ops reading an input of a reduction cell), PyTorch symmetric
  padding (k - 1) * d / 2, never TF 'SAME': sep_conv_KxK = (ReLU, depthwise KxK, pointwise, BN) x2,
  stride on the first; dil_conv_KxK = ReLU, depthwise KxK dilation 2, pointwise, BN; pools 3x3 pad 1
  (avg with count_include_pad=False) and no BN in the final model (the BN after pools is only in
  the search supernet); skip_connect = identity, strided = the factorized reduction above;
  conv_7x1_1x7 = ReLU, 1x7 (stride on width), 7x1 (stride on height), BN; none = zeros.
- A node adds its two branches; the cell concatenates an explicit list of nodes (`concat`):
  all four nodes for DARTS V1/V2, the loose ends for AmoebaNet and ENAS. Output = len(concat) * C.
- BatchNorm: affine, eps 1e-5, momentum 0.1 (PyTorch defaults). Convs have no bias.
- Head: global average pool (no ReLU before it, unlike TF-slim), linear classifier; no dropout.
- Aux head after cell 2L//3 (the second reduction cell), training only, loss weight 0.4:
  CIFAR (8x8 input): ReLU, 5x5/3 avg pool (no padding), 1x1 conv 128 + BN, ReLU, 2x2 conv 768 + BN,
  ReLU, linear. ImageNet (7x7 input): the same with a 5x5/2 pool and no BN after the 768 conv
  (the DARTS code leaves it out "for consistency with the experiments in the paper"; NNI adds it).
- Drop path on every op output except the plain identity (a strided skip gets it), probability
  `drop_path_prob * epoch / epochs`, the same in every cell (no TF-slim cell-depth scaling):
  here ScheduledDropPath with layer_ratio 1 and progress = step / steps (a ramp where DARTS steps
  once an epoch). CIFAR: 0.2.
- Counts: DARTS V2 on DARTS-CIFAR has 3,349,342 parameters without the aux head (NNI, counted).

Registered below as SKELETONS['darts']: symmetric padding, no ReLU before the pool, the same
drop-path probability in every cell, strided identities as factorized reductions, h1 always
projected.
"""
from __future__ import annotations

from ..errors import NasError
from ..ir.passes.shape import halve
from ..lang.spec import NetworkSpec
from .base import Builder, NetworkPlan, Passes, Skeleton, Stem, register


def layer_count(n: int) -> int:
    """Cells in a DARTS network with `n` normal cells per stage."""
    return 3 * n + 2


def reduction_layers(layers: int) -> tuple[int, int]:
    """DARTS' reduction cells: layers // 3 and 2 * layers // 3."""
    return layers // 3, 2 * layers // 3


def _stem(b: Builder, spec: NetworkSpec) -> tuple[Stem, list[str]]:
    """The stem and the attrs the first cell reads as (h1, h0)."""
    image = (spec.image, spec.image)
    C = spec.filters
    if spec.stem == "imagenet":
        if C < 2:
            raise NasError(f"network {spec.name}: the DARTS ImageNet stem needs filters >= 2, not {C}")
        hw0 = halve(halve(image))
        hw1 = halve(hw0)
        stem = Stem("imagenet", "stem1", C, C, 2, "same", hw1,
                    convs=((3, C // 2, 3, 2, halve(image)), (C // 2, C, 3, 2, hw0), (C, C, 3, 2, hw1)))
        b.shapes["stem0"] = (C, hw0)
        b.shapes["stem1"] = (C, hw1)
        return stem, ["stem0", "stem1"]
    stem = Stem("cifar", "stem", 3, int(spec.stem_multiplier * C), 1, "same", image)
    if stem.channels < 1:
        raise NasError(f"network {spec.name}: the stem has {stem.channels} filters")
    b.shapes["stem"] = (stem.channels, stem.hw)
    return stem, ["stem", "stem"]


def darts_layout(cells: dict, spec: NetworkSpec, passes: Passes) -> NetworkPlan:
    """DARTS `NetworkCIFAR` / `NetworkImageNet`: 3N + 2 cells, reductions at L//3 and 2L//3."""
    if spec.n < 1:
        raise NasError(f"network {spec.name}: a DARTS network needs at least 1 normal cell per stage")
    b = Builder(cells, spec, passes, "darts")
    stem, outputs = _stem(b, spec)
    layers = layer_count(spec.n)
    reds = reduction_layers(layers)
    filters, aux_after = spec.filters, None
    for i in range(layers):
        reduction = i in reds
        if reduction:
            filters *= 2
        cell = spec.reduction if reduction else spec.normal
        outputs.append(b.add(f"cell_{i}", cell, filters, reduction, outputs[-1], outputs[-2]))
        if i == reds[1]:
            aux_after = outputs[-1]
    aux_stride, aux_bn = (2, False) if spec.stem == "imagenet" else (3, True)
    return NetworkPlan(spec, stem, b.instances, layers, aux_after, aux_stride=aux_stride, aux_bn=aux_bn)


def stem_code(stem: Stem, spec: NetworkSpec) -> tuple[list[str], list[str]]:
    """CIFAR: one conv + BN. ImageNet: stem0 = conv/2-BN-ReLU-conv/2-BN, stem1 = ReLU-conv/2-BN."""
    if not stem.convs:
        return ([f"self.{stem.attr} = ConvBn({stem.in_channels}, {stem.channels}, 3, {stem.stride}, eps=eps)"],
                [f"x_{stem.attr} = self.{stem.attr}(x)"])
    (i0, o0, k0, s0, _), (i1, o1, k1, s1, _), (i2, o2, k2, s2, _) = stem.convs
    return ([f"self.stem0_conv_1 = ConvBn({i0}, {o0}, {k0}, {s0}, eps=eps)",
             f"self.stem0_conv_2 = ConvBn({i1}, {o1}, {k1}, {s1}, eps=eps)",
             f"self.stem1 = ReluConvBn({i2}, {o2}, {k2}, {s2}, eps=eps)"],
            ["x_stem0 = self.stem0_conv_2(F.relu(self.stem0_conv_1(x)))", "x_stem1 = self.stem1(x_stem0)"])


def darts_transfer(preset: dict, concat: int) -> dict:
    """`network` keys of a transfer preset: C and the cells per stage given directly."""
    t = dict(preset)
    n, f = t.pop("n"), t.pop("filters")
    return {"skeleton": "darts", "stem": t.pop("stem"), "cells": n, "filters": f, **t}


# the presets of the DARTS code (as in the zoo's darts_nets.nas)
DARTS_TRANSFERS = {
    "cifar": {"n": 6, "filters": 36, "stem": "cifar", "image": 32, "classes": 10, "stem_multiplier": 3,
              "aux_head": True, "drop_path_keep": 0.8, "bn_eps": 1e-5},
    "imagenet": {"n": 4, "filters": 48, "stem": "imagenet", "image": 224, "classes": 1000,
                 "aux_head": True, "drop_path_keep": 1.0, "bn_eps": 1e-5},
}

# DARTS-CIFAR (C 36, 20 cells): what a file of DARTS cells compiles to
CIFAR = {"stem": "cifar", "n": 6, "filters": 36, "image": 32, "classes": 10, "stem_multiplier": 3.0,
         "skip_reduction_input": False, "aux_head": True, "drop_path_keep": 0.8, "dropout_keep": 1.0,
         "bn_eps": 1e-5}

register(Skeleton("darts", darts_layout, stem_code, "symmetric", ("ConvBn", "ReluConvBn"), doc="DARTS",
                  head_relu=False, cifar=CIFAR,
                  depth_drop_path=False, drop_path_on_identity=True, strided_identity="factorized",
                  project_h1=True,
                  proxy={"skeleton": "darts", "stem": "cifar"}, transfers=DARTS_TRANSFERS,
                  transfer_keys=darts_transfer))
