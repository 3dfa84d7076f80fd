"""Code generation: a network's shaped IR -> one readable, torch-only Python file (jinja2 templates).

`generate_source(program, network)` lays the network out with its skeleton, shapes every cell
instance, turns each distinct cell structure into a class record (explicit submodules named like
timm/Cadene, a straight-line forward) and renders `templates/module.py.j2`. `compile(...)` runs that
same source and calls its `build(...)`.

Safety: user text never becomes code. Class names come from cell/network names that match
`IDENT` (the grammar's names, checked again here), camel-cased and renamed by `fresh` until they
are no keyword (`none` -> `NoneCell`) and no global of the module (`f` -> `FNetwork`, not torch's
`F`); every other name in the output is made here (`comb_iter_3_left`, `h0`); numbers are
formatted from ints/floats. DSL text (file names, block names) only appears in comments, escaped by
`comment()` to printable ASCII.

IR produced by other passes is honoured: a combine that reads one op twice (CSE) reads its variable
twice; removed blocks simply produce no code.
"""
from __future__ import annotations

import builtins
import hashlib
import keyword
import linecache
import re
import types
from dataclasses import dataclass, field
from functools import lru_cache

import jinja2
import networkx as nx

from .. import __version__
from ..errors import NasError
from ..ir.graph import args, order
from ..lang import ast
from ..lang.load import Program
from ..lang.ops import OPS
from ..lang.resolve import cifar_spec, load_program, network_spec, resolve  # noqa: F401 - re-exported
from ..lang.spec import NetworkSpec
from ..lang.validate import override_problem
from ..layers import LAYERS, Site
from ..layers import classes as layer_classes
from ..naming import combine_name, op_attr
from ..resources import templates_dir
from ..skeletons import NetworkPlan, Passes, at_network, default_passes, pipeline_passes, plan, skeleton  # noqa: F401
from . import runtime

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# the templates that make a network's module; their top-level imports and functions are its globals
MODULE_TEMPLATES = ("module.py.j2", "network.py.j2")
# a top-level `def NAME`, `class NAME`, `import X [as NAME]` or `from X import NAME [as NAME]`
GLOBAL_BINDING = re.compile(r"^(?:(?:def|class)\s+(\w+)\s*[(:]|import\s+[\w.]+\s+as\s+(\w+)|import\s+(\w+)"
                            r"|from\s+[\w.]+\s+import\s+\w+\s+as\s+(\w+)|from\s+[\w.]+\s+import\s+(\w+))", re.M)
# runtime definitions every generated network uses (drop path in every cell, fusion in the network)
ALWAYS = ("ScheduledDropPath", "Fusable")


def comment(text: str) -> str:
    """`text` as safe comment content: printable ASCII only, everything else backslash-escaped
    (so no newline, carriage return, U+2028/2029 or other line break can end the comment)."""
    out = []
    for ch in str(text):
        if " " <= ch <= "~":
            out.append(ch)
        else:
            out.append(ch.encode("unicode_escape").decode("ascii"))
    return "".join(out)


def docstring_text(text: str) -> str:
    """`text` as safe content of a triple-quoted docstring: `comment`'s escaping, plus backslashes
    and double quotes escaped, so the text can neither end the string nor form an escape."""
    return comment(text).replace("\\", "\\\\").replace('"', '\\"')


def where(pos: ast.Pos, what: str = "") -> str:
    """`file:line` of a DSL position (+ a short note), escaped for a comment."""
    return comment(f"{pos.file}:{pos.line}" + (f" {what}" if what else ""))


def dsl_name(name: str) -> str:
    """A DSL name for a docstring or a comment: what the grammar's NAME matches (a Python keyword
    such as `class` is a fine DSL name; it never names code)."""
    if not IDENT.match(name):
        raise NasError(f"{name!r} cannot name generated code: not a name")
    return name


def camel(name: str) -> str:
    """`nasnet_a` -> `NasnetA`: the start of a class name (which `fresh` keeps clear of keywords
    such as `None` and of the module's globals)."""
    parts = [p for p in dsl_name(name).split("_") if p]
    text = "".join(p[:1].upper() + p[1:] for p in parts) or "Cell"
    return text if text[0].isalpha() else "C" + text


def fresh(name: str, taken: set[str], tail: str, number: int = 0) -> str:
    """`name`, else `name + tail`, else that with `number` appended until it is neither taken nor a
    keyword; the result is added to `taken`."""
    first = name
    while name in taken or keyword.iskeyword(name):
        name = f"{first}{tail}" if name == first else f"{name}{number}"
    taken.add(name)
    return name


