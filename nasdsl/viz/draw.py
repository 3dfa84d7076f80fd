"""Cell diagrams as SVG (written directly), PNG (matplotlib) and DOT text, plus a per-stage cost chart.

No system package is needed: the layout is our own (`nasdsl.viz.layout`), SVG is plain text, PNG is
drawn by matplotlib's Agg canvas from the same layout. Same input, same bytes (SVG and DOT).
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from ..errors import Diagnostic, NasError
from ..lang import ast
from .layout import (
    BOX_H,
    CHAR_W,
    MARGIN,
    CellLayout,
    Node,
    cell_depth,
    edge_segments,
    layout_cell,
    output_states,
)

__all__ = ["FORMATS", "PLOT_FORMATS", "check_plot_name", "dot", "layout_cell", "output_states", "plot_stage_costs", "png", "svg", "write"]

FORMATS = (".svg", ".png", ".dot")
CELL_GAP = 20.0  # between cells drawn side by side
FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"

# colours close to the NASNet paper's figures: hidden states blue, ops grey, add green, concat yellow
FILL = {"input": "#cfe2f3", "op": "#eeeeee", "combine": "#b6d7a8", "output": "#ffe599", "result": "#cfe2f3"}
STROKE = {"input": "#3d85c6", "op": "#777777", "combine": "#38761d", "output": "#bf9000", "result": "#3d85c6"}
RED = "#c0392b"
EDGE = "#666666"
INK = "#222222"
MUTED = "#777777"
LEGEND = "h0: this cell's input  ·  h1: the input before it  ·  out: the next cell's h0"


def _kind_line(lay: CellLayout) -> str:
    if lay.kind == "reduction":
        return "reduction cell: halves H and W; /2 = stride 2 (ops reading h0, h1)"
    if lay.kind == "normal":
        return "normal cell: keeps H and W"
    return "cell (used as normal or reduction)"


def _n(v: float) -> str:
    """A coordinate as short, stable text."""
    s = f"{v:.1f}"
    return s.removesuffix(".0")


def _layouts(cells: ast.Cell | Sequence[ast.Cell]) -> list[CellLayout]:
    if isinstance(cells, ast.Cell):
        cells = [cells]
    if not cells:
        raise NasError("nothing to draw: no cells given")
    rows = max(cell_depth(c) for c in cells)  # side by side: inputs and outputs on shared rows
    return [layout_cell(c, rows) for c in cells]


# ---------------------------------------------------------------------------------------- SVG
def svg(cells: ast.Cell | Sequence[ast.Cell], id_prefix: str = "nasdsl-") -> str:
    """One SVG document drawing `cells` side by side. `id_prefix` keeps ids unique when several SVGs
    are inlined into one HTML page."""
    lays = _layouts(cells)
    width = sum(lay.width for lay in lays) + CELL_GAP * (len(lays) - 1)
    height = max(lay.height for lay in lays)
    arrow = f"{id_prefix}arrow"
    out = [
        (f'<svg xmlns="http://www.w3.org/2000/svg" width="{_n(width)}" height="{_n(height)}" '
         f'viewBox="0 0 {_n(width)} {_n(height)}" font-family="{FONT}" font-size="12" role="img">'),
        f"<title>{escape('cell diagram: ' + ', '.join(f'{lay.name} ({lay.kind})' for lay in lays))}</title>",
        (f'<defs><marker id="{arrow}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        f'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{EDGE}"/></marker></defs>'),
        f'<rect width="{_n(width)}" height="{_n(height)}" fill="#ffffff"/>',
    ]
    x0 = 0.0
    for lay in lays:
        out.append(f'<g class="cell" data-cell={quoteattr(lay.name)} data-kind="{lay.kind}" '
                   f'transform="translate({_n(x0)},0)">')
        out += _svg_cell(lay, arrow)
        out.append("</g>")
        x0 += lay.width + CELL_GAP
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _svg_cell(lay: CellLayout, arrow: str) -> list[str]:
    red = lay.reduction
    frame = (f'<rect class="frame" x="1" y="1" width="{_n(lay.width - 2)}" height="{_n(lay.height - 2)}" '
             f'rx="8" fill="{"#fdf2f0" if red else "#fafafa"}" stroke="{RED if red else "#bbbbbb"}" '
             f'stroke-width="{2 if red else 1}"' + (' stroke-dasharray="6 3"' if red else "") + "/>")
    lines = [
        frame,
        (f'<text x="{_n(MARGIN)}" y="{_n(MARGIN + 8)}" font-size="15" font-weight="bold" fill="{INK}">'
        f"{escape(lay.name)}</text>"),
        (f'<text class="kind" x="{_n(MARGIN)}" y="{_n(MARGIN + 26)}" font-size="11" '
        f'fill="{RED if red else MUTED}">{escape(_kind_line(lay))}</text>'),
    ]
    for e in lay.edges:
        d = f"M{_n(e.sx)},{_n(e.sy)}"
        for kind, pts in edge_segments(e):
            d += f" {kind}" + " ".join(f"{_n(pts[j])},{_n(pts[j + 1])}" for j in range(0, len(pts), 2))
        lines.append(f'<path class="edge" d="{d}" fill="none" stroke="{EDGE}" stroke-width="1.2" '
                     f'marker-end="url(#{arrow})"/>')
    for n in lay.nodes:
        lines += _svg_node(n)
    lines.append(f'<text x="{_n(lay.width / 2)}" y="{_n(lay.height - 12)}" text-anchor="middle" '
                 f'font-size="10" fill="{MUTED}">{escape(LEGEND)}</text>')
    return lines


def _svg_node(n: Node) -> list[str]:
    rx = BOX_H / 2 if n.kind == "combine" else 4
    x, y = n.x - n.w / 2, n.y - n.h / 2
    ty = n.y + 4.2  # baseline that centres 12px text
    parts = [f'<g class="node {n.kind}" data-id={quoteattr(n.id)}><title>{escape(n.tip)}</title>',
             (f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(n.w)}" height="{_n(n.h)}" rx="{_n(rx)}" '
             f'fill="{FILL[n.kind]}" stroke="{STROKE[n.kind]}" stroke-width="1.2"/>')]
    weight = ' font-weight="bold"' if n.kind in ("input", "result", "output") else ""
    label = escape(n.label)
    if n.kind == "op" and n.badge:
        label += f'<tspan fill="{RED}" font-weight="bold"> {escape(n.badge)}</tspan>'
    parts.append(f'<text x="{_n(n.x)}" y="{_n(ty)}" text-anchor="middle" fill="{INK}"{weight}>{label}</text>')
    if n.kind == "combine" and n.badge:
        parts.append(f'<text x="{_n(x - 4)}" y="{_n(ty)}" text-anchor="end" font-size="10" '
                     f'fill="{MUTED}">{escape(n.badge)}</text>')
    parts.append("</g>")
    return parts


# ---------------------------------------------------------------------------------------- PNG
MAX_PNG_PIXELS = 16_000  # longest side of a PNG; matplotlib's Agg buffer grows with its area


def png(cells: ast.Cell | Sequence[ast.Cell], path: str | Path, scale: float = 2.0) -> Path:
    """Draw the same layout as `svg` with matplotlib (Agg, no display needed) into a PNG file."""
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
    from matplotlib.path import Path as MPath

    lays = _layouts(cells)
    width = sum(lay.width for lay in lays) + CELL_GAP * (len(lays) - 1)
    height = max(lay.height for lay in lays)
    scale = min(scale, MAX_PNG_PIXELS / max(width, height))  # a huge cell: fewer pixels per unit
    if scale < 0.25:
        raise NasError(Diagnostic(f"the drawing is too large for a PNG ({width:.0f} x {height:.0f} units); "
                                  "write .svg or .dot instead", str(path)))
    fig = Figure(figsize=(width / 100, height / 100), dpi=100)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)  # SVG coordinates: y down
    ax.axis("off")
    pt = 72 / 100  # px -> points at 100 dpi

    x0 = 0.0
    for lay in lays:
        red = lay.reduction
        ax.add_patch(FancyBboxPatch((x0 + 1, 1), lay.width - 2, lay.height - 2, boxstyle="round,pad=0,rounding_size=8",
                                    facecolor="#fdf2f0" if red else "#fafafa", edgecolor=RED if red else "#bbbbbb",
                                    linewidth=(2 if red else 1) * pt, linestyle="--" if red else "-"))
        ax.text(x0 + MARGIN, MARGIN + 8, lay.name, fontsize=15 * pt, fontweight="bold", color=INK,
                va="baseline", ha="left")
        ax.text(x0 + MARGIN, MARGIN + 26, _kind_line(lay), fontsize=11 * pt, color=RED if red else MUTED,
                va="baseline", ha="left")
        for e in lay.edges:
            verts, codes = [(x0 + e.sx, e.sy)], [MPath.MOVETO]
            for kind, pts in edge_segments(e):
                for j in range(0, len(pts), 2):
                    verts.append((x0 + pts[j], pts[j + 1]))
                    codes.append(MPath.CURVE4 if kind == "C" else MPath.LINETO)
            ax.add_patch(FancyArrowPatch(path=MPath(verts, codes), arrowstyle="-|>", mutation_scale=9,
                                         color=EDGE, linewidth=1.2 * pt, shrinkA=0, shrinkB=0, zorder=1))
        for n in lay.nodes:
            _png_node(ax, n, x0, pt, FancyBboxPatch)
        ax.text(x0 + lay.width / 2, lay.height - 12, LEGEND, fontsize=10 * pt, color=MUTED, ha="center",
                va="baseline")
        x0 += lay.width + CELL_GAP
    path = Path(path)
    fig.savefig(path, dpi=100 * scale, facecolor="white", metadata={"Software": None})
    return path


def _png_node(ax, n: Node, x0: float, pt: float, box) -> None:
    rounding = BOX_H / 2 if n.kind == "combine" else 4
    ax.add_patch(box((x0 + n.x - n.w / 2, n.y - n.h / 2), n.w, n.h,
                     boxstyle=f"round,pad=0,rounding_size={rounding}", facecolor=FILL[n.kind],
                     edgecolor=STROKE[n.kind], linewidth=1.2 * pt, zorder=2))
    weight = "bold" if n.kind in ("input", "result", "output") else "normal"
    cx = x0 + n.x
    if n.kind == "op" and n.badge:  # label then a red "/2", centred together as in the SVG
        shift = CHAR_W * (len(n.badge) + 1) / 2
        ax.text(cx - shift, n.y, n.label, fontsize=12 * pt, color=INK, ha="center", va="center", zorder=3)
        ax.text(cx - shift + CHAR_W * (len(n.label) + len(n.badge) + 1) / 2, n.y, n.badge, fontsize=12 * pt,
                color=RED, fontweight="bold", ha="center", va="center", zorder=3)
    else:
        ax.text(cx, n.y, n.label, fontsize=12 * pt, color=INK, fontweight=weight, ha="center", va="center",
                zorder=3)
    if n.kind == "combine" and n.badge:
        ax.text(cx - n.w / 2 - 4, n.y, n.badge, fontsize=10 * pt, color=MUTED, ha="right", va="center", zorder=3)


# ---------------------------------------------------------------------------------------- DOT
def _q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dot(cells: ast.Cell | Sequence[ast.Cell]) -> str:
    """Graphviz DOT text (bottom-to-top, one cluster per cell, positions from our layout in `pos`)."""
    lays = _layouts(cells)
    shape = {"input": "box", "op": "box", "combine": "ellipse", "output": "box", "result": "box"}
    out = ["digraph nasdsl {", "  rankdir=BT;", '  node [fontname="Helvetica", fontsize=11, style="filled,rounded"];',
           f'  edge [color="{EDGE}", arrowsize=0.7];']
    x0 = 0.0
    for lay in lays:
        red = lay.reduction
        out.append(f"  subgraph {_q('cluster_' + lay.name)} {{")
        out.append(f"    label={_q(lay.name + ': ' + _kind_line(lay))};")
        out.append(f'    color="{RED if red else "#bbbbbb"}"; style="{"dashed" if red else "solid"}";')
        for n in lay.nodes:
            label = n.label + (f" {n.badge}" if n.kind == "op" and n.badge else "")
            out.append(f"    {_q(lay.name + '/' + n.id)} [label={_q(label)}, shape={shape[n.kind]}, "
                       f'fillcolor="{FILL[n.kind]}", color="{STROKE[n.kind]}", tooltip={_q(n.tip)}, '
                       f'pos="{_n(x0 + n.x)},{_n(lay.height - n.y)}!"];')
        for e in lay.edges:
            out.append(f"    {_q(lay.name + '/' + e.src)} -> {_q(lay.name + '/' + e.dst)};")
        rows: dict[float, list[str]] = {}
        for n in lay.nodes:
            rows.setdefault(n.y, []).append(_q(lay.name + "/" + n.id))
        for y in sorted(rows):
            out.append(f"    {{ rank=same; {'; '.join(rows[y])}; }}")
        out.append("  }")
        x0 += lay.width + CELL_GAP
    out.append("}")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------- files
def write(cells: ast.Cell | Sequence[ast.Cell], path: str | Path) -> Path:
    """Draw `cells` into `path`; the format follows the suffix (.svg, .png or .dot)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise NasError(Diagnostic("cannot draw into this file: the name must end in .svg, .png or .dot",
                                  str(path)))
    try:
        if suffix == ".png":
            return png(cells, path)
        text = svg(cells) if suffix == ".svg" else dot(cells)
        path.write_text(text, encoding="utf-8")
    except OSError as e:
        raise NasError(Diagnostic(f"cannot write: {e.strerror or e}", str(path))) from None
    return path


