"""Code generation: a network's shaped IR -> one readable, torch-only Python file (jinja2 templates).

`generate_source(program, network)` lays the network out with its skeleton, shapes every cell
instance, turns each distinct cell structure into a class record (explicit submodules named like
timm/Cadene, a straight-line forward) and renders `templates/module.py.j2`. `compile(...)` runs that
same source and calls its `build(...)`.

Safety: user text never becomes code. Class names come from cell/network names that match
`IDENT` (the grammar's names, checked again here); every other name in the output is made here
(`comb_iter_3_left`, `h0`); numbers are formatted from ints/floats. DSL text (file names, block
names) only appears in comments, escaped by `comment()` to printable ASCII.

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
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import jinja2
import networkx as nx

from . import __version__, ast
from .errors import NasError
from .ir import args, order
from .load import Program, load, load_text
from .naming import combine_name, op_attr
from .ops import OPS
from .passes.shape import CellContext
from .resources import templates_dir
from .skeletons import NetworkPlan, Passes, default_passes, plan, with_overrides
from .spec import NetworkSpec

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

# runtime layer -> template file; "same" (padding, drop path, fusion, ConvBn) is always included.
LAYER_TEMPLATES: dict[str, str] = {
    "same": "layer_same.py.j2",
    "relu_conv_bn": "layer_relu_conv_bn.py.j2",
    "relu_conv_pair_bn": "layer_relu_conv_pair_bn.py.j2",
    "sep_conv": "layer_sep_conv.py.j2",
    "dil_sep_conv": "layer_sep_conv.py.j2",
    "dil_sep_conv_extra": "layer_dil_sep_conv.py.j2",
    "pool_conv_bn": "layer_pool_conv_bn.py.j2",
    "factorized": "layer_factorized.py.j2",
    "zero": "layer_zero.py.j2",
    "aux_head": "layer_aux_head.py.j2",
}
RUNTIME_NAMES = frozenset({
    "Conv2dSame", "Pool2dSame", "ScheduledDropPath", "Fusable", "ConvBn", "ReluConvBn", "ReluConvPairBn",
    "Separable", "SepConv", "DilSepConv", "PoolConvBn", "ReducePath", "FactorizedReduce", "Zero", "AuxHead",
    "F", "nn", "torch", "build", "annotations",
})




@dataclass(frozen=True)
class Runtime:
    """The generated-code conventions of a skeleton family other than TF-slim's: its layer
    templates (keyed like LAYER_TEMPLATES), the class implementing a pool, the network template
    and the function making that template's record, `network_record(program, plan, of)`."""

    layer_templates: dict[str, str]
    pool_class: str
    network_template: str
    network_record: Callable
    names: frozenset[str] = frozenset()  # its runtime class names (kept free for cell classes)


# skeleton family -> Runtime; a family not listed uses LAYER_TEMPLATES, Pool2dSame and network.py.j2.
# Filled by the modules of RUNTIME_MODULES, imported on first lookup.
RUNTIMES: dict[str, Runtime] = {}
RUNTIME_MODULES = ("nasdsl.codegen_darts",)


def runtime(family: str | None) -> Runtime | None:
    """The registered Runtime of a skeleton family, or None for the TF-slim one."""
    if not RUNTIMES:
        import importlib

        for mod in RUNTIME_MODULES:
            importlib.import_module(mod)
    return RUNTIMES.get(family or "")


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


def identifier(name: str) -> str:
    """Refuse anything that is not a plain identifier (the grammar already guarantees it)."""
    if not IDENT.match(name) or keyword.iskeyword(name):
        raise NasError(f"{name!r} cannot name generated code: not an identifier")
    return name


def camel(name: str) -> str:
    parts = [p for p in identifier(name).split("_") if p]
    text = "".join(p[:1].upper() + p[1:] for p in parts) or "Cell"
    return text if text[0].isalpha() else "C" + text


def number(v: float) -> str:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise TypeError(f"not a number: {v!r}")
    return repr(int(v)) if isinstance(v, int) else repr(float(v))


