"""Conversions: DARTS genotypes and TF-slim lists <-> .nas, checked against the published tuples."""
import dataclasses
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from proc_helpers import run_cli

from nasdsl.errors import NasError
from nasdsl.lang import ast
from nasdsl.lang.convert import (
    DARTS_OPS,
    TFSLIM_OPS,
    from_darts,
    from_tfslim,
    read_literals,
    to_darts,
    to_tfslim,
)
from nasdsl.lang.fmt import format_module
from nasdsl.lang.load import load, load_text
from nasdsl.lang.ops import OPS
from nasdsl.lang.parse import parse

# The genotypes of DARTS' cnn/genotypes.py (quark0/darts), in its own notation.
DARTS_GENOTYPES = """
from collections import namedtuple
Genotype = namedtuple('Genotype', 'normal normal_concat reduce reduce_concat')

NASNet = Genotype(
  normal = [
    ('sep_conv_5x5', 1), ('sep_conv_3x3', 0),
    ('sep_conv_5x5', 0), ('sep_conv_3x3', 0),
    ('avg_pool_3x3', 1), ('skip_connect', 0),
    ('avg_pool_3x3', 0), ('avg_pool_3x3', 0),
    ('sep_conv_3x3', 1), ('skip_connect', 1),
  ],
  normal_concat = [2, 3, 4, 5, 6],
  reduce = [
    ('sep_conv_5x5', 1), ('sep_conv_7x7', 0),
    ('max_pool_3x3', 1), ('sep_conv_7x7', 0),
    ('avg_pool_3x3', 1), ('sep_conv_5x5', 0),
    ('skip_connect', 3), ('avg_pool_3x3', 2),
    ('sep_conv_3x3', 2), ('max_pool_3x3', 1),
  ],
  reduce_concat = [4, 5, 6],
)

AmoebaNet = Genotype(
  normal = [
    ('avg_pool_3x3', 0), ('max_pool_3x3', 1),
    ('sep_conv_3x3', 0), ('sep_conv_5x5', 2),
    ('sep_conv_3x3', 0), ('avg_pool_3x3', 3),
    ('sep_conv_3x3', 1), ('skip_connect', 1),
    ('skip_connect', 0), ('avg_pool_3x3', 1),
    ],
  normal_concat = [4, 5, 6],
  reduce = [
    ('avg_pool_3x3', 0), ('sep_conv_3x3', 1),
    ('max_pool_3x3', 0), ('sep_conv_7x7', 2),
    ('sep_conv_7x7', 0), ('avg_pool_3x3', 1),
    ('max_pool_3x3', 0), ('max_pool_3x3', 1),
    ('conv_7x1_1x7', 0), ('sep_conv_3x3', 5),
  ],
  reduce_concat = [3, 4, 6]
)

DARTS_V1 = Genotype(normal=[('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('skip_connect', 0), ('sep_conv_3x3', 1), ('skip_connect', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('skip_connect', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 0), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('avg_pool_3x3', 0)], reduce_concat=[2, 3, 4, 5])
DARTS_V2 = Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])

DARTS = DARTS_V2
"""

# ENAS' CIFAR-10 cells in DARTS notation, as PyTorch reimplementations carry them.
ENAS_GENOTYPE = """ENAS = Genotype(
    normal=[('sep_conv_3x3', 1), ('skip_connect', 1), ('sep_conv_5x5', 1), ('skip_connect', 0),
            ('avg_pool_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('avg_pool_3x3', 1),
            ('sep_conv_5x5', 1), ('avg_pool_3x3', 0)],
    normal_concat=[2, 3, 4, 5, 6],
    reduce=[('sep_conv_5x5', 0), ('avg_pool_3x3', 1), ('sep_conv_3x3', 1), ('avg_pool_3x3', 1),
            ('sep_conv_3x3', 1), ('avg_pool_3x3', 1), ('sep_conv_5x5', 4), ('avg_pool_3x3', 1),
            ('sep_conv_3x3', 5), ('sep_conv_5x5', 0)],
    reduce_concat=[2, 3, 6])"""

