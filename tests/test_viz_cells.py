"""Cell diagrams: SVG/PNG/DOT of the zoo cells, the `nasdsl viz` command, the stage-cost chart."""
from __future__ import annotations

import random
import re
import xml.etree.ElementTree as ET

import pytest
from PIL import Image

from nasdsl.cli.dispatch import main
from nasdsl.errors import NasError
from nasdsl.lang import ast
from nasdsl.lang.load import load, load_text
from nasdsl.viz import draw as viz
from nasdsl.viz.layout import _hits, edge_points, layout_cell

SVG_NS = "{http://www.w3.org/2000/svg}"
ZOO_CELLS = ["nasnet_a_normal", "nasnet_a_reduce", "pnasnet5"]


def zoo_cell(name: str):
    return load(name).cells[name]


def svg_texts(svg_text: str) -> list[str]:
    root = ET.fromstring(svg_text)
    return ["".join(t.itertext()) for t in root.iter(f"{SVG_NS}text")]


@pytest.mark.parametrize("name", ZOO_CELLS)
def test_svg_is_wellformed_and_labels_every_op(name):
    cell = zoo_cell(name)
    text = viz.svg(cell)
    root = ET.fromstring(text)  # well-formed XML
    assert root.tag == f"{SVG_NS}svg"
    labels = svg_texts(text)
    for b in cell.blocks:
        for br in b.branches:
            assert any(t.split(" ")[0] == br.op for t in labels), br.op
    op_boxes = [g for g in root.iter(f"{SVG_NS}g") if "op" in g.get("class", "").split()]
    assert len(op_boxes) == sum(len(b.branches) for b in cell.blocks)
    assert labels.count("add") == len(cell.blocks)
    assert "concat" in labels and "h0" in labels and "h1" in labels
    assert viz.svg(cell) == text  # deterministic


def test_layout_puts_inputs_at_bottom_and_concat_on_top():
    lay = layout_cell(zoo_cell("nasnet_a_reduce"))
    ys = {n.id: n.y for n in lay.nodes}
    assert ys["h0"] == ys["h1"] == max(ys.values())  # SVG y grows downwards
    assert ys["next"] == min(ys.values()) and ys["out"] < min(ys[b] for b in ("b0", "b1", "b2", "b3", "b4"))
    # b3 reads b0 and b1: its ops sit above their combiners
    assert ys["b3.0"] < ys["b1"] and ys["b3.1"] < ys["b0"]
    # every edge runs upwards, and none crosses a box it does not connect
    for e in lay.edges:
        assert e.sy > e.dy
        others = [n for n in lay.nodes if n.id not in (e.src, e.dst)]
        assert not _hits(edge_points(e), others, pad=0.0), (e.src, e.dst)
    # no two boxes overlap
    boxes = list(lay.nodes)
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert abs(a.x - b.x) * 2 >= a.w + b.w or abs(a.y - b.y) * 2 >= a.h + b.h, (a.id, b.id)


def test_reduction_is_marked_and_strided_ops_flagged():
    red = viz.svg(zoo_cell("nasnet_a_reduce"))
    normal = viz.svg(zoo_cell("nasnet_a_normal"))
    assert 'data-kind="reduction"' in red and "stroke-dasharray" in red
    assert any(t.startswith("reduction cell") for t in svg_texts(red))
    assert not any(t.startswith("reduction cell") for t in svg_texts(normal))
    # ops reading h0/h1 are stride 2 in a reduction cell (7 of the 10 in NASNet-A), the others are not
    strided = [t for t in svg_texts(red) if t.endswith(" /2")]
    assert sorted(strided) == sorted(["sep5x5 /2", "sep7x7 /2", "max3x3 /2", "sep7x7 /2", "avg3x3 /2",
                                      "sep5x5 /2", "max3x3 /2"])
    assert not any(t.endswith(" /2") for t in svg_texts(normal))


def test_output_unused_resolves_states():
    prog = load_text("""
cell c : normal {
    b0 = sep3x3(h0) + id(h1)
    b1 = max3x3(b0) + conv1x7_7x1(h0)
    b2 = concat(dil3x3(h1), avg3x3(b0))
    out = concat(unused)
}""", "t.nas")
    lay = layout_cell(prog.cells["c"])
    into_out = sorted(e.src for e in lay.edges if e.dst == "out")
    assert into_out == ["b1", "b2"]
    assert lay.node("b2").label == "concat"  # a concat combiner is drawn as such
    assert "conv1x7_7x1" in svg_texts(viz.svg(prog.cells["c"]))