@dataclass
class Line:
    code: str
    comment: str = ""


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
    rt = runtime(g.graph.get("family"))
    pool_class = rt.pool_class if rt else "Pool2dSame"
    init.append(Line("self.conv_1x1 = ReluConvBn(in_channels, filters, hw=hw, eps=eps)", where(cpos, "h0")))
    fwd.append(Line("h0 = self.conv_1x1(x)", where(cpos, "h0")))
    expr["h0"], var["h0"] = "filters", "h0"
    h1 = pre["h1"]
    if h1 == "conv1x1":
        init.append(Line("self.conv_prev_1x1 = ReluConvBn(prev_channels, filters, hw=hw, eps=eps)", where(cpos, "h1")))
        fwd.append(Line("h1 = self.conv_prev_1x1(x_prev)", where(cpos, "h1")))
        expr["h1"] = "filters"
    elif h1 == "factorized":
        init.append(Line("self.conv_prev_1x1 = FactorizedReduce(prev_channels, filters, eps=eps)", where(cpos, "h1")))
        fwd.append(Line("h1 = self.conv_prev_1x1(x_prev)", where(cpos, "h1")))
        expr["h1"] = "filters" if F % 2 == 0 else "filters // 2 * 2"
    elif raw:
        fwd.append(Line("h1 = x", where(cpos, "h1 is the cell input")))
        expr["h1"] = "in_channels"
    else:
        fwd.append(Line("h1 = x_prev", where(cpos, "h1")))
        expr["h1"] = "filters"
    var["h1"] = "h1"
    for n in order(g):
        d = g.nodes[n]
        if d["kind"] == "op":
            (src,) = args(g, n)
            m = d["meta"]
            attr = op_attr(block_index[d["block"]], d["slot"])
            spec = OPS[d["op"]]
            hw = "out_hw" if red and g.nodes[src]["kind"] != "input" else "hw"
            ctor = _op_ctor(m["layer"], spec, expr[src], m["stride"], hw, pool_class)
            note = where(d["pos"], f"{d['block']}: {d['op']}({src})")
            expr[n] = "filters"
            if ctor is None:
                var[n] = var[src]
                dropped[n] = False
                continue
            init.append(Line(f"self.{attr} = {ctor}", note))
            fwd.append(Line(f"x_{attr} = self.{attr}({var[src]})", note))
            var[n] = f"x_{attr}"
            dropped[n] = True
        elif d["kind"] == "combine":
            k = block_index[n]
            ins = args(g, n)
            terms = [f"self.drop_path({var[u]})" if dropped[u] else var[u] for u in ins]
            code = " + ".join(terms) if d["combiner"] == "add" else f"torch.cat([{', '.join(terms)}], 1)"
            fwd.append(Line(f"x_{combine_name(k)} = {code}", where(d["pos"], n)))
            var[n] = f"x_{combine_name(k)}"
            exprs = [expr.get(u, "filters") for u in ins]
            expr[n] = exprs[0] if d["combiner"] == "add" else _sum(exprs)
    if any("out_hw" in ln.code for ln in init):
        init.insert(0, Line("out_hw = out_size(hw)"))
    outs = []
    for s in args(g, "out"):
        if s in resize:
            attr = f"reduce_{s}"
            ctor = (f"FactorizedReduce({expr[s]}, filters, relu=False, eps=eps)" if resize[s] == "factorized"
                    else f"ConvBn({expr[s]}, filters, eps=eps)")
            init.append(Line(f"self.{attr} = {ctor}", where(cell.output.pos, f"resize {s}")))
            fwd.append(Line(f"{s}_out = self.{attr}({var[s]})", where(cell.output.pos, f"resize {s}")))
            outs.append(f"{s}_out")
        else:
            outs.append(var[s])
    ret = f"torch.cat([{', '.join(outs)}], 1)" if len(outs) > 1 else outs[0]
    fwd.append(Line(f"return {ret}", where(cell.output.pos, "out")))
    variant = ("reduction" if red else "normal") + (", h1 = input" if raw else f", h1 {h1}")
    doc = f"Cell `{identifier(cell.name)}` ({variant})."
    signature = "x: torch.Tensor" if raw else "x: torch.Tensor, x_prev: torch.Tensor"
    key = (cell.name, tuple(ln.code for ln in init), tuple(ln.code for ln in fwd))
    return CellClass("", doc, number(float(eps)), signature, init, fwd, cell.name, variant, key)