# TF-slim's lists (nasnet_utils.py NasNetANormalCell / NasNetAReductionCell, pnasnet.py PNasNetCell).
TFSLIM = {
    "nasnet_a_normal": """
        operations = ['separable_5x5_2', 'separable_3x3_2', 'separable_5x5_2', 'separable_3x3_2',
                      'avg_pool_3x3', 'none', 'avg_pool_3x3', 'avg_pool_3x3', 'separable_3x3_2',
                      'none']
        used_hiddenstates = [1, 0, 0, 0, 0, 0, 0]
        hiddenstate_indices = [0, 1, 1, 1, 0, 1, 1, 1, 0, 0]""",
    "nasnet_a_reduce": """
        operations = ['separable_5x5_2', 'separable_7x7_2', 'max_pool_3x3', 'separable_7x7_2',
                      'avg_pool_3x3', 'separable_5x5_2', 'none', 'avg_pool_3x3', 'separable_3x3_2',
                      'max_pool_3x3']
        used_hiddenstates = [1, 1, 1, 0, 0, 0, 0]
        hiddenstate_indices = [0, 1, 0, 1, 0, 1, 3, 2, 2, 0]""",
    "pnasnet5": """
        operations = ['separable_5x5_2', 'max_pool_3x3', 'separable_7x7_2', 'max_pool_3x3',
                      'separable_5x5_2', 'separable_3x3_2', 'separable_3x3_2', 'max_pool_3x3',
                      'separable_3x3_2', 'none']
        used_hiddenstates = [1, 1, 0, 0, 0, 0, 0]
        hiddenstate_indices = [1, 1, 0, 0, 0, 0, 4, 0, 1, 0]""",
}
KINDS = {"nasnet_a_normal": "normal", "nasnet_a_reduce": "reduction", "pnasnet5": "any"}


def zoo_cell(name: str) -> ast.Cell:
    return load(name).cells[name]


def renamed(cell: ast.Cell, name: str) -> ast.Cell:
    return dataclasses.replace(cell, name=name)


# ---------------------------------------------------------------- DARTS

@pytest.fixture(scope="module")
def darts_cells():
    return from_darts(DARTS_GENOTYPES + ENAS_GENOTYPE).cells


def test_darts_cells_match_zoo(darts_cells):
    assert set(darts_cells) == {f"{g}_{p}" for g in ("nasnet", "amoebanet", "darts_v1", "darts_v2",
                                                     "enas") for p in ("normal", "reduce")}
    for name in ("darts_v1_normal", "darts_v1_reduce", "darts_v2_normal", "darts_v2_reduce",
                 "enas_normal", "enas_reduce"):
        assert darts_cells[name] == zoo_cell(name), name
    for part in ("normal", "reduce"):
        assert renamed(darts_cells[f"amoebanet_{part}"], f"amoebanet_a_{part}") == \
            zoo_cell(f"amoebanet_a_{part}")


def test_darts_input_numbering(darts_cells):
    """DARTS 0 = c_{k-2} = our h1, 1 = c_{k-1} = our h0: a one-node genotype shows it directly."""
    (cell,) = from_darts("Genotype(normal=[('skip_connect', 0), ('sep_conv_3x3', 1)], "
                         "normal_concat=[2])").items
    assert cell.blocks[0].branches == (ast.Branch("id", "h1"), ast.Branch("sep3x3", "h0"))
    # DARTS' NASNet entry is TF-slim's NASNet-A with the inputs renumbered: same blocks...
    for part, zoo in (("normal", "nasnet_a_normal"), ("reduce", "nasnet_a_reduce")):
        assert darts_cells[f"nasnet_{part}"].blocks == zoo_cell(zoo).blocks
    # ...but other concat lists: DARTS drops h1 (normal) and b1 (reduction) that TF-slim keeps.
    assert darts_cells["nasnet_normal"].output == ast.Output("blocks")
    assert zoo_cell("nasnet_a_normal").output.states == ("h1", "b0", "b1", "b2", "b3", "b4")
    assert darts_cells["nasnet_reduce"].output.states == ("b2", "b3", "b4")


def test_darts_darts_is_v2_and_v1_differs(darts_cells):
    assert darts_cells["darts_v2_normal"] != renamed(darts_cells["darts_v1_normal"], "darts_v2_normal")
    assert darts_cells["darts_v2_normal"].blocks[3].branches[1] == ast.Branch("dil_sep3x3", "b0")


@pytest.mark.parametrize("name", ["darts_v1", "darts_v2", "amoebanet_a", "enas"])
def test_to_darts_round_trip_zoo(name):
    normal, reduce = zoo_cell(f"{name}_normal"), zoo_cell(f"{name}_reduce")
    text = to_darts(normal, reduce)
    back = from_darts(text, name).cells
    assert back[f"{name}_normal"] == normal and back[f"{name}_reduce"] == reduce


def test_to_darts_matches_published_text():
    text = to_darts(zoo_cell("darts_v2_normal"), zoo_cell("darts_v2_reduce"))
    assert text == ("Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), "
                    "('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), "
                    "('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), "
                    "('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), "
                    "('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], "
                    "reduce_concat=[2, 3, 4, 5])")


