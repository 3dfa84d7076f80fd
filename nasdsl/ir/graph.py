"""The cell IR: a networkx DiGraph with four node kinds and a fixed attribute schema.

    input    h0, h1                      attrs: index
    op       "<block>.<slot>"            attrs: op, block, slot
    combine  "<block>"                   attrs: combiner
    output   "out"                       attrs: (none)

Every node also has `kind`, `pos` (the DSL position it came from) and `meta` (a dict that
analyses fill: channels, stride, spatial size, params, madds). Edges carry `port`, the argument
position at the consumer, or a tuple of positions when the consumer reads that node more than once
(after CSE a combine may read one op twice); `args()` expands them. Graph attributes: `name`,
`cell_kind`.
"""
from __future__ import annotations

import networkx as nx

from ..lang import ast
from ..lang.ops import CELL_INPUTS, COMBINERS, OPS
from ..lang.validate import output_states

KINDS = ("input", "op", "combine", "output")
SCHEMA: dict[str, tuple[str, ...]] = {
    "input": ("index",),
    "op": ("op", "block", "slot"),
    "combine": ("combiner",),
    "output": (),
}
COMMON = ("kind", "pos", "meta")


class LintError(Exception):
    """A malformed IR graph: a compiler bug, not bad user input. Carries the printed graph."""


def cell_graph(cell: ast.Cell) -> nx.DiGraph:
    """The IR of a validated cell."""
    g = nx.DiGraph(name=cell.name, cell_kind=cell.kind)
    for i, name in enumerate(CELL_INPUTS):
        g.add_node(name, kind="input", index=i, pos=cell.pos, meta={})
    for block in cell.blocks:
        for slot, br in enumerate(block.branches):
            node = f"{block.name}.{slot}"
            g.add_node(node, kind="op", op=br.op, block=block.name, slot=slot, pos=br.pos, meta={})
            g.add_edge(br.input, node, port=0)
        g.add_node(block.name, kind="combine", combiner=block.combine, pos=block.pos, meta={})
        for slot in range(len(block.branches)):
            g.add_edge(f"{block.name}.{slot}", block.name, port=slot)
    g.add_node("out", kind="output", pos=cell.output.pos, meta={})
    for port, state in enumerate(output_states(cell)):
        g.add_edge(state, "out", port=port)
    lint(g)
    return g


def ports(g: nx.DiGraph, u: str, v: str) -> tuple[int, ...]:
    """The argument positions at which `v` reads `u`: an edge's `port` is an int, or a tuple of
    ints when one node is read more than once (e.g. after CSE, `add(%b3.0, %b3.0)`)."""
    p = g.edges[u, v]["port"]
    return tuple(p) if isinstance(p, (tuple, list)) else (p,)


def args(g: nx.DiGraph, node: str) -> list[str]:
    """The node's inputs in port order (a node read twice appears twice)."""
    return [u for _, u in sorted((p, u) for u, _ in g.in_edges(node) for p in ports(g, u, node))]


def order(g: nx.DiGraph) -> list[str]:
    """Nodes in a stable topological order (insertion order breaks ties)."""
    rank = {n: i for i, n in enumerate(g.nodes)}
    return list(nx.lexicographical_topological_sort(g, key=lambda n: rank[n]))


def lint(g: nx.DiGraph) -> None:
    """Check the whole graph; raise LintError naming the problems, with the graph printed."""
    problems: list[str] = []
    for n, d in g.nodes(data=True):
        kind = d.get("kind")
        if kind not in KINDS:
            problems.append(f"{n}: unknown kind {kind!r}")
            continue
        want = set(COMMON) | set(SCHEMA[kind])
        if set(d) != want:
            problems.append(f"{n}: attributes {sorted(d)} != schema {sorted(want)}")
        ins = args(g, n)
        used = sorted(p for u, _ in g.in_edges(n) for p in ports(g, u, n))
        if used != list(range(len(used))):
            problems.append(f"{n}: ports {used} are not 0..{len(used) - 1}")
        if kind == "input" and ins:
            problems.append(f"{n}: an input has inputs")
        if kind == "op":
            if len(ins) != 1:
                problems.append(f"{n}: an op takes exactly one input, has {len(ins)}")
            if d.get("op") not in OPS:
                problems.append(f"{n}: unknown op {d.get('op')!r}")
            if any(g.nodes[u]["kind"] not in ("input", "combine") for u in ins):
                problems.append(f"{n}: an op reads a state (input or combine)")
        if kind == "combine":
            if not ins or any(g.nodes[u]["kind"] != "op" for u in ins):
                problems.append(f"{n}: a combine reads one or more ops")
            if d.get("combiner") not in COMBINERS:
                problems.append(f"{n}: unknown combiner {d.get('combiner')!r}")
        if kind == "output":
            if g.out_degree(n):
                problems.append(f"{n}: the output feeds something")
            if not ins or any(g.nodes[u]["kind"] not in ("input", "combine") for u in ins):
                problems.append(f"{n}: the output concatenates states")
    outs = [n for n, k in g.nodes(data="kind") if k == "output"]
    if len(outs) != 1:
        problems.append(f"graph has {len(outs)} output nodes, expected 1")
    if not nx.is_directed_acyclic_graph(g):
        problems.append("graph has a cycle: " + str(nx.find_cycle(g)))
    if problems:
        raise LintError("IR lint failed:\n  " + "\n  ".join(problems) + "\n" + print_graph(g, meta=False))


def print_graph(g: nx.DiGraph, meta: bool = True) -> str:
    """One node per line, topological order, stable names; analysis metadata in a trailing comment."""
    kind = g.graph.get("cell_kind", "any")
    lines = [f"cell {g.graph.get('name', '?')}" + (f" : {kind}" if kind != "any" else "")]
    try:
        nodes = order(g)
    except nx.NetworkXUnfeasible:
        nodes = list(g.nodes)
    for n in nodes:
        d = g.nodes[n]
        operands = ", ".join(f"%{u}" for u in args(g, n))
        k = d.get("kind")
        if k == "input":
            text = f"input {d.get('index')}"
        elif k == "op":
            text = f"op {d.get('op')}({operands})"
        elif k == "combine":
            text = f"combine {d.get('combiner')}({operands})"
        else:
            text = f"output concat({operands})"
        line = f"  %{n} = {text}"
        if meta and d.get("meta"):
            line += "  # " + " ".join(f"{key}={_fmt(v)}" for key, v in sorted(d["meta"].items()))
        lines.append(line)
    return "\n".join(lines) + "\n"


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, (tuple, list)):
        return "x".join(str(x) for x in v)
    return str(v)