def _sum(exprs: list[str]) -> str:
    if all(e == "filters" for e in exprs):
        return f"{len(exprs)} * filters"
    return " + ".join(f"({e})" for e in exprs)


def _op_ctor(layer: str, spec, cin: str, stride: int, hw: str, pool_class: str = "Pool2dSame") -> str | None:
    k, s = number(spec.kernel), number(stride)
    if layer == "identity":
        return None
    if layer == "relu_conv_bn":
        kern = k if spec.family != "identity" else "1"
        dil = f", dilation={number(spec.dilation)}" if spec.dilation != 1 else ""
        return f"ReluConvBn({cin}, filters, {kern}, {s}{dil}, hw={hw}, eps=eps)"
    if layer == "relu_conv_pair_bn":
        return f"ReluConvPairBn({cin}, filters, {k}, {s}, hw={hw}, eps=eps)"
    if layer == "sep_conv":
        return f"SepConv({cin}, filters, {k}, {s}, hw={hw}, eps=eps)"
    if layer == "dil_sep_conv":
        return f"DilSepConv({cin}, filters, {k}, {s}, {number(spec.dilation)}, hw={hw}, eps=eps)"
    if layer == "pool":
        return f'{pool_class}("{spec.family}", {k}, {s}, hw={hw})'
    if layer == "pool_conv_bn":
        return f'PoolConvBn("{spec.family}", {k}, {cin}, filters, {s}, hw={hw}, eps=eps)'
    if layer == "factorized":
        return f"FactorizedReduce({cin}, filters, eps=eps)"
    if layer == "zero":
        return f"Zero(filters, {s})"
    raise ValueError(f"no runtime layer {layer!r}")


def _layers_used(classes: list[CellClass], aux: bool, templates: dict[str, str] = LAYER_TEMPLATES) -> list[str]:
    text = "\n".join(ln.code for c in classes for ln in c.init_lines)
    names = ["same"]
    marks = {"relu_conv_bn": "ReluConvBn(", "relu_conv_pair_bn": "ReluConvPairBn(", "sep_conv": "SepConv(",
             "dil_sep_conv": "DilSepConv(", "pool_conv_bn": "PoolConvBn(", "factorized": "FactorizedReduce(",
             "zero": "Zero("}
    names += [layer for layer, mark in marks.items() if mark in text]
    if "relu_conv_bn" not in names:  # every cell preprocesses h0 with it
        names.insert(1, "relu_conv_bn")
    if "dil_sep_conv" in names:
        names.remove("dil_sep_conv")
        if "sep_conv" not in names:
            names.append("sep_conv")
        names.append("dil_sep_conv_extra")
    if aux:
        names.append("aux_head")
    files: list[str] = []
    for n in names:
        if templates[n] not in files:
            files.append(templates[n])
    return files


# --------------------------------------------------------------------------------------------------
# programs and specs

def load_program(src) -> Program:
    """A Program from a Program, DSL text, a .nas path or a zoo name."""
    if isinstance(src, Program):
        return src
    if isinstance(src, Path):
        return load(src)
    text = str(src)
    if "\n" in text or "{" in text:
        return load_text(text, "<input>")
    return load(text)