def test_darts_variants():
    flat = from_darts("Genotype([('sep_conv_3x3', 1), ('max_pool_3x3', 0), ('dil_conv_5x5', 2), "
                      "('none', 1)], range(2, 4), None, None)", "x")
    nested = from_darts("g = Genotype(normal=[(('sep_conv_3x3', 1), ('max_pool_3x3', 0)), "
                        "(('dil_conv_5x5', 2), ('none', 1))], normal_concat=range(2, 4))")
    (a,), (b,) = flat.items, nested.items
    assert a.name == "x_normal" and b.name == "g_normal"
    assert a.blocks == b.blocks and a.output == b.output == ast.Output("blocks")
    assert a.blocks[1].branches == (ast.Branch("dil_sep5x5", "b0"), ast.Branch("none", "h0"))
    load_text(format_module(flat))


def test_darts_ops_are_registered():
    assert set(DARTS_OPS.values()) <= set(OPS) and set(TFSLIM_OPS.values()) <= set(OPS)
    assert DARTS_OPS["skip_connect"] == "id" and DARTS_OPS["none"] == "none"
    assert TFSLIM_OPS["none"] == "id"  # TF-slim's 'none' is the identity, DARTS' is zero


@pytest.mark.parametrize("text,message", [
    ("Genotype(normal=[('sep_conv_3x4', 0), ('skip_connect', 1)])", "unknown DARTS op 'sep_conv_3x4'"),
    ("Genotype(normal=[('sep_conv_3x3', 2), ('skip_connect', 1)])", "node 0 reads state 2"),
    ("Genotype(normal=[('sep_conv_3x3', 0)])", "two (op, input) pairs per node"),
    ("Genotype(normal=[('sep_conv_3x3', 0), ('skip_connect', 1)], normal_concat=[7])",
     "concat names state 7"),
    ("Genotype(normal=[('sep_conv_3x3', 0), ('skip_connect', 1)], colour=[1])", "unknown Genotype field"),
    ("Genotype(normal=[('sep_conv_3x3', 0) ('skip_connect', 1)])", "expected ','"),
    ("Genotype(normal=[('sep_conv_3x3', 0), ('skip_connect', 1)]", "unexpected end of input"),
    ("Genotype(normal=[('sep_conv_3x3', 0), ('skip_connect', -1)])", "unexpected character '-'"),
    ("[1, 2, 3]", "no Genotype(...) found"),
    ("Genotype(normal=[('none', 0), ('none', 1)], normal_concat=[])", "the concat list is empty"),
    ("Genotype(normal=[('none', 0), ('none', 1)], normal_concat=range(2, 10**30))", "unexpected character '*'"),
    ("Genotype(normal=[('none', 0), ('none', 1)], normal_concat=range(2, 1000000000000000000000))",
     "is too long"),
    ("__import__('os').system('touch /tmp/nasdsl_convert_pwned')", "unexpected character '.'"),
    ("Genotype(normal=__import__('os'))", "expected a list of (op, input) pairs"),
    ("Genotype(normal=[(system('touch /tmp/nasdsl_convert_pwned'), 0), ('none', 1)])",
     "expected an (op, input) pair"),
])
def test_darts_errors(text, message):
    with pytest.raises(NasError) as e:
        from_darts(text)
    assert message in e.value.render()
    d = e.value.diagnostics[0]
    assert d.line >= 1 and d.col >= 1
    assert not Path("/tmp/nasdsl_convert_pwned").exists()


# ---------------------------------------------------------------- TF-slim

@pytest.mark.parametrize("name", sorted(TFSLIM))
def test_tfslim_lists_match_zoo(name):
    (cell,) = from_tfslim(TFSLIM[name], name, KINDS[name]).items
    assert cell == zoo_cell(name)


@pytest.mark.parametrize("name", sorted(TFSLIM))
def test_to_tfslim_gives_the_released_lists(name):
    ours = dict(read_literals(to_tfslim(zoo_cell(name))))
    ref = dict(read_literals(TFSLIM[name]))
    for key in ("operations", "hiddenstate_indices", "used_hiddenstates"):
        assert [x.value for x in ours[key].value] == [x.value for x in ref[key].value], key


def test_tfslim_positional_and_call_forms():
    ops = ("['separable_5x5_2', 'max_pool_3x3', 'separable_7x7_2', 'max_pool_3x3', 'separable_5x5_2', "
           "'separable_3x3_2', 'separable_3x3_2', 'max_pool_3x3', 'separable_3x3_2', 'none']")
    idx, used = "[1, 1, 0, 0, 0, 0, 4, 0, 1, 0]", "[1, 1, 0, 0, 0, 0, 0]"
    (a,) = from_tfslim(f"{ops}, {idx}, {used}", "pnasnet5").items
    call = f"PNasNetCell(used_hiddenstates={used}, operations={ops}, hiddenstate_indices={idx})"
    (b,) = from_tfslim(call, "pnasnet5").items
    assert a == b == zoo_cell("pnasnet5")


