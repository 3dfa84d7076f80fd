"""Dead-block elimination: drop blocks (and op nodes) whose result nobody reads.

Only an explicit output list can leave a block dead: `concat(unused)` concatenates every block no
other block reads, and `concat(blocks)` every block. Removal repeats until nothing changes, since
dropping a block can leave the blocks it read dead too. Cell inputs are never removed.
"""
from __future__ import annotations

import networkx as nx

from .manager import copy_graph, register


@register("dead-block")
def dead_block(g: nx.DiGraph, ctx: object = None) -> tuple[nx.DiGraph, bool]:
    """Drop blocks and op nodes that nobody reads and the output does not concatenate."""
    out = copy_graph(g)
    changed = False
    while True:
        dead = [n for n, k in out.nodes(data="kind") if k in ("op", "combine") and out.out_degree(n) == 0]
        if not dead:
            return out, changed
        out.remove_nodes_from(dead)
        changed = True