def cifar_spec(program: Program) -> NetworkSpec:
    """The CIFAR network a file of cells compiles to (TF-slim's CIFAR config, 6 @ 768, F = 32)."""
    own = [i for i in program.main.items if isinstance(i, ast.Cell)] or list(program.cells.values())
    if not own:
        raise NasError(f"{program.main.file}: no cell or network to compile")
    normal = next((c for c in own if c.kind in ("normal", "any")), own[0])
    reduction = next((c for c in own if c.kind == "reduction"), normal)
    return NetworkSpec(name=f"{normal.name}_cifar", normal=normal.name, reduction=reduction.name,
                       stem_cell=reduction.name, skeleton="nasnet", stem="cifar", n=6, filters=32,
                       penultimate=None, image=32, classes=10, stem_multiplier=3.0,
                       skip_reduction_input=False, aux_head=True, drop_path_keep=0.6, dropout_keep=1.0,
                       bn_eps=1e-5)


def network_spec(program: Program, network: str | None = None, overrides: dict | None = None) -> NetworkSpec:
    """The spec to compile: the named network, else the file's network, else a CIFAR network."""
    if network is not None:
        if network not in program.networks:
            from .ops import known_list, suggest

            hint = suggest(network, program.networks)
            raise NasError(f"no network {network!r}" + (f"; {hint}" if hint else "")
                           + f" (known: {known_list(program.networks) or 'none'})")
        spec = program.network_spec(network)
    elif any(isinstance(i, ast.Network) for i in program.main.items) or (
            program.networks and not any(isinstance(i, ast.Cell) for i in program.main.items)):
        spec = program.network_spec(None)
    else:
        spec = cifar_spec(program)
    return with_overrides(spec, **overrides) if overrides else spec


def pipeline_passes(pipeline: str | None) -> Passes:
    """`shape` alone, or shape followed by a named pipeline of other passes (e.g. "cse")."""
    if not pipeline:
        return default_passes
    from .passes.manager import parse_pipeline, run_pipeline

    names = [n for n in parse_pipeline(pipeline) if n != "shape"]

    def run(g: nx.DiGraph, ctx: CellContext) -> nx.DiGraph:
        g = default_passes(g, ctx)
        return run_pipeline(g, names, ctx).graph if names else g

    return run


def make_plan(program: Program, spec: NetworkSpec, passes: Passes = default_passes) -> NetworkPlan:
    """The skeleton plan, with `h1_is_input` marked on instances whose h1 is the cell input."""
    p = plan(program, spec, passes)
    for inst in p.cells:
        inst.graph.graph["h1_is_input"] = inst.prev is None
    return p


# --------------------------------------------------------------------------------------------------
# the network record

def _classes(program: Program, p: NetworkPlan) -> tuple[list[CellClass], dict[str, CellClass]]:
    by_key: dict[tuple, CellClass] = {}
    of: dict[str, CellClass] = {}
    for inst in p.cells:
        rec = cell_class(inst.graph, program.cells[inst.cell], p.spec.bn_eps)
        rec = by_key.setdefault(rec.key, rec)
        rec.instances.append(inst)
        of[inst.attr] = rec
    classes = list(by_key.values())
    rt = runtime(p.spec.skeleton)
    taken = set(RUNTIME_NAMES) | (rt.names if rt else set()) | {camel(p.spec.name)}
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
            name = base + suffix
            while name in taken:
                name = f"{base}{suffix}Cell" if name == base + suffix else f"{name}{i}"
            taken.add(name)
            rec.name = name
    return classes, of


