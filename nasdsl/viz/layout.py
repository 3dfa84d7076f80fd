"""Layered layout of a cell for drawing: inputs at the bottom, ops and combiners in rows, concat on top.

The layout is plain geometry (boxes and edges in SVG coordinates, y pointing down); the renderers in
`nasdsl.viz.draw` turn it into SVG, PNG or DOT without any system package.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import Diagnostic, NasError
from ..lang import ast
from ..lang.ops import CELL_INPUTS
from ..lang.validate import output_states

# geometry, in SVG user units (px)
ROW = 58.0  # vertical distance between layers
BOX_H = 26.0
CHAR_W = 7.0  # average glyph width of 12px sans-serif
GAP = 12.0  # between the branches of one block
COL_GAP = 30.0  # between blocks
MARGIN = 30.0
HEADER = 46.0  # title and kind line
FOOTER = 26.0  # legend line
MAX_ROUTED_WIRES = 240  # above this (about 80 blocks), wires are drawn without detours around boxes


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
    lane: tuple[float, float, float] | None = None  # (x, y_low, y_high): detour up a free column gap


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


def _check(cell: ast.Cell) -> None:
    """The few facts the drawing relies on; full validation is `nasdsl.lang.validate`'s job."""
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


def cell_depth(cell: ast.Cell) -> int:
    """The number of rows above the inputs that `layout_cell` needs for `cell`."""
    _check(cell)
    depth: dict[str, int] = {s: 0 for s in CELL_INPUTS}
    for b in cell.blocks:
        depth[b.name] = max(depth[br.input] for br in b.branches) + 2
    return max(depth.values()) + 2  # the output concat sits above every block, then the result


def layout_cell(cell: ast.Cell, rows: int = 0) -> CellLayout:
    """Place every box of `cell`: one column per block (in block order), one row per depth.
    `rows` > the cell's own depth stretches it (cells drawn side by side share their rows)."""
    _check(cell)
    reduction = cell.kind == "reduction"
    # depth: inputs 0; a block's ops one above its deepest input; its combiner one above its ops
    depth: dict[str, int] = {s: 0 for s in CELL_INPUTS}
    op_depth: dict[str, int] = {}
    for b in cell.blocks:
        op_depth[b.name] = max(depth[br.input] for br in b.branches) + 1
        depth[b.name] = op_depth[b.name] + 1
    outs = output_states(cell)
    out_depth = max(max(depth.values()) + 1, rows - 1)
    top = out_depth + 1  # the result state

    def y_of(d: int) -> float:
        return MARGIN + HEADER + (top - d) * ROW + BOX_H / 2

    nodes: dict[str, Node] = {}
    state_node: dict[str, str] = {s: s for s in CELL_INPUTS}
    wires: list[tuple[str, str]] = []  # (src node, dst node)
    x = MARGIN
    lanes = [MARGIN / 2]  # free vertical gaps: the margins and between block columns
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
        lanes.append(x - COL_GAP / 2)
    width = max(x - COL_GAP + MARGIN, 2 * MARGIN + 260.0)
    lanes[-1] = width - MARGIN / 2

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

    edges = _route(nodes, wires, lanes)
    height = y_of(0) + BOX_H / 2 + FOOTER + MARGIN / 2
    ordered = [nodes[s] for s in CELL_INPUTS] + [n for k, n in nodes.items() if k not in CELL_INPUTS]
    return CellLayout(cell.name, cell.kind, tuple(ordered), tuple(edges), round(width, 1), round(height, 1))


def _route(nodes: dict[str, Node], wires: list[tuple[str, str]], lanes: list[float]) -> list[Edge]:
    """Attach each wire to its boxes (several wires on one side are spread along it, ordered by the
    far end's x). A wire whose plain curve would cross a box detours up the nearest free column gap."""
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
    band = (ROW - BOX_H) * 0.55  # how far into the free band between two rows a detour turns
    edges: list[Edge] = []
    lane_use: dict[float, int] = {}
    detours = len(wires) <= MAX_ROUTED_WIRES  # collision checks cost wires x boxes: huge cells get plain curves
    for i, (src, dst) in enumerate(wires):
        s, d = nodes[src], nodes[dst]
        e = Edge(src, dst, round(sx[i], 1), round(s.y - s.h / 2, 1), round(dx[i], 1), round(d.y + d.h / 2, 1))
        others = [n for n in nodes.values() if n.id not in (src, dst)] if detours else []
        if detours and _hits(edge_points(e), others):
            mid = (e.sx + e.dx) / 2
            tries = [Edge(src, dst, e.sx, e.sy, e.dx, e.dy, (lx, e.sy - band, e.dy + band))
                     for lx in sorted(lanes, key=lambda lx: (abs(lx - mid), lx))]
            e = next((t for t in tries if not _hits(edge_points(t), others)), tries[0])
            k = lane_use.get(e.lane[0], 0)
            lane_use[e.lane[0]] = k + 1
            off = (k + 1) // 2 * 5.0 * (1 if k % 2 else -1)  # 0, +5, -5, +10 ... for shared gaps
            e = Edge(src, dst, e.sx, e.sy, e.dx, e.dy, (round(e.lane[0] + off, 1), e.lane[1], e.lane[2]))
        edges.append(e)
    return edges


def edge_segments(e: Edge) -> list[tuple[str, tuple[float, ...]]]:
    """An edge as path pieces: ("C", 3 points) cubic curves and ("L", 1 point) lines, from (sx, sy)."""
    if e.lane is None:
        k = max((e.sy - e.dy) * 0.45, 8.0)
        return [("C", (e.sx, e.sy - k, e.dx, e.dy + k, e.dx, e.dy))]
    lx, ylo, yhi = e.lane
    k1, k2 = (e.sy - ylo) * 0.6, (yhi - e.dy) * 0.6
    return [("C", (e.sx, e.sy - k1, lx, ylo + k1, lx, ylo)), ("L", (lx, yhi)),
            ("C", (lx, yhi - k2, e.dx, e.dy + k2, e.dx, e.dy))]


def edge_points(e: Edge, steps: int = 24) -> list[tuple[float, float]]:
    """Points along the drawn edge (for collision checks)."""
    pts = [(e.sx, e.sy)]
    for kind, p in edge_segments(e):
        x0, y0 = pts[-1]
        if kind == "L":
            pts += [(x0 + (p[0] - x0) * t / steps, y0 + (p[1] - y0) * t / steps) for t in range(1, steps + 1)]
            continue
        for t in range(1, steps + 1):
            u = t / steps
            a, b, c, d = (1 - u) ** 3, 3 * (1 - u) ** 2 * u, 3 * (1 - u) * u * u, u ** 3
            pts.append((a * x0 + b * p[0] + c * p[2] + d * p[4], a * y0 + b * p[1] + c * p[3] + d * p[5]))
    return pts


def _hits(points: list[tuple[float, float]], boxes: list[Node], pad: float = 3.0) -> bool:
    for n in boxes:
        x0, x1 = n.x - n.w / 2 - pad, n.x + n.w / 2 + pad
        y0, y1 = n.y - n.h / 2 - pad, n.y + n.h / 2 + pad
        if any(x0 <= x <= x1 and y0 <= y <= y1 for x, y in points):
            return True
    return False
