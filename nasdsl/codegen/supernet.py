"""A `space` compiled to a supernet: one readable, torch-only module holding every child of the space.

`supernet_source(space, ...)` lays the space's skeleton out as its proxy network (the network a
search trains children in: the skeleton's proxy keys, N cells per stage, F filters), and for every
cell instance writes a class whose modules are, per block, every (input state, op) candidate,
constructed exactly as the code generator constructs a child's branch (the layer registry picks
the layer, `Layer.ctor` writes the call, the runtime inlines the same classes). What differs from
a child is only what varies between children: which candidates run (chosen in `forward`) and the
width of a cell's output (`concat(unused)` of a NASNet space), handled by zero-padded output slots
(see templates/supernet.py.j2). `compile_supernet(...)` runs that source and calls its `build()`.
"""
from __future__ import annotations

from dataclasses import dataclass

from .. import __version__
from ..errors import NasError
from ..ir.passes.shape import halve
from ..lang.load import Program, load, load_text
from ..lang.ops import OPS
from ..lang.spec import SpaceSpec
from ..lang.validate import override_problem
from ..layers import LAYERS, Site, select
from ..layers import classes as layer_classes
from ..naming import SIDES
from ..skeletons import skeleton
from . import runtime
from .generate import Line, _env, _tidy, camel, docstring_text, dsl_name, load_source, make_plan, number


@dataclass(frozen=True)
class Proxy:
    """The proxy network: the skeleton a searched child trains in (N cells per stage, F filters),
    which the supernet is laid out as too (search calls it ProxyNet)."""

    cells: int = 1
    filters: int = 8
    image: int = 8
    classes: int = 10
    stem_multiplier: int = 1


# Proxy field -> the NetworkSpec field whose bounds it is held to
PROXY_FIELDS = {"cells": "n", "filters": "filters", "image": "image", "classes": "classes",
                "stem_multiplier": "stem_multiplier"}


def proxy_of(proxy: Proxy | None, sizes: dict) -> Proxy:
    """`proxy`, or one of the Proxy fields in `sizes` (not both), each held to the bounds the language
    holds the network key to."""
    if proxy is not None and sizes:
        raise NasError(f"give proxy= or its fields ({', '.join(sizes)}), not both")
    if proxy is not None and not isinstance(proxy, Proxy):
        raise NasError(f"proxy must be a Proxy (nasdsl.codegen.supernet.Proxy), got {type(proxy).__name__}")
    if proxy is None:
        unknown = sorted(sizes.keys() - PROXY_FIELDS.keys())
        if unknown:
            raise NasError(f"unknown argument(s) {', '.join(unknown)} (the proxy's: {', '.join(PROXY_FIELDS)})")
        proxy = Proxy(**sizes)
    for name, field in PROXY_FIELDS.items():
        if problem := override_problem(field, getattr(proxy, name)):
            raise NasError(f"proxy {name}={getattr(proxy, name)!r}: {problem}")
    return proxy


def space_spec(space) -> SpaceSpec:
    """A SpaceSpec from a SpaceSpec, a zoo space name, a .nas file with one space, FILE:NAME, or a
    loaded Program with one space."""
    if isinstance(space, SpaceSpec):
        return space
    if isinstance(space, Program):
        names = list(space.spaces)
        if len(names) != 1:
            raise NasError(f"the program holds {len(names)} spaces ({', '.join(names) or 'none'}); pass "
                           "program.space_spec(NAME)")
        return space.space_spec(names[0])
    text = str(space)
    path, sep, wanted = text.rpartition(":")
    if not sep or not path.endswith(".nas"):
        path, wanted = text, ""
    program = load(path)
    names = list(program.spaces)
    if not wanted and path in program.names() and path not in program.spaces:
        from ..lang.resolve import need

        need(program, path, "space", "nasdsl compile --supernet")
    if wanted or path in program.spaces:
        name = wanted or path
        if name not in program.spaces:
            raise NasError(f"{path}: no space named {name!r}; it has {', '.join(names) or 'none'}")
    elif len(names) == 1:
        name = names[0]
    else:
        raise NasError(f"{text}: names no single space (it holds {', '.join(names) or 'none'}); use FILE:NAME")
    return program.space_spec(name)


