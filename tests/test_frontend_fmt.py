"""The formatter: one canonical form, `parse(format(m)) == m`, idempotent, comments kept."""
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from proc_helpers import run_cli

from nasdsl.lang import ast
from nasdsl.lang.fmt import format_module, format_number, format_text, format_value
from nasdsl.lang.load import load, load_text, zoo_index
from nasdsl.lang.parse import parse
from nasdsl.lang.spec import NETWORK_KEYS, SPACE_KEYS
from nasdsl.lang.validate import CELL_ROLES, output_states

ROOT = Path(__file__).resolve().parent.parent
ZOO = sorted((ROOT / "nasdsl" / "zoo").glob("*.nas"))
NASNET_OPS = load("nasnet").space_spec("nasnet").ops
COMBINERS = ("add", "concat")
KEYWORDS = {"cell", "network", "space", "import", "out", "true", "false", "h0", "h1", "unused", "blocks"}


# ---------------------------------------------------------------- strategies

names = st.from_regex(r"[a-z][a-z0-9_]{0,7}", fullmatch=True).filter(lambda s: s not in KEYWORDS)


@st.composite
def cells(draw, name=None):
    """A valid cell from the nasnet space: any B, 1-3 branches, add or concat, any output form."""
    n_blocks = draw(st.integers(1, 7))
    if draw(st.booleans()):
        block_names = [f"b{k}" for k in range(n_blocks)]
    else:
        block_names = draw(st.lists(names, min_size=n_blocks, max_size=n_blocks, unique=True))
    blocks = []
    for k, bname in enumerate(block_names):
        states = ["h0", "h1", *block_names[:k]]
        n_br = draw(st.sampled_from([2, 2, 2, 1, 3]))
        branches = tuple(ast.Branch(draw(st.sampled_from(NASNET_OPS)), draw(st.sampled_from(states)))
                         for _ in range(n_br))
        blocks.append(ast.Block(bname, draw(st.sampled_from(COMBINERS)), branches))
    all_states = ["h0", "h1", *block_names]
    probe = ast.Cell("x", "any", tuple(blocks), ast.Output("unused"))
    modes = ["blocks", "list"] + (["unused"] if output_states(probe) else [])
    mode = draw(st.sampled_from(modes))
    if mode == "list":
        chosen = draw(st.lists(st.sampled_from(all_states), min_size=1, unique=True))
        output = ast.Output("list", tuple(chosen))
    else:
        output = ast.Output(mode)
    kind = draw(st.sampled_from(["normal", "reduction", "any"]))
    return ast.Cell(name or "u_" + draw(names), kind, tuple(blocks), output)


nice_floats = st.one_of(
    st.floats(min_value=0.0, max_value=1e6, allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, 0.5, 1.0, 1e-3, 1e-5, 3.0, 0.6, 1e20, 2.5e-12]),
)


def _value(draw, schema, key, cell_names, normal):
    k = schema[key]
    if k.type == "cell":
        return draw(st.sampled_from(cell_names))
    if k.type == "int":  # within the key's bounds (nasdsl.lang.spec), which `check` enforces
        return draw(st.integers(int(k.lo if k.lo is not None else 1), int(k.hi if k.hi is not None else 10**6)))
    if k.type == "float":
        return draw(nice_floats.filter(k.in_range))
    if k.type == "bool":
        return draw(st.booleans())
    if k.type == "choice":
        return draw(st.sampled_from(k.choices))
    if k.type == "names":
        pool = NASNET_OPS if key == "ops" else COMBINERS
        chosen = draw(st.lists(st.sampled_from(pool), min_size=1, unique=True))
        return chosen[0] if len(chosen) == 1 else tuple(chosen)
    raise AssertionError(key)


@st.composite
def networks(draw, cell_list):
    def fitting(key):  # the cells a network may name for `key`: of its kind, or of no kind
        return [c.name for c in cell_list if c.kind in (CELL_ROLES[key], "any")]

    normal = draw(st.sampled_from([c for c in cell_list if c.name in fitting("normal")]))
    settings_ = [ast.Setting("normal", normal.name)]
    k = len(output_states(normal))
    for key in NETWORK_KEYS:
        if key in ("normal", "cells", "filters") or draw(st.booleans()):
            continue
        if key in CELL_ROLES:
            if fitting(key):
                settings_.append(ast.Setting(key, draw(st.sampled_from(fitting(key)))))
            continue
        settings_.append(ast.Setting(key, _value(draw, NETWORK_KEYS, key, [], normal)))
    if draw(st.booleans()):
        settings_.append(ast.Setting("cells", ast.CellsNP(draw(st.integers(1, 12)),
                                                          4 * k * draw(st.integers(1, 60)))))
    else:  # F and N small enough for the size bound (spec.MAX_PARAMS_ESTIMATE)
        settings_ += [ast.Setting("cells", draw(st.integers(1, 12))),
                      ast.Setting("filters", draw(st.integers(1, 60)))]
    order = list(NETWORK_KEYS)
    settings_.sort(key=lambda s: order.index(s.key))
    return ast.Network("u_" + draw(names), tuple(settings_))