PLOT_FORMATS = (".png", ".svg", ".pdf")


def check_plot_name(path: str | Path) -> Path:
    """`path`, or a NasError when its suffix is not a format plot_stage_costs writes."""
    path = Path(path)
    if path.suffix.lower() not in PLOT_FORMATS:
        raise NasError(Diagnostic("cannot plot into this file: the name must end in .png, .svg or .pdf",
                                  str(path)))
    return path


def plot_stage_costs(rows: Sequence[tuple[str, int | float, int | float]], path: str | Path,
                     title: str | None = None) -> Path:
    """A bar chart of parameters and mult-adds per stage (rows: (stage name, params, madds)) into
    `path` (.png, .svg or .pdf, by suffix), with an optional title. Each bar is labelled with its value."""
    from matplotlib.figure import Figure

    rows = list(rows)
    if not rows:
        raise NasError("no stages to plot")
    path = check_plot_name(path)
    names = [str(r[0]) for r in rows]
    series = [("parameters", [float(r[1]) for r in rows], "#3d85c6"),
              ("mult-adds", [float(r[2]) for r in rows], "#e69138")]
    fig = Figure(figsize=(max(6.0, 0.75 * len(rows) + 2.5), 6.2), dpi=100, layout="constrained")
    axes = fig.subplots(2, 1, sharex=True)
    if title:
        fig.suptitle(title, fontsize=13, fontweight="bold")
    positions = list(range(len(rows)))
    for ax, (what, values, colour) in zip(axes, series):
        bars = ax.bar(positions, values, color=colour, width=0.65)
        total = sum(values)
        ax.set_title(f"{what} per stage (total {_human(total)})", fontsize=11, loc="left")
        ax.bar_label(bars, labels=[_human(v) for v in values], fontsize=8, padding=2)
        ax.set_ylabel(what)
        ax.set_ylim(0, max(values + [1.0]) * 1.15)
        ax.yaxis.set_major_formatter(lambda v, _pos: _human(v))
        ax.grid(axis="y", color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    axes[-1].set_xticks(positions, names, rotation=30 if len(rows) > 6 else 0, ha="right" if len(rows) > 6 else "center")
    meta = {"Software": None} if path.suffix.lower() == ".png" else {"Date": None}
    try:
        fig.savefig(path, metadata=meta)
    except OSError as e:
        raise NasError(Diagnostic(f"cannot write: {e.strerror or e}", str(path))) from None
    return path


def _human(v: float) -> str:
    """1234567 -> '1.23M'."""
    for scale, unit in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(v) >= scale:
            return f"{v / scale:.3g}{unit}"
    return f"{v:.3g}"
