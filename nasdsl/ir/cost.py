"""Static cost: parameters and multiply-adds of every node, cell instance and network, from the IR.

No torch module is built. Parameters are every trainable tensor: conv weights (all bias-free),
BN scale and shift (2 per channel; running statistics are buffers, not parameters) and the
classifiers' weights and biases. Multiply-adds count conv, depthwise, pointwise and fully
connected layers only (pools, BN, ReLU and additions are free), one per weight use per output
position, as the NASNet paper counts them (NASNet-A Mobile 564M, Large 23.8B).

Per op node the runtime layer chosen by the shape pass (`meta['layer']`) fixes the formula; the
cell's inputs carry their preprocessing (h0's ReLU-1x1-BN, h1's factorized reduction or 1x1) and
the output node the resizing of concatenated inputs. `cost()` adds the skeleton: stem, aux head
and classifier.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import networkx as nx

from ..errors import NasError
from ..lang.ops import OPS
from ..layers import LAYERS, Cost, bn, conv, factorized_reduction, fc, total  # noqa: F401 - re-exported
from .graph import args, order
from .passes.manager import parse_pipeline, register, run_pipeline

# What cost() runs on every cell instance (the passes the code generator runs, plus cost).
DEFAULT_PIPELINE = "shape,cost"

def layer_cost(layer: str, op: str, cin: int, cout: int, stride: int, in_hw, out_hw) -> Cost:
    """Cost of one op node's runtime layer (the `meta['layer']` names of the shape pass)."""
    if layer not in LAYERS:
        raise NasError(f"cost: no formula for the layer {layer!r} of op {op!r}")
    return LAYERS[layer].cost(OPS[op], cin, cout, stride, in_hw, out_hw)


def node_cost(g: nx.DiGraph, n: str, ctx) -> Cost:
    """Cost of one node of a shaped cell graph; `ctx` (a CellContext) gives the input channels."""
    d, m = g.nodes[n], g.nodes[n]["meta"]
    kind = d["kind"]
    if kind == "op":
        src = g.nodes[args(g, n)[0]]["meta"]
        return layer_cost(m["layer"], d["op"], m["in_channels"], m["channels"], m["stride"], src["hw"], m["hw"])
    if kind == "input":
        how = g.graph["preprocess"][n]
        if how == "none":
            return 0, 0
        if ctx is None:
            raise NasError(f"cost of {n}'s preprocessing needs the cell's network context")
        cin = ctx.in_channels if n == "h0" else ctx.prev_channels
        if how == "conv1x1":
            return total(conv(cin, m["channels"], 1, 1, m["hw"]), bn(m["channels"]))
        if how == "factorized":
            return factorized_reduction(cin, g.graph["filters"], m["hw"])
        raise NasError(f"cost: unknown preprocessing {how!r} of {n}")
    if kind == "output":
        parts = []
        for s, how in g.graph.get("resize", {}).items():
            cin, filters = g.nodes[s]["meta"]["channels"], g.graph["filters"]
            if how == "factorized":
                parts.append(factorized_reduction(cin, filters, m["hw"]))
            else:
                parts.append(total(conv(cin, filters, 1, 1, m["hw"]), bn(filters)))
        return total(*parts)
    return 0, 0  # combine: an addition or a concatenation


@register("cost")
def cost_pass(g: nx.DiGraph, ctx=None) -> tuple[nx.DiGraph, bool]:
    """Write params and madds on every node, and the cell totals as graph attributes."""
    if "preprocess" not in g.graph:
        raise NasError("cost needs shape metadata: run the shape pass first (e.g. --passes shape,cost)")
    out = g.copy()
    params = madds = 0
    for n in order(out):
        out.nodes[n]["meta"] = dict(out.nodes[n]["meta"])
        p, a = node_cost(out, n, ctx)
        out.nodes[n]["meta"].update(params=p, madds=a)
        params, madds = params + p, madds + a
    out.graph.update(params=params, madds=madds)
    return out, False


@dataclass(frozen=True)
class InstanceCost:
    attr: str  # module attribute, e.g. cell_3
    cell: str  # DSL cell name
    stage: str
    params: int
    madds: int


@dataclass(frozen=True)
class StageRow:
    stage: str  # stem, stage 1, reduction 1, ..., aux head, classifier
    params: int
    madds: int
    parts: tuple[str, ...]  # module attributes counted in the row


@dataclass
class CostReport:
    network: str
    image: int
    classes: int
    rows: list[StageRow]
    instances: list[InstanceCost] = field(default_factory=list)

    @property
    def params(self) -> int:
        return sum(r.params for r in self.rows)

    @property
    def madds(self) -> int:
        return sum(r.madds for r in self.rows)

    def row(self, stage: str) -> StageRow:
        return next(r for r in self.rows if r.stage == stage)

    def table(self) -> str:
        """The per-stage table and totals as aligned text."""
        head = ("stage", "cells", "params", "mult-adds")
        body = [(r.stage, str(len(r.parts)) if r.stage not in ("aux head", "classifier") else "",
                 f"{r.params:,}", f"{r.madds:,}") for r in self.rows]
        body.append(("total", str(len(self.instances)), f"{self.params:,}", f"{self.madds:,}"))
        w = [max(len(x[i]) for x in (head, *body)) for i in range(4)]

        def fmt(x: tuple[str, ...]) -> str:
            return f"{x[0]:<{w[0]}}  {x[1]:>{w[1]}}  {x[2]:>{w[2]}}  {x[3]:>{w[3]}}"

        lines = [fmt(head), "  ".join("-" * n for n in w)]
        lines += [fmt(x) for x in body[:-1]] + ["  ".join("-" * n for n in w), fmt(body[-1])]
        return "\n".join(lines)