def test_side_by_side_cells_have_unique_groups_and_shared_rows():
    prog = load("nasnet_a_mobile")
    cells = [prog.cells["nasnet_a_normal"], prog.cells["nasnet_a_reduce"]]
    text = viz.svg(cells, id_prefix="x-")
    root = ET.fromstring(text)
    groups = [g for g in root.iter(f"{SVG_NS}g") if g.get("class") == "cell"]
    assert [g.get("data-cell") for g in groups] == ["nasnet_a_normal", "nasnet_a_reduce"]
    assert 'id="x-arrow"' in text and 'url(#x-arrow)' in text
    lays = viz._layouts(cells)
    assert lays[0].height == lays[1].height and lays[0].node("h0").y == lays[1].node("h0").y


def test_png_written_and_not_blank(tmp_path):
    out = viz.write([zoo_cell("nasnet_a_normal"), zoo_cell("nasnet_a_reduce")], tmp_path / "c.png")
    img = Image.open(out).convert("RGB")
    w, h = img.size
    assert w > 1500 and h > 500
    colours = img.getcolors(maxcolors=1 << 20)
    assert len(colours) > 50  # text, boxes and edges, not a blank canvas
    # the paper's palette is there: green add boxes, yellow concat, red reduction frame
    have = {c for _, c in colours}
    assert (0xB6, 0xD7, 0xA8) in have and (0xFF, 0xE5, 0x99) in have
    again = viz.write([zoo_cell("nasnet_a_normal"), zoo_cell("nasnet_a_reduce")], tmp_path / "again.png")
    assert again.read_bytes() == out.read_bytes()  # no timestamp or version stamped in


def test_dot_text():
    text = viz.dot([zoo_cell("nasnet_a_normal"), zoo_cell("nasnet_a_reduce")])
    assert text.startswith("digraph nasdsl {") and text.rstrip().endswith("}")
    assert text.count("subgraph") == 2 and "rankdir=BT" in text
    assert '"nasnet_a_reduce/b3.0" -> "nasnet_a_reduce/b3"' in text
    assert '"nasnet_a_reduce/b1" -> "nasnet_a_reduce/b3.0"' in text
    assert 'label="sep7x7 /2"' in text and "style=\"dashed\"" in text
    assert text.count("->") == sum(len(lay.edges) for lay in viz._layouts(
        [zoo_cell("nasnet_a_normal"), zoo_cell("nasnet_a_reduce")]))
    assert text == viz.dot([zoo_cell("nasnet_a_normal"), zoo_cell("nasnet_a_reduce")])
    assert text.count("{") == text.count("}")


def test_cli_writes_each_format(tmp_path, capsys):
    for suffix in ("svg", "png", "dot"):
        out = tmp_path / f"mobile.{suffix}"
        assert main(["viz", "nasnet_a_mobile", "-o", str(out)]) == 0
        assert out.stat().st_size > 1000
    assert "nasnet_a_normal, nasnet_a_reduce" in capsys.readouterr().out
    svg_a = (tmp_path / "mobile.svg").read_bytes()
    assert main(["viz", "nasnet_a_mobile", "-o", str(tmp_path / "again.svg")]) == 0
    assert (tmp_path / "again.svg").read_bytes() == svg_a  # same bytes on every run


def test_cli_file_with_several_cells_draws_all_or_the_chosen_one(tmp_path):
    src = tmp_path / "two.nas"
    src.write_text("cell a : normal { b0 = sep3x3(h0) + id(h1) out = concat(unused) }\n"
                   "cell b : reduction { b0 = max3x3(h0) + sep5x5(h1) out = concat(blocks) }\n")
    assert main(["viz", str(src), "-o", str(tmp_path / "all.svg")]) == 0
    cells = re.findall(r'data-cell="(\w+)"', (tmp_path / "all.svg").read_text())
    assert cells == ["a", "b"]
    assert main(["viz", str(src), "--cell", "b", "-o", str(tmp_path / "b.svg")]) == 0
    assert re.findall(r'data-cell="(\w+)"', (tmp_path / "b.svg").read_text()) == ["b"]


def test_cli_file_with_only_a_network_draws_its_cells(tmp_path):
    src = tmp_path / "net.nas"
    src.write_text("import nasnet_a_normal\nimport nasnet_a_reduce\n"
                   "network mine {\n    normal = nasnet_a_normal\n    reduction = nasnet_a_reduce\n"
                   "    stem = cifar\n    cells = 2 @ 192\n    image = 32\n    classes = 10\n}\n")
    assert main(["viz", str(src), "-o", str(tmp_path / "net.svg")]) == 0
    assert re.findall(r'data-cell="(\w+)"', (tmp_path / "net.svg").read_text()) == \
        ["nasnet_a_normal", "nasnet_a_reduce"]


