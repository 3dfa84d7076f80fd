"""Layered layout of a cell for drawing: inputs at the bottom, ops and combiners in rows, concat on top.

The layout is plain geometry (boxes and edges in SVG coordinates, y pointing down); the renderers in
`nasdsl.viz` turn it into SVG, PNG or DOT without any system package.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import ast
from .errors import Diagnostic, NasError
from .ops import CELL_INPUTS

# geometry, in SVG user units (px)
ROW = 58.0  # vertical distance between layers
BOX_H = 26.0
CHAR_W = 7.0  # average glyph width of 12px sans-serif
GAP = 12.0  # between the branches of one block
COL_GAP = 30.0  # between blocks
MARGIN = 24.0
HEADER = 46.0  # title and kind line
FOOTER = 26.0  # legend line


@dataclass(frozen=True)
class Node:
    """One box. `kind`: input | op | combine | output | result. (x, y) is the centre."""

    id: str
    kind: str
    label: str
    x: float
    y: float
    w: float
    h: float
    tip: str = ""  # tooltip: what the box computes
    badge: str = ""  # small mark in the corner ("/2" for a strided op, the block name on a combiner)


@dataclass(frozen=True)
class Edge:
    """A curve from the top of `src` (at sx) to the bottom of `dst` (at dx)."""

    src: str
    dst: str
    sx: float
    sy: float
    dx: float
    dy: float


@dataclass(frozen=True)
class CellLayout:
    name: str
    kind: str  # normal | reduction | any
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    width: float
    height: float

    @property
    def reduction(self) -> bool:
        return self.kind == "reduction"

    def node(self, node_id: str) -> Node:
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)


def _box_w(label: str, minimum: float = 64.0) -> float:
    return max(minimum, CHAR_W * len(label) + 18.0)


def _bad(message: str, pos: ast.Pos) -> NasError:
    return NasError(Diagnostic(message, pos.file, pos.line, pos.col))


def output_states(cell: ast.Cell) -> tuple[str, ...]:
    """The states the output concatenates, in order (`unused` follows the NASNet rule)."""
    out = cell.output
    if out.mode == "blocks":
        return tuple(b.name for b in cell.blocks)
    if out.mode == "unused":
        read = {br.input for b in cell.blocks for br in b.branches}
        order = list(CELL_INPUTS) + [b.name for b in cell.blocks]
        return tuple(s for s in order if s not in read)
    return tuple(out.states)


def _check(cell: ast.Cell) -> None:
    """The few facts the drawing relies on; full validation is `nasdsl.validate`'s job."""
    known = set(CELL_INPUTS)
    for b in cell.blocks:
        if b.name in known:
            raise _bad(f"cell {cell.name!r}: state {b.name!r} is defined twice", b.pos)
        if not b.branches:
            raise _bad(f"cell {cell.name!r}: block {b.name!r} has no branches", b.pos)
        for br in b.branches:
            if br.input not in known:
                raise _bad(f"cell {cell.name!r}: block {b.name!r} reads {br.input!r}, which is not "
                           f"h0, h1 or an earlier block", br.pos)
        known.add(b.name)
    for s in output_states(cell):
        if s not in known:
            raise _bad(f"cell {cell.name!r}: the output concatenates unknown state {s!r}", cell.output.pos)