def module_names(padding: str) -> frozenset[str]:
    """Every global a generated module binds or reads besides its cell and network classes: the
    imports and functions of its templates, every runtime definition (extensions' included), every
    builtin."""
    return _template_globals() | runtime.names(padding) | frozenset(dir(builtins))


@lru_cache(maxsize=1)
def _template_globals() -> frozenset[str]:
    texts = [(templates_dir() / t).read_text() for t in MODULE_TEMPLATES]
    return frozenset(name for text in texts for m in GLOBAL_BINDING.finditer(text) for name in m.groups() if name)


def number(v: float) -> str:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise TypeError(f"not a number: {v!r}")
    return repr(int(v)) if isinstance(v, int) else repr(float(v))


@dataclass
class Line:
    code: str
    comment: str = ""
    lane: str = ""  # "h0" / "h1": a cell input's side (the lanes pass); "": after both sides


@dataclass
class CellClass:
    name: str
    doc: str
    eps: str
    signature: str
    init_lines: list[Line]
    forward_lines: list[Line]
    cell: str = ""
    variant: str = ""
    key: tuple = ()
    instances: list = field(default_factory=list)
    needs: set[str] = field(default_factory=set)  # runtime definitions its code names
    base: str = "nn.Module"
    side_signature: str = ""  # the h1_side method's arguments, when the lanes pass split the cell
    side_lines: list[Line] = field(default_factory=list)


def cell_class(g: nx.DiGraph, cell: ast.Cell, eps: float) -> CellClass:
    """The class record of one shaped cell instance (name left to the caller)."""
    F = g.graph["filters"]
    pre, resize, red = g.graph["preprocess"], g.graph["resize"], g.graph["reduction"]
    raw = pre["h1"] == "none" and g.graph.get("h1_is_input", False)
    block_index = {b.name: k for k, b in enumerate(cell.blocks)}
    init: list[Line] = []
    fwd: list[Line] = []
    expr: dict[str, str] = {}  # state -> channel expression
    var: dict[str, str] = {}  # node -> python variable holding its value
    dropped: dict[str, bool] = {}  # op node -> drop path applies
    cpos = cell.pos
    uses_out_hw = False  # some op's constructor reads the reduced size
    sk = skeleton(g.graph["family"])
    pool_class = runtime.PADDINGS[sk.padding].pool_class
    needs = {"ReluConvBn"}
    init.append(Line("self.conv_1x1 = ReluConvBn(in_channels, filters, hw=hw, eps=eps)", where(cpos, "h0")))
    fwd.append(Line("h0 = self.conv_1x1(x)", where(cpos, "h0"), "h0"))
    expr["h0"], var["h0"] = "filters", "h0"
    h1 = pre["h1"]
    if h1 == "conv1x1":
        init.append(Line("self.conv_prev_1x1 = ReluConvBn(prev_channels, filters, hw=hw, eps=eps)", where(cpos, "h1")))
        fwd.append(Line("h1 = self.conv_prev_1x1(x_prev)", where(cpos, "h1"), "h1"))
        expr["h1"] = "filters"
    elif h1 == "factorized":
        init.append(Line("self.conv_prev_1x1 = FactorizedReduce(prev_channels, filters, eps=eps)", where(cpos, "h1")))
        fwd.append(Line("h1 = self.conv_prev_1x1(x_prev)", where(cpos, "h1"), "h1"))
        expr["h1"] = "filters" if F % 2 == 0 else "filters // 2 * 2"
        needs.add("FactorizedReduce")
    elif raw:
        fwd.append(Line("h1 = x", where(cpos, "h1 is the cell input"), "h1"))
        expr["h1"] = "in_channels"
    else:
        fwd.append(Line("h1 = x_prev", where(cpos, "h1"), "h1"))
        expr["h1"] = "filters"
    var["h1"] = "h1"
    for n in order(g):
        d = g.nodes[n]
        if d["kind"] == "op":
            (src,) = args(g, n)
            m = d["meta"]
            attr = op_attr(block_index[d["block"]], d["slot"])
            hw = "out_hw" if red and g.nodes[src]["kind"] != "input" else "hw"
            ctor = LAYERS[m["layer"]].ctor(OPS[d["op"]], Site(expr[src], number(m["stride"]), hw, pool_class))
            needs.update(layer_classes(m["layer"], pool_class))
            note = where(d["pos"], f"{d['block']}: {d['op']}({src})")
            expr[n] = "filters"
            if ctor is None:
                var[n] = var[src]
                dropped[n] = False
                continue
            init.append(Line(f"self.{attr} = {ctor}", note))
            lane = "h1" if m.get("lane") == 1 else "h0" if src == "h0" else ""
            fwd.append(Line(f"x_{attr} = self.{attr}({var[src]})", note, lane))
            uses_out_hw = uses_out_hw or hw == "out_hw"
            var[n] = f"x_{attr}"
            dropped[n] = sk.drops(d["op"])
        elif d["kind"] == "combine":
            k = block_index[n]
            ins = args(g, n)
            terms = [f"self.drop_path({var[u]})" if dropped[u] else var[u] for u in ins]
            code = " + ".join(terms) if d["combiner"] == "add" else f"torch.cat([{', '.join(terms)}], 1)"
            fwd.append(Line(f"x_{combine_name(k)} = {code}", where(d["pos"], n)))
            var[n] = f"x_{combine_name(k)}"
            exprs = [expr.get(u, "filters") for u in ins]
            expr[n] = exprs[0] if d["combiner"] == "add" else _sum(exprs)
    if uses_out_hw:
        init.insert(0, Line("out_hw = out_size(hw)"))
        needs.add("out_size")
    outs = []
    for s in args(g, "out"):
        if s in resize:
            attr = f"reduce_{s}"
            ctor = (f"FactorizedReduce({expr[s]}, filters, relu=False, eps=eps)" if resize[s] == "factorized"
                    else f"ConvBn({expr[s]}, filters, eps=eps)")
            needs.add("FactorizedReduce" if resize[s] == "factorized" else "ConvBn")
            init.append(Line(f"self.{attr} = {ctor}", where(cell.output.pos, f"resize {s}")))
            fwd.append(Line(f"{s}_out = self.{attr}({var[s]})", where(cell.output.pos, f"resize {s}")))
            outs.append(f"{s}_out")
        else:
            outs.append(var[s])
    ret = f"torch.cat([{', '.join(outs)}], 1)" if len(outs) > 1 else outs[0]
    fwd.append(Line(f"return {ret}", where(cell.output.pos, "out")))
    variant = ("reduction" if red else "normal") + (", h1 = input" if raw else f", h1 {h1}")
    doc = f"Cell `{dsl_name(cell.name)}` ({variant})."
    signature = "x: torch.Tensor" if raw else "x: torch.Tensor, x_prev: torch.Tensor"
    rec = CellClass("", doc, number(float(eps)), signature, init, fwd, cell.name, variant, needs=needs)
    if any(d["meta"].get("lane") == 1 for _, d in g.nodes(data=True)):
        split_lanes(rec, "x" if raw else "x_prev")
    rec.key = (cell.name, tuple(ln.code for ln in init), tuple(ln.code for ln in rec.forward_lines),
               tuple(ln.code for ln in rec.side_lines))
    return rec