def test_cli_bad_input_is_a_clear_error(tmp_path, capsys):
    assert main(["viz", "pnasnet5", "-o", str(tmp_path / "x.jpg")]) == 2
    assert "must end in .svg, .png or .dot" in capsys.readouterr().err
    assert main(["viz", "nasnet_a_mobile", "--cell", "nasnet_a_nrmal", "-o", str(tmp_path / "x.svg")]) == 2
    assert "did you mean 'nasnet_a_normal'" in capsys.readouterr().err
    assert main(["viz", "nasnet", "-o", str(tmp_path / "x.svg")]) == 2  # a space
    assert "no cell to draw" in capsys.readouterr().err
    assert main(["viz", "pnasnet5", "-o", str(tmp_path / "no" / "dir" / "x.svg")]) == 2
    assert "cannot write" in capsys.readouterr().err


def test_layout_rejects_a_cell_reading_an_unknown_state():
    from nasdsl.lang.parse import parse
    cell = parse("cell c { b0 = sep3x3(b7) + id(h1) out = concat(b0) }", "bad.nas").cells["c"]
    with pytest.raises(NasError, match="reads 'b7'"):
        viz.svg(cell)


def test_plot_stage_costs(tmp_path):
    rows = [("stem", 1_200, 30_000_000), ("stage 1", 250_000, 180_000_000), ("reduction 1", 90_000, 20_000_000),
            ("stage 2", 1_000_000, 170_000_000), ("head", 1_057_000, 1_057_000)]
    out = viz.plot_stage_costs(rows, tmp_path / "stages.png", title="nasnet_a_mobile")
    img = Image.open(out).convert("RGB")
    assert img.size[0] >= 600 and len(img.getcolors(maxcolors=1 << 20)) > 20
    assert {(0x3D, 0x85, 0xC6), (0xE6, 0x91, 0x38)} <= {c for _, c in img.getcolors(maxcolors=1 << 20)}
    svg_out = viz.plot_stage_costs(rows, tmp_path / "stages.svg")
    assert ET.parse(svg_out).getroot().tag == f"{SVG_NS}svg"
    assert svg_out.read_text().count("<path") > 20
    with pytest.raises(NasError):
        viz.plot_stage_costs([], tmp_path / "empty.png")
    with pytest.raises(NasError):
        viz.plot_stage_costs(rows, tmp_path / "stages.gif")


OPS = ("id", "sep3x3", "sep5x5", "sep7x7", "avg3x3", "max3x3", "conv1x1", "conv3x3", "conv1x7_7x1", "dil3x3")


def random_cell(rng: random.Random) -> ast.Cell:
    """A valid cell of 1-7 blocks, 1-3 branches each, any combiner and output mode."""
    blocks, states = [], ["h0", "h1"]
    for i in range(rng.randint(1, 7)):
        branches = tuple(ast.Branch(rng.choice(OPS), rng.choice(states)) for _ in range(rng.choice((1, 2, 2, 3))))
        blocks.append(ast.Block(f"b{i}", rng.choice(("add", "add", "concat")), branches))
        states.append(f"b{i}")
    mode = rng.choice(("unused", "blocks", "list"))
    out = ast.Output(mode, tuple(rng.sample(states, rng.randint(1, len(states)))) if mode == "list" else ())
    cell = ast.Cell("c", rng.choice(("normal", "reduction", "any")), tuple(blocks), out)
    return cell if viz.output_states(cell) else ast.Cell(cell.name, cell.kind, cell.blocks, ast.Output("blocks"))


def test_random_cells_draw_without_overlaps_or_crossings():
    for seed in range(150):
        cell = random_cell(random.Random(seed))
        lay = layout_cell(cell)
        boxes = list(lay.nodes)
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                assert abs(a.x - b.x) * 2 >= a.w + b.w or abs(a.y - b.y) * 2 >= a.h + b.h, (seed, a.id, b.id)
        for e in lay.edges:
            assert not _hits(edge_points(e), [n for n in boxes if n.id not in (e.src, e.dst)], pad=0.0), seed
        assert len(lay.edges) == sum(2 * len(b.branches) for b in cell.blocks) + len(viz.output_states(cell)) + 1
        labels = svg_texts(viz.svg(cell))
        assert all(any(t.split(" ")[0] == br.op for t in labels) for b in cell.blocks for br in b.branches)