def cost(program, network: str | None = None, aux_head: bool = False,
         pipeline: str = DEFAULT_PIPELINE, overrides: dict | None = None) -> CostReport:
    """Parameters and mult-adds of a network, per stage, with no module built.

    `program`: a loaded Program, DSL text, a .nas path or a zoo name; the network is chosen as
    `nasdsl.compile` chooses it (the named one, the file's network, else the CIFAR network a file
    of cells compiles to). `aux_head=True` adds the auxiliary head (training only; the paper's
    counts leave it out). `pipeline` is what every cell instance goes through (shape, then any
    optimization passes, then cost); `overrides` replaces NetworkSpec fields (e.g. n=1)."""
    from ..skeletons import at_network, plan

    names = parse_pipeline(pipeline)  # an unknown pass is said as such
    if "shape" not in names or "cost" not in names or names.index("cost") < names.index("shape"):
        raise NasError(f"cost pipeline {pipeline!r} must run shape and then cost")
    program, spec = resolve(program, network, overrides, command="nasdsl.cost")
    layout = plan(program, spec, passes=_runner(pipeline))
    if aux_head and (problem := layout.aux_problem()):
        raise at_network(NasError(problem), program, spec)
    return report(layout, aux_head)


def resolve(src, network: str | None = None, overrides: dict | None = None, command: str = "nasdsl stats"):
    """(Program, NetworkSpec) chosen exactly as the code generator chooses them (nasdsl.lang.resolve)."""
    from ..lang.resolve import resolve as choose

    return choose(src, network, overrides, command)


def _runner(pipeline: str) -> Callable:
    def passes(g: nx.DiGraph, ctx) -> nx.DiGraph:
        return run_pipeline(g, pipeline, ctx).graph

    return passes


def report(layout, aux_head: bool = False) -> CostReport:
    """The CostReport of a NetworkPlan whose cell graphs went through the cost pass."""
    spec, stem = layout.spec, layout.stem
    rows: dict[str, list] = {}

    def add(stage: str, part: str, c: Cost) -> None:
        row = rows.setdefault(stage, [0, 0, []])
        row[0] += c[0]
        row[1] += c[1]
        row[2].append(part)

    convs = stem.convs or ((stem.in_channels, stem.channels, 3, stem.stride, stem.hw),)
    add("stem", stem.attr, total(*(total(conv(i, o, k, k, hw), bn(o)) for i, o, k, _, hw in convs)))
    instances = []
    stage = 1
    for inst in layout.cells:
        g = inst.graph
        if "params" not in g.graph:
            raise NasError(f"{inst.attr}: the cell graph has no cost; the pipeline must end with cost")
        if inst.attr.startswith("cell_stem"):
            name = "stem"
        elif inst.ctx.reduction:
            name = f"reduction {stage}"
            stage += 1
        else:
            name = f"stage {stage}"
        add(name, inst.attr, (g.graph["params"], g.graph["madds"]))
        instances.append(InstanceCost(inst.attr, inst.cell, name, g.graph["params"], g.graph["madds"]))
    if aux_head and layout.aux_shape() is not None:
        channels, hw = layout.aux_shape()
        add("aux head", "aux_head", aux_head_cost(channels, hw, spec.classes, layout.aux_stride, layout.aux_bn))
    add("classifier", "last_linear", fc(layout.final.channels, spec.classes))
    out = [StageRow(k, v[0], v[1], tuple(v[2])) for k, v in rows.items()]
    return CostReport(spec.name, spec.image, spec.classes, out, instances)


def aux_head_cost(channels: int, hw: tuple[int, int], classes: int, stride: int = 3, bn_768: bool = True) -> Cost:
    """TF-slim's aux head: ReLU, 5x5/3 VALID avg pool, 1x1 conv 128 + BN, ReLU, conv over the
    remaining size to 768 + BN, ReLU, FC. (DARTS ImageNet: pool stride 2, no BN after the 768 conv.)"""
    pooled = ((hw[0] - 5) // stride + 1, (hw[1] - 5) // stride + 1)
    if min(pooled) < 1:
        raise NasError(f"the aux head needs at least 5x5 inputs, got {hw[0]}x{hw[1]}")
    return total(conv(channels, 128, 1, 1, pooled), bn(128),
                 conv(128, 768, pooled[0], pooled[1], (1, 1)), bn(768) if bn_768 else (0, 0), fc(768, classes))