def split_lanes(rec: CellClass, h1_arg: str) -> None:
    """Move h1's preprocessing and the ops on lane 1 into the method `h1_side`, which `forward`
    starts first (on a second thread after `network.lanes()`) and waits for before the blocks."""
    side = [ln for ln in rec.forward_lines if ln.lane == "h1"]
    results = [ln.code.split(" = ", 1)[0] for ln in side]
    rec.side_signature = f"{h1_arg}: torch.Tensor"
    rec.side_lines = side + [Line(f"return {', '.join(results)}")]
    rec.forward_lines = (
        [Line(f"h1_side = self.start_h1_side({h1_arg})", "h1 and the ops that read it")]
        + [ln for ln in rec.forward_lines if ln.lane == "h0"]
        + [Line(f"{', '.join(results)} = h1_side()", "wait for the h1 side")]
        + [ln for ln in rec.forward_lines if not ln.lane])
    rec.base = "LaneCell"
    rec.needs |= {"LaneCell"}


def _sum(exprs: list[str]) -> str:
    if all(e == "filters" for e in exprs):
        return f"{len(exprs)} * filters"
    return " + ".join(f"({e})" for e in exprs)


# --------------------------------------------------------------------------------------------------
# programs and specs

def make_plan(program: Program, spec: NetworkSpec, passes: Passes = default_passes) -> NetworkPlan:
    """The skeleton plan, with `h1_is_input` marked on instances whose h1 is the cell input."""
    p = plan(program, spec, passes)
    for inst in p.cells:
        inst.graph.graph["h1_is_input"] = inst.prev is None
    return p


# --------------------------------------------------------------------------------------------------
# the network record