def _representative(spec: SpaceSpec, proxy: Proxy) -> Program:
    """A child of the space (every block reads h0 with the first op): the skeleton layout, sizes and
    strides of every cell instance do not depend on which child it is."""
    comb = spec.combine[0]
    cells = []
    for kind, name in (("normal", "rep_normal"), ("reduction", "rep_reduce")):
        lines = [f"cell {name} : {kind} {{"]
        for b in range(spec.blocks):
            branches = [f"{spec.ops[0]}(h0)"] * spec.inputs
            rhs = " + ".join(branches) if comb == "add" or len(branches) == 1 else f"{comb}({', '.join(branches)})"
            lines.append(f"    b{b} = {rhs}")
        lines += [f"    out = concat({spec.output})", "}"]
        cells.append("\n".join(lines))
    keys = {**skeleton(spec.skeleton).proxy, "cells": proxy.cells, "filters": proxy.filters, "image": proxy.image,
            "classes": proxy.classes, "stem_multiplier": proxy.stem_multiplier}
    net = ["network supernet {", "    normal = rep_normal", "    reduction = rep_reduce"]
    net += [f"    {k} = {v}" for k, v in keys.items()] + ["}"]
    return load_text("\n\n".join(cells + ["\n".join(net)]) + "\n", f"<supernet of {spec.name}>")


@dataclass
class _Width:
    value: int
    expr: str


