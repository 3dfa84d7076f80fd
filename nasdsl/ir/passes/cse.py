"""Common-subexpression elimination: identical parameter-free branches become one op node.

Two op nodes are merged when they apply the same op to the same state with the same stride and
channels and hold no parameters (zero; identity at stride 1 without a channel change; a pool
without the 1x1 projection that a channel change adds). The survivor is the first in topological
order; every reader of the other reads the survivor, so NASNet-A's normal block 3,
`avg3x3(h1) + avg3x3(h1)`, becomes `add(%b3.0, %b3.0)` and the reduction cell's two
`max3x3(h0)` branches (blocks 1 and 4) become one.

Drop path belongs to the branch, not to the op node: when a merged node is read twice, each read
keeps its own drop-path mask (codegen applies drop path per combine argument), so training
semantics do not change.
"""
from __future__ import annotations

import networkx as nx

from ...layers import LAYERS
from ..graph import args, order
from .manager import copy_graph, need_meta, register, replace_uses

SHAPE_KEYS = ("stride", "in_channels", "channels")


def parameter_free(g: nx.DiGraph, n: str) -> bool:
    """Whether op node `n` holds no parameters where it sits: its layer's record says (needs the
    shape pass's metadata)."""
    m = need_meta(g, n, ("layer", *SHAPE_KEYS), "cse")
    return LAYERS[m["layer"]].parameter_free


@register("cse")
def cse(g: nx.DiGraph, ctx: object = None) -> tuple[nx.DiGraph, bool]:
    """Merge identical parameter-free branches (same op, input, stride and channels)."""
    out = copy_graph(g)
    first: dict[tuple, str] = {}
    changed = False
    for n in order(out):
        d = out.nodes[n]
        if d["kind"] != "op":
            continue
        key = (d["op"], args(out, n)[0], tuple(d["meta"].get(k) for k in SHAPE_KEYS))
        if key not in first:
            first[key] = n
            continue
        keep = first[key]
        if parameter_free(out, n) and parameter_free(out, keep):
            replace_uses(out, n, keep)
            out.remove_node(n)
            changed = True
    return out, changed