@pytest.mark.parametrize("text,message", [
    ("operations = ['separable_3x3_2', 'none']\nhiddenstate_indices = [0, 1]", "missing TF-slim list"),
    ("operations = ['separable_3x3_1', 'none']\nhiddenstate_indices = [0, 1]\nused_hiddenstates = [1, 1, 0]",
     "unknown TF-slim op 'separable_3x3_1'"),
    ("operations = ['none', 'none']\nhiddenstate_indices = [0, 2]\nused_hiddenstates = [1, 1, 0]",
     "block 0 reads state 2"),
    ("operations = ['none', 'none']\nhiddenstate_indices = [0, 1]\nused_hiddenstates = [1, 0]",
     "used_hiddenstates has 2 entries"),
    ("operations = ['none', 'none']\nhiddenstate_indices = [0, 1]\nused_hiddenstates = [1, 1, 1]",
     "would output nothing"),
])
def test_tfslim_errors(text, message):
    with pytest.raises(NasError, match=message.replace("(", r"\(").replace("[", r"\[")):
        from_tfslim(text)


def test_to_tfslim_refuses_what_tfslim_cannot_say():
    with pytest.raises(NasError, match="has no TF-slim name"):
        to_tfslim(zoo_cell("darts_v2_normal"))  # dil_sep3x3
    cell = load_text("cell c { b0 = concat(id(h0), id(h1)) out = concat(b0) }").cells["c"]
    with pytest.raises(NasError, match="not the sum of two branches"):
        to_tfslim(cell)
    cell = load_text("cell c { b0 = id(h0) + id(h1) b1 = id(b0) + id(h0) out = concat(b1, b0) }").cells["c"]
    with pytest.raises(NasError, match="index order"):
        to_tfslim(cell)


# ---------------------------------------------------------------- random round trips

SHARED = sorted(set(DARTS_OPS.values()) & set(TFSLIM_OPS.values()))


@st.composite
def add_cells(draw):
    n = draw(st.integers(1, 6))
    blocks = []
    for k in range(n):
        states = ["h0", "h1", *(f"b{j}" for j in range(k))]
        blocks.append(ast.Block(f"b{k}", "add", tuple(
            ast.Branch(draw(st.sampled_from(SHARED)), draw(st.sampled_from(states))) for _ in range(2))))
    all_states = ["h0", "h1", *(f"b{j}" for j in range(n))]
    chosen = draw(st.lists(st.sampled_from(all_states), min_size=1, unique=True))
    chosen.sort(key=all_states.index)
    output = ast.Output("blocks") if chosen == all_states[2:] else ast.Output("list", tuple(chosen))
    return ast.Cell("c", "any", tuple(blocks), output)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(add_cells())
def test_random_round_trips(cell):
    (t,) = from_tfslim(to_tfslim(cell), "c").items
    assert t == cell
    d = from_darts(to_darts(cell), "c").cells["c_normal"]
    assert d == dataclasses.replace(cell, name="c_normal", kind="normal")


# ---------------------------------------------------------------- the command

def _cli(*args, stdin=None):
    return run_cli("convert", *args, input=stdin)


def test_convert_cli(tmp_path):
    r = _cli("--from", "darts", DARTS_GENOTYPES)
    assert r.returncode == 0, r.stderr
    program = load_text(r.stdout)
    assert program.cells["darts_v2_reduce"] == zoo_cell("darts_v2_reduce")
    f = tmp_path / "cell.py"
    f.write_text(TFSLIM["nasnet_a_reduce"])
    r = _cli("--from", "tfslim", "--name", "nasnet_a_reduce", "--kind", "reduction", str(f))
    assert r.returncode == 0 and parse(r.stdout).items == (zoo_cell("nasnet_a_reduce"),)
    r = _cli("--from", "nas", "--to", "tfslim", "pnasnet5")
    assert r.returncode == 0
    r2 = _cli("--from", "tfslim", "--name", "pnasnet5", "-", stdin=r.stdout)
    assert parse(r2.stdout).items == (zoo_cell("pnasnet5"),)
    r = _cli("--from", "nas", "--to", "darts", "darts_v1_normal", "--cell", "darts_v1_normal",
             "--cell", "darts_v1_reduce")
    assert r.returncode == 0 and "DARTS_V1 = " + r.stdout.strip() in DARTS_GENOTYPES
    for bad in (["Genotype(normal=[('sep_conv_3x4', 0)])"], ["--from", "tfslim", "[1, 2"],
                ["--from", "nas", "--to", "tfslim", "darts_v2_normal"]):
        r = _cli(*bad)
        assert r.returncode == 2 and "Traceback" not in r.stderr and "error" in r.stderr, bad