def _cell_class(spec: SpaceSpec, inst, in_width: int, prev_width: int | None, prev_is_stem: bool,
                eps: float) -> tuple[dict, set[str], int]:
    """The class record of one supernet cell instance, the runtime names it needs, its output width."""
    ctx = inst.ctx
    F, red = ctx.filters, ctx.reduction
    sk = skeleton(ctx.family)
    pool_class = runtime.PADDINGS[sk.padding].pool_class
    needs = {"ReluConvBn", "ScheduledDropPath"}
    init = [Line("self.filters = filters")]
    init.append(Line("self.conv_1x1 = ReluConvBn(in_channels, filters, hw=hw, eps=eps)", "h0"))
    out_hw = halve(ctx.in_hw) if red else ctx.in_hw
    if inst.prev is None:
        mode, h1 = "raw", _Width(in_width, "in_channels")
    elif ctx.prev_hw != ctx.in_hw:
        mode, h1 = "project", _Width(2 * (F // 2), "filters // 2 * 2")
        init.append(Line("self.conv_prev_1x1 = FactorizedReduce(prev_channels, filters, eps=eps)", "h1"))
        needs.add("FactorizedReduce")
    else:
        mode, h1 = ("project" if ctx.project_h1 else "auto"), _Width(F, "filters")
        if mode == "project" or not prev_is_stem or prev_width != F:
            init.append(Line("self.conv_prev_1x1 = ReluConvBn(prev_channels, filters, hw=hw, eps=eps)",
                             "h1" if mode == "project" else "h1, unless the previous output has F channels"))
    init.insert(1, Line(f'self.h1_mode = "{mode}"'))
    init.insert(2, Line(f"self.h1_width = {h1.expr}"))
    concat_w = _Width(spec.inputs * F, f"{spec.inputs} * filters")
    block_widths = ([_Width(F, "filters")] if "add" in spec.combine else []) + \
        ([concat_w] if any(c != "add" for c in spec.combine) else [])
    widths: dict[str, list[_Width]] = {"h0": [_Width(F, "filters")], "h1": [h1]}
    for b in range(spec.blocks):
        widths[f"b{b}"] = block_widths
    init.append(Line("self.widths = {" + ", ".join(
        f'"{s}": ({", ".join(w.expr for w in ws)},)' for s, ws in widths.items()) + "}"))
    init.append(Line("self.edge = nn.ModuleDict()"))
    uses_out_hw = False
    for b in range(spec.blocks):
        for i in range(2 + b):
            state = ("h0", "h1")[i] if i < 2 else f"b{i - 2}"
            stride = 2 if red and i < 2 else 1
            hw = "out_hw" if red and i >= 2 else "hw"
            for w in widths[state]:
                for op in spec.ops:
                    layer = select(OPS[op], w.value, F, stride, ctx)
                    ctor = LAYERS[layer].ctor(OPS[op], Site(w.expr, number(stride), hw, pool_class))
                    if ctor is None:
                        continue  # an identity: no module
                    needs.update(layer_classes(layer, pool_class))
                    uses_out_hw = uses_out_hw or hw == "out_hw"
                    key = f"b{b}_{state}_{op}" + ("" if len(widths[state]) == 1 else f"_c{w.value}")
                    init.append(Line(f'self.edge["{key}"] = {ctor}', f"block b{b}: {op}({state})"))
    # the output slots, and the input states brought to the output size (TF-slim _combine_unused_states)
    slots: list[tuple[str, _Width]] = []
    resized: dict[str, _Width] = {}
    if spec.output == "unused":
        for s in ("h0", "h1"):
            w = widths[s][0]
            if ctx.in_hw != out_hw or w.value != F:
                how = "factorized" if ctx.in_hw != out_hw else "conv_bn"
                ctor = (f"FactorizedReduce({w.expr}, filters, relu=False, eps=eps)" if how == "factorized"
                        else f"ConvBn({w.expr}, filters, eps=eps)")
                needs.add("FactorizedReduce" if how == "factorized" else "ConvBn")
                init.append(Line(f"self.reduce_{s} = {ctor}", f"resize {s} when concatenated"))
                resized[s] = _Width(2 * (F // 2), "filters // 2 * 2") if how == "factorized" else _Width(F, "filters")
                slots.append((s, resized[s]))
            else:
                slots.append((s, w))
    for b in range(spec.blocks):
        slots.append((f"b{b}", max(block_widths, key=lambda w: w.value)))
    init.append(Line("self.resized = {" + ", ".join(f'"{s}": {w.expr}' for s, w in resized.items()) + "}"))
    init.append(Line("self.slots = (" + " ".join(f'("{s}", {w.expr}),' for s, w in slots) + ")"))
    if uses_out_hw:
        init.insert(0, Line("out_hw = out_size(hw)"))
        needs.add("out_size")
    out_width = sum(w.value for _, w in slots)
    kind = "reduction" if red else "normal"
    doc = (f"Supernet {kind} cell ({inst.attr}): h1 {mode}, {sum(1 for ln in init if 'edge[' in ln.code)} "
           f"candidate modules.")
    return {"doc": doc, "eps": number(float(eps)), "init_lines": init, "kind": kind,
            "key": tuple(ln.code for ln in init)}, needs, out_width


def _index(layer: str, stem_widths: dict[str, int]) -> str:
    """The forward's name for where a cell output's channels sit among its readers' inputs
    (a stem's output is whole: None)."""
    return "None" if layer in stem_widths else f"i_{layer}"


def supernet_source(space, proxy: Proxy | None = None, **sizes) -> str:
    """The torch-only source of the supernet of `space` (a SpaceSpec, zoo name, file or FILE:NAME),
    laid out as its skeleton's proxy network `proxy` (or the Proxy fields given as keywords)."""
    spec = space_spec(space)
    proxy = proxy_of(proxy, sizes)
    dsl_name(spec.name)
    for op in spec.ops:
        if op not in OPS:
            raise NasError(f"space {spec.name}: unknown op {op!r}")
    program = _representative(spec, proxy)
    net_spec = program.network_spec("supernet")
    p = make_plan(program, net_spec)
    sk = skeleton(net_spec.skeleton)
    stem_init, stem_fwd = sk.stem_code(p.stem, net_spec)
    stem_attrs = [ln.split("=")[0].strip()[len("self."):] for ln in stem_init]
    stem_widths = {p.stem.attr: p.stem.channels}
    if p.stem.convs:
        stem_widths["stem0"] = p.stem.convs[1][1]
    width: dict[str, int] = dict(stem_widths)
    by_key: dict[tuple, dict] = {}
    of: dict[str, dict] = {}
    needs = {"ScheduledDropPath", *sk.stem_classes}
    init = [Line(code, "stem") for code in stem_init]
    fwd = [Line(code, "stem") for code in stem_fwd]
    cells = []
    for inst in p.cells:
        prev_w = width.get(inst.prev) if inst.prev is not None else None
        rec, n, out_w = _cell_class(spec, inst, width[inst.input], prev_w, inst.prev in stem_widths,
                                    net_spec.bn_eps)
        needs |= n
        rec = by_key.setdefault(rec["key"], rec)
        of[inst.attr] = rec
        width[inst.attr] = out_w
        ratio = f", layer_ratio={inst.index + 1} / {p.total_cells}" if sk.depth_drop_path else ""
        kind = rec["kind"]
        cells.append((inst.attr, kind, inst.input, inst.prev))
        init.append(Line(f"self.{inst.attr} = {{cls:{inst.attr}}}({width[inst.input]}, "
                         f"{prev_w if prev_w is not None else width[inst.input]}, {inst.ctx.filters}, "
                         f"hw={number(inst.ctx.in_hw[0])}, drop_path_keep=drop_path_keep{ratio}, eps=eps)", kind))
        prev = inst.prev if inst.prev is not None else inst.input
        fwd.append(Line(f"x_{inst.attr}, i_{inst.attr} = self.{inst.attr}(x_{inst.input}, {_index(inst.input, stem_widths)}, "
                        f'x_{prev}, {_index(prev, stem_widths)}, choice["{kind}"])', kind))
    counts: dict[str, int] = {}
    for rec in by_key.values():
        base = "Super" + camel(rec["kind"]) + "Cell"
        counts[base] = counts.get(base, 0) + 1
        rec["name"] = base if counts[base] == 1 else f"{base}{counts[base]}"
    for ln in init:
        for attr, rec in of.items():
            ln.code = ln.code.replace(f"{{cls:{attr}}}", rec["name"])
    final = p.final.attr
    network = {
        "name": camel(spec.name) + "Supernet",
        "doc": (f"Supernet of space `{spec.name}`: {net_spec.skeleton} skeleton, N = {net_spec.n}, "
                f"F = {net_spec.filters}, {net_spec.image}x{net_spec.image} input."),
        "cells": repr(tuple(cells)), "classes": number(net_spec.classes),
        "drop_path_keep": number(net_spec.drop_path_keep), "dropout_keep": number(net_spec.dropout_keep),
        "eps": number(net_spec.bn_eps), "init_lines": init, "forward_lines": fwd, "head_relu": sk.head_relu,
        "final_channels": number(width[final]), "last": f"x_{final}", "last_attr": final,
        "stems": repr(tuple(stem_widths)), "stem_widths": repr(stem_widths),
        "stem_attr": stem_attrs[0], "extra_stems": stem_attrs[1:],
    }
    undropped = tuple(o for o in spec.ops if not sk.drops(o))
    space_rec = {"name": dsl_name(spec.name), "blocks": spec.blocks, "inputs": spec.inputs,
                 "ops": repr(tuple(spec.ops)), "combine": repr(tuple(spec.combine)), "output": spec.output,
                 "undropped": repr(undropped)}
    title = docstring_text(f"Supernet of space {spec.name} ({net_spec.skeleton} proxy: "
                           f"{proxy.cells} cells per stage, F = {proxy.filters}).")
    src = _env().get_template("supernet.py.j2").render(
        title=title, version=__version__, runtime=runtime.source(sk.padding, needs), space=space_rec,
        sides=repr(SIDES), cells=list(by_key.values()), network=network)
    return _tidy(src)


def compile_supernet(space, proxy: Proxy | None = None, *, num_classes: int | None = None, **sizes):
    """The supernet of `space` as an nn.Module (see `supernet_source`)."""
    proxy = proxy_of(proxy, sizes)
    if num_classes is not None and (problem := override_problem("classes", num_classes)):
        raise NasError(f"num_classes={num_classes!r}: {problem}")
    module = load_source(supernet_source(space, proxy), "nasdsl_supernet")
    return module.build(num_classes if num_classes is not None else proxy.classes)
