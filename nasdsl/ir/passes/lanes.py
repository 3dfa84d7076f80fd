"""Lanes: mark the op nodes that read the cell's second input, so they can run on a second thread.

A cell's two inputs are independent until a block combines them: NASNet-A's normal cell runs
three separable convolutions and a pool on h1 and as many again on h0 before any add reads both.
This pass puts every op node whose operand is input 1 (h1) on lane 1 (`meta["lane"] = 1`); code
generation then emits h1's preprocessing and those ops as the cell's `h1_side` method, which the
cell starts first and, after `network.lanes()`, runs on a second thread while the calling thread
runs h0's preprocessing and the ops that read h0. Blocks (combines, and so drop path with its
random draws) and the ops that read blocks run after both sides, in their usual order, so the
network computes exactly what it computes without the pass, in training too. The network starts
each cell's h1 side one cell early (in a NASNet stack a cell's h1 is the output of the cell
before the previous one), so the lane also overlaps the previous cell's h0 side and blocks.

The split is by operand, not by cost: a cell whose h1 side is much lighter than its h0 side and
blocks gains less. A cell with no op on h1 is left as it is.
"""
from __future__ import annotations

import networkx as nx

from ..graph import args
from .manager import copy_graph, register


def h1_input(g: nx.DiGraph) -> str | None:
    """The input node with index 1 (h1), if the cell has one."""
    return next((n for n, d in g.nodes(data=True) if d["kind"] == "input" and d.get("index") == 1), None)


@register("lanes")
def lanes(g: nx.DiGraph, ctx: object = None) -> tuple[nx.DiGraph, bool]:
    """Put the ops that read h1 on a second lane (a thread of their own after `network.lanes()`)."""
    out = copy_graph(g)
    h1 = h1_input(out)
    changed = False
    for n, d in out.nodes(data=True):
        if d["kind"] == "op" and h1 is not None and args(out, n)[0] == h1 and d["meta"].get("lane") != 1:
            d["meta"]["lane"] = 1
            changed = True
    return out, changed
