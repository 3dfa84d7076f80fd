"""Identity folding: a block that is nothing but a plain identity of a state is that state.

How the IR says "read the state directly" inside the closed node-kind set:
- A combine reads only op nodes, so inside a multi-branch block a plain identity stays an `id` op
  node. A *plain* identity is an `id` op with stride 1 and no channel change (`is_plain_identity`);
  codegen renders it as a bare reference to its input (no module, no drop path) and cost gives it
  0 parameters and 0 mult-adds. An `id` with stride 2 or a channel change is TF-slim's
  ReLU-1x1 conv-BN projection and stays a real op.
- A block whose only branch is a plain identity (`b = id(x)`, or `concat(id(x))`) computes
  nothing: this pass deletes the block and its op node, and every reader of `b` (ops, the
  output) reads `x` instead. If the output already concatenated `x`, it now reads `x` twice.
Needs shape metadata (stride, in_channels, channels) on the identity op nodes it inspects.
"""
from __future__ import annotations

import networkx as nx

from ...lang.ops import OPS
from ..graph import args, order
from .manager import copy_graph, need_meta, register, replace_uses

# Combiners that return their single argument unchanged.
PASS_THROUGH = ("add", "concat")


def is_plain_identity(g: nx.DiGraph, n: str, pass_name: str = "fold-identity") -> bool:
    """Whether op node `n` is an identity with stride 1 and no channel change (a bare reference)."""
    d = g.nodes[n]
    if d["kind"] != "op" or OPS[d["op"]].family != "identity":
        return False
    m = need_meta(g, n, ("stride", "in_channels", "channels"), pass_name)
    return m["stride"] == 1 and m["in_channels"] == m["channels"]


@register("fold-identity")
def fold_identity(g: nx.DiGraph, ctx: object = None) -> tuple[nx.DiGraph, bool]:
    """Remove blocks that are a plain identity of a state; their readers read that state."""
    out = copy_graph(g)
    changed = False
    for c in order(g):
        d = out.nodes[c]
        if d["kind"] != "combine" or d["combiner"] not in PASS_THROUGH:
            continue
        branches = args(out, c)
        if len(branches) != 1 or not is_plain_identity(out, branches[0]):
            continue
        op = branches[0]
        state = args(out, op)[0]
        replace_uses(out, c, state)
        out.remove_node(c)
        if out.out_degree(op) == 0:
            out.remove_node(op)
        changed = True
    return out, changed