@st.composite
def spaces(draw):
    settings_ = [ast.Setting("ops", _value(draw, SPACE_KEYS, "ops", [], None))]
    for key in SPACE_KEYS:
        if key != "ops" and draw(st.booleans()):
            settings_.append(ast.Setting(key, _value(draw, SPACE_KEYS, key, [], None)))
    order = list(SPACE_KEYS)
    settings_.sort(key=lambda s: order.index(s.key))
    return ast.Space("u_" + draw(names), tuple(settings_))


@st.composite
def modules(draw):
    cell_list = draw(st.lists(cells(), min_size=1, max_size=3, unique_by=lambda c: c.name))
    items = [ast.Import(n, False) for n in draw(st.lists(st.sampled_from(sorted(zoo_index())),
                                                         max_size=2, unique=True))]
    items += cell_list
    if any(c.kind != "reduction" for c in cell_list):  # a network needs a cell that may be its normal cell
        items += draw(st.lists(networks(cell_list), max_size=2, unique_by=lambda n: n.name))
    items += draw(st.lists(spaces(), max_size=2, unique_by=lambda s: s.name))
    names_ = [i.name for i in items if not isinstance(i, ast.Import)]
    if len(set(names_)) != len(names_):
        items = [i for i in items if not isinstance(i, (ast.Network, ast.Space))]
    return ast.Module(tuple(items))