def _network_record(program: Program, p: NetworkPlan, of: dict[str, CellClass]) -> dict:
    spec = p.spec
    stem = p.stem
    init: list[Line] = []
    fwd: list[Line] = []
    net = program.networks.get(spec.name)
    npos = net.pos if net is not None else program.main.items[0].pos
    pad = '"valid"' if stem.padding == "valid" else '"same"'
    init.append(Line(f"self.{stem.attr} = ConvBn({stem.in_channels}, {stem.channels}, 3, {stem.stride}, "
                     f"{pad}, hw={number(spec.image)}, eps=eps)", where(npos, f"{stem.kind} stem")))
    fwd.append(Line(f"x_{stem.attr} = self.{stem.attr}(x)", where(npos, f"{stem.kind} stem")))
    for inst in p.cells:
        rec = of[inst.attr]
        c = inst.ctx
        prev_c = number(c.prev_channels if c.prev_channels is not None else c.in_channels)
        cpos = program.cells[inst.cell].pos
        init.append(Line(f"self.{inst.attr} = {rec.name}({c.in_channels}, {prev_c}, {c.filters}, "
                         f"hw={number(c.in_hw[0])}, drop_path_keep=drop_path_keep, "
                         f"layer_ratio={inst.index + 1} / {p.total_cells}, eps=eps)",
                         where(cpos, inst.cell)))
        call_args = f"x_{inst.input}" + ("" if inst.prev is None else f", x_{inst.prev}")
        fwd.append(Line(f"x_{inst.attr} = self.{inst.attr}({call_args})", where(cpos, inst.cell)))
    aux = p.aux_shape()
    if spec.aux_head and aux is not None and min(aux[1]) < 5:
        raise NasError(f"network {spec.name}: the aux head needs at least 5x5 after stage 2, "
                       f"got {aux[1][0]}x{aux[1][1]}; set aux_head = false")
    aux_ctor = (f"AuxHead({aux[0]}, {number(aux[1][0])}, num_classes, eps=eps)"
                if aux is not None and min(aux[1]) >= 5 else "None")
    return {
        "name": camel(spec.name), "dsl_name": identifier(spec.name),
        "doc": f"Network `{identifier(spec.name)}`: {spec.skeleton} skeleton, {spec.stem} stem, "
            f"N = {spec.n}, F = {spec.filters}, {spec.image}x{spec.image} input.",
        "classes": number(spec.classes), "aux_head": str(bool(spec.aux_head and aux_ctor != "None")),
        "drop_path_keep": number(spec.drop_path_keep), "dropout_keep": number(spec.dropout_keep),
        "eps": number(spec.bn_eps), "init_lines": init, "forward_lines": fwd, "aux_ctor": aux_ctor,
        "aux_input": (f"x_{p.aux_after}" if aux_ctor != "None" else "None"),
        "final_channels": number(p.final.channels), "last": f"x_{p.final.attr}",
    }


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir())), trim_blocks=True,
                              lstrip_blocks=True, keep_trailing_newline=True, autoescape=False,
                              undefined=jinja2.StrictUndefined)


def generate_source(program, network: str | None = None, *, overrides: dict | None = None,
                    passes: str | None = None) -> str:
    """The torch-only Python source of a network (see module doc). `program`: a Program, DSL text,
    a .nas path or a zoo name; `overrides`: NetworkSpec fields to replace (e.g. n=1, filters=8);
    `passes`: a pipeline of optimization passes to run after shape (e.g. "cse")."""
    if network is None and isinstance(program, str) and IDENT.match(program):
        network = program if program in load_program(program).networks else None  # a zoo network name
    program = load_program(program)
    spec = network_spec(program, network, overrides)
    p = make_plan(program, spec, pipeline_passes(passes))
    classes, of = _classes(program, p)
    rt = runtime(spec.skeleton)
    net = (rt.network_record if rt else _network_record)(program, p, of)
    title = docstring_text(f"Network {spec.name} compiled from {program.main.file}.")
    layers = _layers_used(classes, net["aux_ctor"] != "None", rt.layer_templates if rt else LAYER_TEMPLATES)
    src = _env().get_template("module.py.j2").render(
        title=title, version=__version__, layers=layers, cells=classes, network=net,
        network_template=rt.network_template if rt else "network.py.j2")
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


def compile(src, network: str | None = None, *, overrides: dict | None = None, passes: str | None = None,
            **build_kwargs):
    """Compile DSL (text, path, zoo name or Program) to an nn.Module by running the generated source."""
    source = generate_source(src, network, overrides=overrides, passes=passes)
    return load_source(source).build(**build_kwargs)