def _classes(program: Program, p: NetworkPlan, taken: set[str]) -> tuple[list[CellClass], dict[str, CellClass]]:
    """One class record per distinct cell structure, each named clear of `taken` (then taken too)."""
    by_key: dict[tuple, CellClass] = {}
    of: dict[str, CellClass] = {}
    for inst in p.cells:
        rec = cell_class(inst.graph, program.cells[inst.cell], p.spec.bn_eps)
        rec = by_key.setdefault(rec.key, rec)
        rec.instances.append(inst)
        of[inst.attr] = rec
    classes = list(by_key.values())
    per_cell: dict[str, list[CellClass]] = {}
    for c in classes:
        per_cell.setdefault(c.cell, []).append(c)
    for cell, recs in per_cell.items():
        base = camel(cell)
        for i, rec in enumerate(recs):
            first = rec.instances[0]
            suffix = ""
            if len(recs) > 1:
                g = first.graph.graph
                kind = program.cells[cell].kind
                if g["reduction"] and kind != "reduction":
                    suffix += "Reduction"
                if first.prev is None:
                    suffix += "NoPrev"
                elif g["preprocess"]["h1"] == "factorized":
                    suffix += "ReducePrev"
            rec.name = fresh(base + suffix, taken, "Cell", i)
    return classes, of


def _network_record(program: Program, p: NetworkPlan, of: dict[str, CellClass], name: str) -> dict:
    """The record templates/network.py.j2 renders: stem, cells in forward order, aux head, head;
    `name`: its class name."""
    spec, stem = p.spec, p.stem
    sk = skeleton(spec.skeleton)
    net = program.networks.get(spec.name)
    npos = net.pos if net is not None else program.main.items[0].pos
    note = where(npos, f"{stem.kind} stem")
    stem_init, stem_fwd = sk.stem_code(stem, spec)
    init = [Line(code, note) for code in stem_init]
    fwd = [Line(code, note) for code in stem_fwd]
    early = _lanes_ahead(p, of)
    for inst in p.cells:
        rec = of[inst.attr]
        c = inst.ctx
        prev_c = number(c.prev_channels if c.prev_channels is not None else c.in_channels)
        cpos = program.cells[inst.cell].pos
        # TF-slim scales drop path by the cell's depth; DARTS drops with the same probability everywhere
        ratio = f", layer_ratio={inst.index + 1} / {p.total_cells}" if sk.depth_drop_path else ""
        init.append(Line(f"self.{inst.attr} = {rec.name}({c.in_channels}, {prev_c}, {c.filters}, "
                         f"hw={number(c.in_hw[0])}, drop_path_keep=drop_path_keep{ratio}, eps=eps)",
                         where(cpos, inst.cell)))
        call_args = f"x_{inst.input}" + ("" if inst.prev is None else f", x_{inst.prev}")
        fwd += early.get(inst.attr, [])
        fwd.append(Line(f"x_{inst.attr} = self.{inst.attr}({call_args})", where(cpos, inst.cell)))
    aux = p.aux_shape()
    fits = aux is not None and not p.aux_problem()
    if spec.aux_head and aux is not None and not fits:
        raise at_network(NasError(p.aux_problem()), program, spec)
    options = f", stride={p.aux_stride}, bn={p.aux_bn}" if (p.aux_stride, p.aux_bn) != (3, True) else ""
    aux_ctor = f"AuxHead({aux[0]}, {number(aux[1][0])}, num_classes{options}, eps=eps)" if fits else "None"
    return {
        "name": name, "dsl_name": dsl_name(spec.name),
        "doc": f"Network `{dsl_name(spec.name)}`: {spec.skeleton} skeleton, {spec.stem} stem, "
            f"N = {spec.n}, F = {spec.filters}, {spec.image}x{spec.image} input.",
        "classes": number(spec.classes), "aux_head": str(bool(spec.aux_head and fits)),
        "drop_path_keep": number(spec.drop_path_keep), "dropout_keep": number(spec.dropout_keep),
        "eps": number(spec.bn_eps), "init_lines": init, "forward_lines": fwd, "aux_ctor": aux_ctor,
        "aux_input": (f"x_{p.aux_after}" if fits else "None"), "head_relu": sk.head_relu,
        "final_channels": number(p.final.channels), "last": f"x_{p.final.attr}",
    }