def fast(n: int):
    return settings(max_examples=n, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---------------------------------------------------------------- round trips

@fast(2000)
@given(cells())
def test_random_cells_round_trip(cell):
    module = ast.Module((cell,))
    text = format_module(module)
    assert parse(text) == module
    assert format_text(text) == text
    load_text(text)  # and it is valid


@fast(300)
@given(modules())
def test_random_modules_round_trip(module):
    text = format_module(module)
    assert parse(text) == module, text
    assert format_text(text) == text
    load_text(text)


@fast(300)
@given(spaces(), st.randoms(use_true_random=False))
def test_settings_order_is_canonical(space, rnd):
    text = format_module(ast.Module((space,)))
    body = [f"{s.key} = {format_value(s.value)}" for s in space.settings]
    rnd.shuffle(body)
    shuffled = f"space {space.name} {{ " + "  ".join(body) + " }"
    assert parse(shuffled) == parse(text) == ast.Module((space,))
    assert format_text(shuffled) == text


@pytest.mark.parametrize("path", ZOO, ids=lambda p: p.name)
def test_zoo_is_canonical(path):
    text = path.read_text()
    module = parse(text)
    assert format_module(module) == text
    assert parse(format_module(module)) == module


def test_canonical_spelling():
    text = ("cell c:normal{b0=sep3x3(h0)+id(h1) b1=concat( id(h0),id(b0) ) out=concat(unused)}"
            "network n{bn_eps=0.00001 normal=c cells=4@1056 drop_path_keep=1. aux_head=true "
            "stem_multiplier=1e2}space s{ops=id,sep3x3 combine=add}")
    assert format_text(text) == (
        "cell c : normal {\n"
        "    b0 = sep3x3(h0) + id(h1)\n"
        "    b1 = concat(id(h0), id(b0))\n"
        "    out = concat(unused)\n"
        "}\n\n"
        "network n {\n"
        "    normal = c\n"
        "    cells = 4 @ 1056\n"
        "    stem_multiplier = 100.0\n"
        "    aux_head = true\n"
        "    drop_path_keep = 1.0\n"
        "    bn_eps = 1e-5\n"
        "}\n\n"
        "space s {\n"
        "    ops = id, sep3x3\n"
        "    combine = add\n"
        "}\n")


@pytest.mark.parametrize("x,text", [(3, "3"), (0.001, "0.001"), (1e-05, "1e-5"), (1e16, "1e16"),
                                    (2.5e-12, "2.5e-12"), (1.0, "1.0"), (123456789012, "123456789012")])
def test_numbers(x, text):
    assert format_number(x) == text
    assert parse(f"network n {{ image = {text} }}").items[0].settings[0].value == x


# ---------------------------------------------------------------- comments

def _comments(text):
    return sorted(c.text for c in parse(text).comments)


@fast(200)
@given(st.sampled_from(ZOO), st.lists(st.tuples(st.integers(0, 200), st.booleans()), max_size=8))
def test_comments_survive_formatting(path, spots):
    lines = path.read_text().splitlines()
    for n, (i, trailing) in enumerate(spots):
        i = i % (len(lines) + 1)
        if trailing and i < len(lines) and lines[i].strip():
            lines[i] += f"  # t{n}"
        else:
            lines.insert(i, f"# c{n}")
    text = "\n".join(lines) + "\n"
    out = format_text(text)
    assert parse(out) == parse(text)
    assert format_text(out) == out
    assert _comments(out) == _comments(text)


def test_comment_placement():
    text = ("# header\n\n"
            "cell c {  # about c\n"
            "  # before b0\n"
            "  b0 = id(h0)   # after b0\n"
            "  out = concat(b0) }  # closing\n"
            "network n { image = 224\n"
            "  # before normal\n"
            "  normal = c  cells = 2 @ 16\n"
            "  # at the end\n"
            "}\n"
            "# trailer\n")
    assert format_text(text) == (
        "# header\n\n"
        "cell c {  # about c\n"
        "    # before b0\n"
        "    b0 = id(h0)  # after b0\n"
        "    out = concat(b0)\n"
        "}  # closing\n\n"
        "network n {\n"
        "    # before normal\n"
        "    normal = c\n"
        "    cells = 2 @ 16\n"
        "    image = 224\n"
        "    # at the end\n"
        "}\n\n"
        "# trailer\n")


# ---------------------------------------------------------------- the command

def _cli(*args):
    return run_cli("fmt", *args)


def test_fmt_cli(tmp_path):
    messy = tmp_path / "messy.nas"
    messy.write_text("cell c{b0=id(h0) out=concat(blocks)}  # c\n")
    r = _cli(*map(str, ZOO))
    assert r.returncode == 0 and r.stdout == "".join(p.read_text() for p in ZOO)
    r = _cli("--check", *map(str, ZOO))
    assert (r.returncode, r.stdout) == (0, "")
    r = _cli("--check", str(messy), str(ZOO[0]))
    assert r.returncode == 1 and r.stdout == f"would reformat {messy}\n"
    r = _cli("--write", str(messy))
    assert r.returncode == 0
    assert messy.read_text() == "cell c {\n    b0 = id(h0)\n    out = concat(blocks)\n}  # c\n"
    assert _cli("--check", str(messy)).returncode == 0
    bad = tmp_path / "bad.nas"
    bad.write_text("cell c {")
    r = _cli("--check", str(bad))
    assert r.returncode == 2 and "Traceback" not in r.stderr and "bad.nas:1:" in r.stderr


def test_fmt_of_a_zoo_name_prints_its_own_definition():
    """Not the whole zoo file it is in (darts.nas holds eight cells)."""
    for name in ("darts_v2_normal", "darts_v2_cifar", "nasnet_a_mobile"):
        r = _cli(name)
        assert r.returncode == 0, r.stderr
        items = parse(r.stdout).items
        assert [i.name for i in items] == [name]
        zoo_text = zoo_index()[name].read_text()
        head = f"{'cell' if isinstance(items[0], ast.Cell) else 'network'} {name}"
        assert r.stdout[r.stdout.index(head):] in zoo_text  # as the canonical zoo file spells it


def test_format_random_smoke():
    """A seeded sample, independent of hypothesis: many nasnet-space cells format and re-parse."""
    rnd = random.Random(0)
    for _ in range(200):
        blocks = []
        for k in range(5):
            states = ["h0", "h1", *(f"b{j}" for j in range(k))]
            blocks.append(ast.Block(f"b{k}", rnd.choice(COMBINERS), tuple(
                ast.Branch(rnd.choice(NASNET_OPS), rnd.choice(states)) for _ in range(2))))
        m = ast.Module((ast.Cell("c", "normal", tuple(blocks), ast.Output("blocks")),))
        assert parse(format_module(m)) == m
