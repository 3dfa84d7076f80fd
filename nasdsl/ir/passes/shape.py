"""Shape pass: channels, spatial size and stride of every node of a cell at one place in a network.

Contract (read by the cost model, the code generator and the interpreter):

    shape(g, ctx) -> g'          pure: returns an annotated copy; impossible shapes raise NasError

`ctx` (a `CellContext`) says where the cell sits: the cell input's channels and spatial size (it
becomes h0), the previous input's (it becomes h1; `prev_channels=None` means h1 *is* the cell
input, as in TF-slim when there is no previous layer: stem cell 0 and the first CIFAR cell), F,
whether the cell reduces (stride 2 on every op that reads h0 or h1) and the skeleton family.

Written on every node: `meta['channels']` and `meta['hw']` ((height, width) of its output).
On op nodes also: `meta['in_channels']`, `meta['stride']` and `meta['layer']`, the runtime layer
that implements the op at this place (the first layer of `nasdsl.layers.LAYERS` that selects it),
which fixes its parameters exactly.
Every conv is bias-free, every BN affine. Ops output F channels ("filter size" in TF-slim).

Graph attributes written: `filters` (F), `reduction`, `family`, `in_hw`, `out_hw`,
`preprocess = {'h0': how, 'h1': how}` with how in
    'conv1x1'     ReLU, 1x1 conv (in -> F), BN
    'factorized'  ReLU, factorized reduction (prev -> 2*(F//2) channels, stride 2): the previous
                  input is spatially larger than the cell input
    'none'        taken as is (h1 already F channels at the cell's size, or h1 is the cell input)
and `resize = {state: how}` for each concatenated input state whose size or channels differ from
F at the output size ('factorized': factorized reduction without ReLU, stride 2; 'conv_bn': 1x1
conv + BN, stride 1), TF-slim's `_combine_unused_states`.
"""
from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from ...errors import NasError
from ...lang.ops import OPS
from ...layers import select
from ..graph import args, order

HW = tuple[int, int]


@dataclass(frozen=True)
class CellContext:
    """Where one cell instance sits in a network."""

    in_channels: int
    in_hw: HW
    prev_channels: int | None  # None: h1 is the cell input itself (no previous layer)
    prev_hw: HW | None
    filters: int
    reduction: bool = False
    family: str = "nasnet"  # the skeleton (written on the graph; the conventions below come from it)
    strided_identity: str = "relu_conv_bn"  # the layer of an identity op at stride 2 (DARTS: factorized)
    project_h1: bool = False  # h1 always gets ReLU-1x1-BN, even with F channels at the cell's size (DARTS)


def halve(hw: HW, stride: int = 2) -> HW:
    """Output size of TF 'SAME' at `stride`: ceil(size / stride)."""
    return (-(-hw[0] // stride), -(-hw[1] // stride))


def shape(g: nx.DiGraph, ctx: CellContext) -> nx.DiGraph:
    """Annotate a copy of `g` with channels, spatial sizes, strides and layers (see module doc)."""
    name = g.graph.get("name", "?")
    F = ctx.filters
    if F < 1 or min(ctx.in_hw) < 1:
        raise NasError(f"cell {name}: impossible shape: {F} filters at {ctx.in_hw[0]}x{ctx.in_hw[1]}")
    g = g.copy()
    for n in g.nodes:
        g.nodes[n]["meta"] = dict(g.nodes[n]["meta"])
    out_hw = halve(ctx.in_hw) if ctx.reduction else ctx.in_hw
    pre = {"h0": "conv1x1"}
    g.nodes["h0"]["meta"].update(channels=F, hw=ctx.in_hw)
    h1_channels, how = _h1(ctx, name)
    pre["h1"] = how
    g.nodes["h1"]["meta"].update(channels=h1_channels, hw=ctx.in_hw)

    for n in order(g):
        d = g.nodes[n]
        kind = d["kind"]
        if kind == "op":
            (src,) = args(g, n)
            m = g.nodes[src]["meta"]
            stride = 2 if ctx.reduction and g.nodes[src]["kind"] == "input" else 1
            d["meta"].update(in_channels=m["channels"], channels=F, stride=stride,
                             hw=halve(m["hw"], stride), layer=select(OPS[d["op"]], m["channels"], F, stride, ctx))
        elif kind == "combine":
            ins = [g.nodes[u]["meta"] for u in args(g, n)]
            hws = {m["hw"] for m in ins}
            if len(hws) != 1:
                raise NasError(f"cell {name}: block {n} combines branches of different sizes {sorted(hws)}")
            if d["combiner"] == "add":
                chans = {m["channels"] for m in ins}
                if len(chans) != 1:
                    raise NasError(f"cell {name}: block {n} adds branches with different channels {sorted(chans)}")
                channels = ins[0]["channels"]
            else:
                channels = sum(m["channels"] for m in ins)
            d["meta"].update(channels=channels, hw=ins[0]["hw"])
    resize: dict[str, str] = {}
    total = 0
    for s in args(g, "out"):
        m = g.nodes[s]["meta"]
        if g.nodes[s]["kind"] == "input" and (m["hw"] != out_hw or m["channels"] != F):
            if m["hw"] != out_hw and halve(m["hw"]) != out_hw:
                raise NasError(f"cell {name}: cannot bring {s} from {m['hw']} to {out_hw}")
            resize[s] = "factorized" if m["hw"] != out_hw else "conv_bn"
            if resize[s] == "factorized" and F // 2 < 1:
                raise NasError(f"cell {name}: a factorized reduction of {s} needs at least 2 filters, not {F}")
            total += 2 * (F // 2) if resize[s] == "factorized" else F
        elif m["hw"] != out_hw:
            raise NasError(f"cell {name}: state {s} is {m['hw']}, the output {out_hw}")
        else:
            total += m["channels"]
    g.nodes["out"]["meta"].update(channels=total, hw=out_hw)
    g.graph.update(filters=F, reduction=ctx.reduction, family=ctx.family, in_hw=ctx.in_hw,
                   out_hw=out_hw, preprocess=pre, resize=resize)
    return g


def _h1(ctx: CellContext, name: str) -> tuple[int, str]:
    """Channels of h1 and how the previous input is brought to the cell's shape."""
    F = ctx.filters
    if ctx.prev_channels is None:
        return ctx.in_channels, "none"
    prev_hw = ctx.prev_hw or ctx.in_hw
    if prev_hw != ctx.in_hw:
        if halve(prev_hw) != ctx.in_hw:
            raise NasError(f"cell {name}: impossible shape: the previous input is {prev_hw[0]}x{prev_hw[1]}, "
                           f"the input {ctx.in_hw[0]}x{ctx.in_hw[1]} (a factorized reduction halves it)")
        if F // 2 < 1:
            raise NasError(f"cell {name}: a factorized reduction needs at least 2 filters, not {F}")
        return 2 * (F // 2), "factorized"
    if ctx.prev_channels != F or ctx.project_h1:
        return F, "conv1x1"
    return F, "none"