# ---------------------------------------------------------------- what convert once dropped or mangled

G = "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1)], normal_concat=[2])"


@pytest.mark.parametrize("text,message", [
    (f"A = {G}\na = {G}", "is named a_normal too"),  # names are lowercased: two genotypes, one name
    (f"{G}\n{G}", "is named darts_normal too"),
    ("Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1)], normal_concat=[2, 2])",
     "concat names state 2 twice"),
    ("Genotype(normal=None)", "no cell"),
])
def test_darts_genotypes_that_would_give_a_file_check_refuses_are_refused(text, message):
    with pytest.raises(NasError) as e:
        from_darts(text)
    assert message in e.value.render()
    assert e.value.diagnostics[0].line >= 1


def test_a_dotted_assignment_names_the_cell_after_its_last_part():
    (cell,) = from_darts(f"genotypes.DARTS = {G}").items
    assert cell.name == "darts_normal"
    load_text(format_module(from_darts(f"genotypes.DARTS = {G}")))


def test_lone_carriage_returns_end_lines_in_genotype_text():
    """A comment ends at a lone CR, as in .nas files: the genotype after it is read, errors located."""
    (cell,) = from_darts(f"# DARTS\r{G}\r").items
    assert cell.name == "darts_normal"
    with pytest.raises(NasError) as e:
        from_darts("# DARTS\r\rGenotype(normal=[('sep_conv_3x4', 0), ('none', 1)])\r")
    assert e.value.diagnostics[0].line == 3


@pytest.mark.parametrize("text,message", [
    ("operations = ['none', 'none']\nhiddenstate_indices = [0, 1]\nused_hiddenstates = [1, 1, 0]\n"
     "operations = ['none', 'none']", "operations given twice"),
    ("operations = ['none', 'none']\nhiddenstate_indices = [0, 1]\nused_hiddenstates = [1, 1, 5]",
     "used_hiddenstates: expected 0 or 1"),
])
def test_tfslim_text_of_two_cells_or_odd_flags_is_refused(text, message):
    """`--to tfslim` of a network writes both cells; reading that back kept the last cell alone."""
    with pytest.raises(NasError) as e:
        from_tfslim(text)
    assert message in e.value.render()


def test_to_darts_takes_the_networks_pair_and_refuses_to_guess(tmp_path):
    r = _cli("--from", "nas", "--to", "darts", "pnasnet5_large")  # normal and reduction: one cell
    assert r.returncode == 0, r.stderr
    normal, reduce = r.stdout.split("normal=")[1].split("normal_concat")[0], r.stdout.split("reduce=")[1].split("reduce_concat")[0]
    assert normal == reduce, r.stdout
    zoo = Path(__file__).resolve().parents[1] / "nasdsl" / "zoo" / "darts.nas"
    r = _cli("--from", "nas", "--to", "darts", str(zoo))  # V1 and V2: which pair?
    assert r.returncode == 2 and "Traceback" not in r.stderr and "--cell" in r.stderr, r.stderr
    r = _cli("--from", "nas", "--to", "darts", "--cell", "darts_v1_normal", "--reduce", "darts_v1_reduce", "-",
             stdin=zoo.read_text())  # standard input, read once for the cells and --reduce
    assert r.returncode == 0 and "DARTS_V1 = " + r.stdout.strip() in DARTS_GENOTYPES, r.stderr


@pytest.mark.parametrize("argv,flag", [
    (["--from", "nas", "--name", "x", "nasnet_a_normal"], "--name"),
    (["--from", "nas", "--kind", "normal", "nasnet_a_normal"], "--kind"),
    (["--from", "darts", "--kind", "normal", G], "--kind"),
    (["--from", "darts", "--cell", "x", G], "--cell"),
    (["--from", "nas", "--to", "tfslim", "--reduce", "nasnet_a_reduce", "nasnet_a_normal"], "--reduce"),
])
def test_a_flag_that_would_do_nothing_is_refused(argv, flag):
    """convert ignored --name and --kind with --from nas, --cell with genotypes, --reduce but for --to darts."""
    from proc_helpers import user_error

    user_error(_cli(*argv), f"{flag} is for", one_line=True)