def layout_cell(cell: ast.Cell) -> CellLayout:
    """Place every box of `cell`: one column per block (in block order), one row per depth."""
    _check(cell)
    reduction = cell.kind == "reduction"
    # depth: inputs 0; a block's ops one above its deepest input; its combiner one above its ops
    depth: dict[str, int] = {s: 0 for s in CELL_INPUTS}
    op_depth: dict[str, int] = {}
    for b in cell.blocks:
        op_depth[b.name] = max(depth[br.input] for br in b.branches) + 1
        depth[b.name] = op_depth[b.name] + 1
    outs = output_states(cell)
    out_depth = max([depth[s] for s in outs] + [0]) + 1
    top = out_depth + 1  # the result state

    def y_of(d: int) -> float:
        return MARGIN + HEADER + (top - d) * ROW + BOX_H / 2

    nodes: dict[str, Node] = {}
    state_node: dict[str, str] = {s: s for s in CELL_INPUTS}
    wires: list[tuple[str, str]] = []  # (src node, dst node)
    x = MARGIN
    for b in cell.blocks:
        widths = []
        for br in b.branches:
            strided = reduction and br.input in CELL_INPUTS
            widths.append(_box_w(br.op + (" /2" if strided else "")))
        col_w = sum(widths) + GAP * (len(widths) - 1)
        cx = x
        for i, (br, w) in enumerate(zip(b.branches, widths)):
            strided = reduction and br.input in CELL_INPUTS
            nid = f"{b.name}.{i}"
            nodes[nid] = Node(nid, "op", br.op, cx + w / 2, y_of(op_depth[b.name]), w, BOX_H,
                              tip=f"{b.name}: {br.op}({br.input})" + (" with stride 2" if strided else ""),
                              badge="/2" if strided else "")
            wires.append((state_node[br.input], nid))
            cx += w + GAP
        comb_w = _box_w(b.combine, 52.0)
        nodes[b.name] = Node(b.name, "combine", b.combine, x + col_w / 2, y_of(depth[b.name]), comb_w, BOX_H,
                             tip=f"{b.name} = {b.combine} of {len(b.branches)} branch(es)", badge=b.name)
        for i in range(len(b.branches)):
            wires.append((f"{b.name}.{i}", b.name))
        state_node[b.name] = b.name
        x += col_w + COL_GAP
    width = max(x - COL_GAP + MARGIN, 2 * MARGIN + 260.0)

    # the output concat and the result, centred over the states they collect
    centre = width / 2
    out_label = cell.output.combine
    nodes["out"] = Node("out", "output", out_label, centre, y_of(out_depth), _box_w(out_label, 90.0), BOX_H,
                        tip=f"out = {out_label}({', '.join(outs)})")
    for s in outs:
        wires.append((state_node[s], "out"))
    nodes["next"] = Node("next", "result", "out", centre, y_of(top), 64.0, BOX_H,
                         tip="the cell's output: the next cell's h0")
    wires.append(("out", "next"))

    # inputs at the bottom, each under the mean of its readers, kept apart and in the frame
    readers: dict[str, list[float]] = {s: [] for s in CELL_INPUTS}
    for src, dst in wires:
        if src in readers:
            readers[src].append(nodes[dst].x)
    want = {s: (sum(v) / len(v) if v else centre) for s, v in readers.items()}
    order = sorted(CELL_INPUTS, key=lambda s: (want[s], s != "h1"))  # ties: h1 left, as in the paper
    in_w = 64.0
    xs = [want[s] for s in order]
    min_sep = in_w + 40.0
    for i in range(1, len(xs)):
        xs[i] = max(xs[i], xs[i - 1] + min_sep)
    shift = max(0.0, xs[-1] + in_w / 2 + MARGIN - width)
    xs = [max(v - shift, MARGIN + in_w / 2 + i * min_sep) for i, v in enumerate(xs)]
    for s, sx in zip(order, xs):
        tip = "this cell's input (after ReLU-1x1-BN)" if s == "h0" else "the input before it (adjusted)"
        nodes[s] = Node(s, "input", s, sx, y_of(0), in_w, BOX_H, tip=tip)

    edges = _route(nodes, wires)
    height = y_of(0) + BOX_H / 2 + FOOTER + MARGIN / 2
    ordered = [nodes[s] for s in CELL_INPUTS] + [n for k, n in nodes.items() if k not in CELL_INPUTS]
    return CellLayout(cell.name, cell.kind, tuple(ordered), tuple(edges), round(width, 1), round(height, 1))


def _route(nodes: dict[str, Node], wires: list[tuple[str, str]]) -> list[Edge]:
    """Attach each wire to its boxes; several wires on one side are spread along it by the far end's x."""
    outgoing: dict[str, list[int]] = {}
    incoming: dict[str, list[int]] = {}
    for i, (src, dst) in enumerate(wires):
        outgoing.setdefault(src, []).append(i)
        incoming.setdefault(dst, []).append(i)

    def spread(node: Node, idx: list[int], far_x) -> dict[int, float]:
        idx = sorted(idx, key=lambda i: (far_x(i), i))
        n = len(idx)
        step = min(14.0, (node.w - 16.0) / max(n - 1, 1))
        return {i: node.x + (k - (n - 1) / 2) * step for k, i in enumerate(idx)}

    sx: dict[int, float] = {}
    dx: dict[int, float] = {}
    for src, idx in outgoing.items():
        sx.update(spread(nodes[src], idx, lambda i: nodes[wires[i][1]].x))
    for dst, idx in incoming.items():
        dx.update(spread(nodes[dst], idx, lambda i: nodes[wires[i][0]].x))
    edges = []
    for i, (src, dst) in enumerate(wires):
        s, d = nodes[src], nodes[dst]
        edges.append(Edge(src, dst, round(sx[i], 1), round(s.y - s.h / 2, 1), round(dx[i], 1),
                          round(d.y + d.h / 2, 1)))
    return edges