def _lanes_ahead(p: NetworkPlan, of: dict[str, CellClass]) -> dict[str, list[Line]]:
    """The `ahead` calls to emit before each cell's call: every laned cell's h1 side starts as soon
    as its input exists, but at most one laned cell early and in cell order (the lane runs them
    first come, first served). In a NASNet stack a cell's h1 is the output of the cell before the
    previous one, so the lane computes cell k+1's h1 side while the caller runs cell k."""
    laned = [inst for inst in p.cells if of[inst.attr].base == "LaneCell"]
    pending = {inst.attr for inst in p.cells}  # cells whose output does not exist yet
    out: dict[str, list[Line]] = {}
    started = seen = 0
    for inst in p.cells:
        seen += of[inst.attr].base == "LaneCell"
        while started < min(len(laned), seen + 1):
            nxt = laned[started]
            h1 = nxt.input if nxt.prev is None else nxt.prev
            if h1 in pending:
                break
            note = "its h1 side on the lane now" if nxt is inst else f"its h1 side on the lane while {inst.attr} runs"
            out.setdefault(inst.attr, []).append(Line(f"self.{nxt.attr}.ahead(x_{h1})", note))
            started += 1
        pending.discard(inst.attr)
    return out


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir())), trim_blocks=True,
                              lstrip_blocks=True, keep_trailing_newline=True, autoescape=False,
                              undefined=jinja2.StrictUndefined)


def generate_source(program, network: str | None = None, *, overrides: dict | None = None,
                    passes: str | None = None) -> str:
    """The torch-only Python source of a network (see module doc). `program`: a Program, DSL text,
    a .nas path or a zoo network name; `overrides`: NetworkSpec fields to replace (e.g. n=1,
    filters=8); `passes`: a pipeline of optimization passes to run after shape (e.g. "cse")."""
    program, spec = resolve(program, network, overrides)
    p = make_plan(program, spec, pipeline_passes(passes))
    sk = skeleton(spec.skeleton)
    taken = set(module_names(sk.padding))
    net_name = fresh(camel(spec.name), taken, "Network")
    classes, of = _classes(program, p, taken)
    net = _network_record(program, p, of, net_name)
    needs = set(ALWAYS) | set(sk.stem_classes) | {n for c in classes for n in c.needs}
    net["lanes"] = "LaneCell" in needs
    if net["lanes"]:
        needs.add("Lanes")
    if net["aux_ctor"] != "None":
        needs.add("AuxHead")
    title = docstring_text(f"Network {spec.name} compiled from {program.main.file}.")
    src = _env().get_template("module.py.j2").render(
        title=title, version=__version__, runtime=runtime.source(sk.padding, needs), cells=classes, network=net)
    return _tidy(src)


def _tidy(src: str) -> str:
    """Collapse runs of blank lines left by template includes to at most two; end with one newline."""
    src = re.sub(r"\n{4,}", "\n\n\n", src)
    return src.rstrip("\n") + "\n"


def load_source(source: str, name: str = "nasdsl_generated") -> types.ModuleType:
    """Execute *generated* source as a fresh module (registered with linecache for tracebacks)."""
    digest = hashlib.sha1(source.encode()).hexdigest()[:12]
    filename = f"<nasdsl-generated-{digest}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    module = types.ModuleType(name)
    module.__file__ = filename
    # builtins.compile: this module's own `compile` (below) shadows the builtin
    exec(builtins.compile(source, filename, "exec"), module.__dict__)  # noqa: S102 - our generated code only
    return module


# compile's keyword arguments: those of the generated build(), each a NetworkSpec field
BUILD_ARGS = {"num_classes": "classes", "aux_head": "aux_head", "drop_path_keep": "drop_path_keep",
              "dropout_keep": "dropout_keep"}


def compile(src, network: str | None = None, *, overrides: dict | None = None, passes: str | None = None,
            **build_kwargs):
    """Compile DSL (text, path, zoo name or Program) to an nn.Module by running the generated source.
    `build_kwargs` (num_classes, aux_head, drop_path_keep, dropout_keep) are the network's settings
    for this module, held to the bounds the DSL holds them to, as `overrides` are."""
    unknown = sorted(build_kwargs.keys() - BUILD_ARGS.keys())
    if unknown:
        raise NasError(f"compile: unknown argument(s) {', '.join(unknown)} (it takes overrides=, passes= and "
                       f"{', '.join(BUILD_ARGS)})")
    for k, v in build_kwargs.items():  # named as given (num_classes, not the network's `classes`)
        if problem := override_problem(BUILD_ARGS[k], v):
            raise NasError(f"compile: {k}={v!r}: {problem}")
    fields = {BUILD_ARGS[k]: v for k, v in build_kwargs.items()}
    source = generate_source(src, network, overrides={**(overrides or {}), **fields} or None, passes=passes)
    return load_source(source).build()
