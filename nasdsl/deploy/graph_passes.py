"""Passes over the exported ONNX graph: rewrites that need the weights, so they run at export time.

The IR passes (`nasdsl.ir.passes`) work on a cell before any weight exists; these work on the
ModelProto that `nasdsl export` writes, where every convolution's weights are initializers. Each
pass is `fn(model) -> changed`, edits `model` in place and keeps its outputs the same to float
rounding (tests hold every pass against onnxruntime on the unchanged graph).

What they are for (profiled with onnxruntime on NASNet-A Mobile, see benchmarks/bench_onnx.py):
onnxruntime's CPU provider runs convolutions in a blocked layout (NCHWc, 8 or 16 channels a block)
only when the channel count is a multiple of the block; the stem cells' 11 and 22 channels fall
back to plain NCHW kernels, and every switch between the layouts is a reorder copy. The factorized
reduction's strided slices are copies in plain layout too.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import onnx
from onnx import helper, numpy_helper

PassFn = Callable[[onnx.ModelProto], bool]


@dataclass(frozen=True)
class GraphPass:
    name: str
    fn: PassFn
    doc: str


# THE registry of export-time graph passes: name -> GraphPass, in the order DEFAULT runs them.
GRAPH_PASSES: dict[str, GraphPass] = {}


def register(name: str) -> Callable[[PassFn], PassFn]:
    def deco(fn: PassFn) -> PassFn:
        GRAPH_PASSES[name] = GraphPass(name, fn, (fn.__doc__ or "").strip().splitlines()[0])
        return fn
    return deco


def unknown_pass(names: list[str] | tuple[str, ...]) -> str | None:
    """The first of `names` that is not a registered pass, or None."""
    return next((n for n in names if n not in GRAPH_PASSES), None)


def run_passes(model: onnx.ModelProto, names: list[str] | tuple[str, ...]) -> list[str]:
    """Run the named passes in order; returns the names of those that changed the graph."""
    unknown = unknown_pass(names)
    if unknown:
        raise ValueError(f"unknown graph pass {unknown!r} (known: {', '.join(GRAPH_PASSES)})")
    return [n for n in names if GRAPH_PASSES[n].fn(model)]


# -- helpers ------------------------------------------------------------------------------------

def _attrs(node: onnx.NodeProto) -> dict:
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _set_attr(node: onnx.NodeProto, name: str, value) -> None:
    for i, a in enumerate(node.attribute):
        if a.name == name:
            del node.attribute[i]
            break
    node.attribute.append(helper.make_attribute(name, value))


class _Weights:
    """Initializers by name: read as numpy, add new ones under fresh names, drop the unused."""

    def __init__(self, graph: onnx.GraphProto):
        self.graph = graph
        self.by_name = {t.name: t for t in graph.initializer}
        # constants the TorchScript exporter writes as nodes: Constant, Identity of an initializer
        self.aliases = {n.output[0]: n.input[0] for n in graph.node if n.op_type == "Identity"}
        self.constants = {n.output[0]: n.attribute[0].t for n in graph.node
                          if n.op_type == "Constant" and n.attribute and n.attribute[0].name == "value"}

    def get(self, name: str) -> np.ndarray | None:
        name = self.aliases.get(name, name)
        t = self.by_name.get(name, self.constants.get(name))
        return None if t is None else numpy_helper.to_array(t)

    def add(self, base: str, value: np.ndarray) -> str:
        name, k = base, 0
        while name in self.by_name:
            k += 1
            name = f"{base}_{k}"
        t = numpy_helper.from_array(np.ascontiguousarray(value), name)
        self.graph.initializer.append(t)
        self.by_name[name] = t
        return name

    def prune(self) -> None:
        """Drop the nodes nothing reads (a removed Slice's Constant inputs, and what fed only them;
        ONNX ops have no side effects), then the initializers nothing reads."""
        outputs = {o.name for o in self.graph.output}
        while True:
            read = {i for n in self.graph.node for i in n.input} | outputs
            live = [n for n in self.graph.node if any(o in read for o in n.output)]
            if len(live) == len(self.graph.node):
                break
            del self.graph.node[:]
            self.graph.node.extend(live)
        keep = [t for t in self.graph.initializer if t.name in read]
        del self.graph.initializer[:]
        self.graph.initializer.extend(keep)
        self.by_name = {t.name: t for t in keep}


def _consumers(graph: onnx.GraphProto) -> dict[str, list[onnx.NodeProto]]:
    out: dict[str, list[onnx.NodeProto]] = {}
    for n in graph.node:
        for i in n.input:
            out.setdefault(i, []).append(n)
    return out


def _spatial_dims(model: onnx.ModelProto) -> dict[str, tuple[int, int]]:
    """(H, W) of every 4-d tensor whose spatial size is static, by onnx shape inference."""
    inferred = onnx.shape_inference.infer_shapes(model)
    dims = {}
    for v in list(inferred.graph.value_info) + list(inferred.graph.input):
        shape = v.type.tensor_type.shape.dim
        if len(shape) == 4 and all(d.HasField("dim_value") for d in shape[2:]):
            dims[v.name] = (shape[2].dim_value, shape[3].dim_value)
    return dims


# -- slice-into-conv ----------------------------------------------------------------------------

def _strided_slice(node: onnx.NodeProto, w: _Weights) -> dict[int, tuple[int, int]] | None:
    """{axis: (start, step)} of a Slice that only subsamples spatial axes (start < step, end at
    the end), or None."""
    if node.op_type != "Slice" or len(node.input) < 4:
        return None
    starts, ends, axes = (w.get(i) for i in node.input[1:4])
    steps = w.get(node.input[4]) if len(node.input) > 4 and node.input[4] else None
    if starts is None or ends is None or axes is None:
        return None
    steps = np.ones_like(starts) if steps is None else steps
    out = {}
    for s, e, a, k in zip(starts.tolist(), ends.tolist(), axes.tolist(), steps.tolist()):
        a = a % 4
        if a not in (2, 3) or not 0 <= s < k or e < 2**31 - 1:
            return None
        out[a] = (s, k)
    return out


@register("slice-into-conv")
def slice_into_conv(model: onnx.ModelProto) -> bool:
    """A 1x1 convolution of a strided slice x[:, :, a::s, b::t] becomes one strided convolution of
    x (kernel (a+1, b+1), stride (s, t), the one non-zero tap at (a, b)): no slice copies.

    This is the factorized reduction's subsampled paths. Applied only where the slices feed nothing
    else, the convolution has no leading padding, and the output size provably stays the same."""
    g = model.graph
    w = _Weights(g)
    cons = _consumers(g)
    producer = {o: n for n in g.node for o in n.output}
    dims = None
    dead: set[str] = set()  # outputs of the slices that go
    for conv in g.node:
        a = _attrs(conv)
        if (conv.op_type != "Conv" or tuple(a.get("kernel_shape", ())) != (1, 1) or a.get("group", 1) != 1
                or tuple(a.get("strides", (1, 1))) != (1, 1) or tuple(a.get("dilations", (1, 1))) != (1, 1)
                or a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET")):
            continue
        pads = list(a.get("pads", (0, 0, 0, 0)))
        if pads[0] or pads[1]:
            continue
        # walk up the chain of spatial slices, each used only by the next
        sub: dict[int, tuple[int, int]] = {}
        chain = []
        x = conv.input[0]
        while x in producer and len(cons.get(x, [])) == 1:
            sl = _strided_slice(producer[x], w)
            if sl is None or set(sl) & set(sub):
                break
            sub.update(sl)
            chain.append(producer[x])
            x = producer[x].input[0]
        weight = w.get(conv.input[1])
        if not sub or weight is None:
            continue
        if dims is None:
            dims = _spatial_dims(model)
        if x not in dims:
            continue
        size = dims[x]
        (a2, s2), (a3, s3) = sub.get(2, (0, 1)), sub.get(3, (0, 1))
        ok = True
        for n, (o, s), pe in ((size[0], (a2, s2), pads[2]), (size[1], (a3, s3), pads[3])):
            sliced = -(-(n - o) // s) + pe
            strided = (n + pe - o - 1) // s + 1
            ok &= sliced == strided
        if not ok:
            continue
        kernel = np.zeros(weight.shape[:2] + (a2 + 1, a3 + 1), weight.dtype)
        kernel[:, :, a2, a3] = weight[:, :, 0, 0]
        conv.input[0] = x
        conv.input[1] = w.add(conv.input[1] + "_strided", kernel)
        _set_attr(conv, "kernel_shape", [a2 + 1, a3 + 1])
        _set_attr(conv, "strides", [s2, s3])
        dead.update(n.output[0] for n in chain)
    if not dead:
        return False
    keep = [n for n in g.node if n.output[0] not in dead]
    del g.node[:]
    g.node.extend(keep)
    w.prune()
    return True


# -- pad-channels -------------------------------------------------------------------------------

# Channel slots of a tensor: slot j holds original channel layout[j], or -1 for a zero channel.
Layout = tuple[int, ...]

# Ops that act on each channel alone and keep a zero channel zero.
_PER_CHANNEL = {"Relu", "AveragePool", "MaxPool", "GlobalAveragePool", "GlobalMaxPool", "Identity"}

# The channel multiple to pad to. onnxruntime's reorder to NCHWc needs a multiple of 4 and pads
# further to its block (8 floats with AVX2, 16 with AVX-512) by itself; measured on this AVX2
# machine, 4 and 8 were within noise of each other and 16 was slower (bench_onnx.py --pad-sweep).
BLOCK = 8


def _ident(n: int) -> Layout:
    return tuple(range(n))


def _padded_to(n: int, block: int) -> Layout:
    return _ident(n) + (-1,) * (-n % block)


class _Layouts:
    """Tensors that must share one channel layout (an Add's inputs and output, a per-channel op's
    input and output, a depthwise conv's), as union-find classes. A class is free (a conv may write
    any layout) until something fixes it: a concat reading it, or a union with a fixed class."""

    def __init__(self, block: int):
        self.block = block
        self.parent: dict[str, str] = {}
        self.info: dict[str, tuple[int, Layout | None]] = {}  # root -> (channels, layout or free)

    def __contains__(self, t: str) -> bool:
        return t in self.parent

    def new(self, t: str, channels: int, layout: Layout | None = None) -> None:
        self.parent[t] = t
        self.info[t] = (channels, layout)

    def find(self, t: str) -> str:
        while self.parent[t] != t:
            self.parent[t] = self.parent[self.parent[t]]
            t = self.parent[t]
        return t

    def channels(self, t: str) -> int:
        return self.info[self.find(t)][0]

    def join(self, a: str, b: str) -> bool:
        """Put b in a's class; False (and nothing joined) when their layouts cannot agree."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        (ca, la), (cb, lb) = self.info[ra], self.info[rb]
        if ca != cb or (la is not None and lb is not None and la != lb):
            return False
        self.parent[rb] = ra
        self.info[ra] = (ca, la if la is not None else lb)
        return True

    def share(self, src: str, out: str) -> None:
        """`out` has `src`'s layout."""
        self.parent[out] = self.find(src)

    def layout(self, t: str) -> Layout:
        """The class's layout, fixed now if it was free (padded to the block)."""
        r = self.find(t)
        c, lay = self.info[r]
        if lay is None:
            lay = _padded_to(c, self.block)
            self.info[r] = (c, lay)
        return lay


def _scatter(weight: np.ndarray, rows: Layout, cols: Layout | None = None) -> np.ndarray:
    """`weight` with its first axis laid out as `rows` (and its second as `cols`): original index
    layout[j] goes to slot j, slots of -1 are zero."""
    ro = [j for j, c in enumerate(rows) if c >= 0]
    if cols is None:
        out = np.zeros((len(rows),) + weight.shape[1:], weight.dtype)
        out[ro] = weight[[rows[j] for j in ro]]
        return out
    co = [i for i, c in enumerate(cols) if c >= 0]
    out = np.zeros((len(rows), len(cols)) + weight.shape[2:], weight.dtype)
    out[np.ix_(ro, co)] = weight[np.ix_([rows[j] for j in ro], [cols[i] for i in co])]
    return out


def _conv_kind(node: onnx.NodeProto, weight: np.ndarray) -> str:
    group = _attrs(node).get("group", 1)
    if group == 1:
        return "dense"
    return "depthwise" if weight.shape[1] == 1 and weight.shape[0] == group else "grouped"


@register("pad-channels")
def pad_channels(model: onnx.ModelProto, block: int | None = None) -> bool:
    """Tensors whose channel count is not a multiple of the block get zero channels up to it, as
    the convolutions that write them are given zero filters and their readers zero weights:
    onnxruntime then keeps the blocked NCHWc layout from end to end.

    Exact: a zero channel stays zero through ReLU, pooling, adds and depthwise convolutions, and
    every reader multiplies it by zero. A concat keeps its inputs' zero channels where they are,
    so the convolutions feeding an add with a concat write that concat's layout. Ops the pass does
    not know, and adds whose inputs cannot agree, read their inputs in the original order (a
    Gather)."""
    g = model.graph
    w = _Weights(g)
    classes = _Layouts(block or BLOCK)
    for v in g.input:
        shape = v.type.tensor_type.shape.dim
        if len(shape) >= 2 and shape[1].HasField("dim_value"):
            classes.new(v.name, shape[1].dim_value, _ident(shape[1].dim_value))

    def tracked(name: str, channels: int) -> str:
        if name not in classes:  # an input the pass did not follow: original order, unpadded
            classes.new(name, channels, _ident(channels))
        return name

    # 1. who shares a layout with whom; which nodes read their inputs in the original order
    plain_inputs: set[int] = set()
    for k, node in enumerate(g.node):
        op, ins, out = node.op_type, list(node.input), node.output[0] if node.output else ""
        a = _attrs(node)
        weight = w.get(ins[1]) if op in ("Conv", "Gemm") and len(ins) > 1 else None
        if op == "Conv" and weight is not None and _conv_kind(node, weight) != "grouped":
            kind = _conv_kind(node, weight)
            tracked(ins[0], weight.shape[1] * a.get("group", 1))
            if kind == "depthwise":
                classes.share(ins[0], out)
            else:
                classes.new(out, weight.shape[0])
        elif op in _PER_CHANNEL and ins[0] in classes:
            classes.share(ins[0], out)
        elif op == "Slice" and ins[0] in classes and len(ins) > 3 and w.get(ins[3]) is not None \
                and 1 not in (w.get(ins[3]) % 4).tolist():
            classes.share(ins[0], out)
        elif op == "ReduceMean" and ins[0] in classes and len(ins) > 1 and w.get(ins[1]) is not None \
                and not {0, 1} & set((w.get(ins[1]) % 4).tolist()):
            classes.share(ins[0], out)
        elif op == "Add" and len(ins) == 2 and all(i in classes for i in ins) and classes.join(*ins):
            classes.share(ins[0], out)
        elif op == "Concat" and a.get("axis") == 1 and all(i in classes for i in ins):
            cat, offset = [], 0
            for i in ins:
                cat += [c + offset if c >= 0 else -1 for c in classes.layout(i)]
                offset += classes.channels(i)
            classes.new(out, offset, tuple(cat))
        elif op == "Gemm" and ins[0] in classes and weight is not None and not a.get("transA", 0):
            pass  # reads its input's layout (its weight gets zero columns)
        else:
            plain_inputs.add(k)

    # 2. rewrite: weights for the final layouts, Gathers where a node reads the original order
    changed = False
    new_nodes: list[onnx.NodeProto] = []
    unpadded: dict[str, str] = {}

    def padded(name: str) -> bool:
        return name in classes and classes.layout(name) != _ident(classes.channels(name))

    def original(name: str) -> str:
        nonlocal changed
        if not padded(name):
            return name
        if name not in unpadded:
            lay = classes.layout(name)
            index = np.array([lay.index(c) for c in range(classes.channels(name))], np.int64)
            out = name + "_unpadded"
            new_nodes.append(helper.make_node("Gather", [name, w.add(name + "_channels", index)], [out],
                                              axis=1, name=out))
            unpadded[name] = out
            changed = True
        return unpadded[name]

    for k, node in enumerate(g.node):
        op, ins = node.op_type, list(node.input)
        if k in plain_inputs:
            node.input[:] = [original(i) if i else i for i in ins]
        elif op == "Conv" and ins[0] in classes and node.output[0] in classes:
            weight = w.get(ins[1])
            bias = w.get(ins[2]) if len(ins) > 2 and ins[2] else None
            lin, lout = classes.layout(ins[0]), classes.layout(node.output[0])
            if _conv_kind(node, weight) == "depthwise":
                rows = _scatter(weight, lout)
            else:
                rows = _scatter(weight, lout, lin)
            if rows.shape != weight.shape or lin != _ident(len(lin)) or lout != _ident(len(lout)):
                node.input[1] = w.add(ins[1] + "_padded", rows)
                if bias is not None:
                    node.input[2] = w.add(ins[2] + "_padded", np.array(
                        [bias[c] if c >= 0 else 0 for c in lout], bias.dtype))
                if _conv_kind(node, weight) == "depthwise":
                    _set_attr(node, "group", len(lout))
                changed = True
        elif op == "Gemm" and padded(ins[0]):
            weight, lay = w.get(ins[1]), classes.layout(ins[0])
            if _attrs(node).get("transB", 0):  # weight [out, in]
                cols = _scatter(weight.T, lay).T
            else:  # weight [in, out]
                cols = _scatter(weight, lay)
            node.input[1] = w.add(ins[1] + "_padded", cols)
            changed = True
        new_nodes.append(node)
    for v in g.output:  # the graph's outputs in their original order, under their own names
        if padded(v.name):
            src = v.name + "_padded"
            for n in new_nodes:
                n.output[:] = [src if o == v.name else o for o in n.output]
                n.input[:] = [src if i == v.name else i for i in n.input]
            classes.share(v.name, src)
            new_nodes.append(helper.make_node("Identity", [original(src)], [v.name], name=v.name))
    if not changed:
        return False
    del g.node[:]
    g.node.extend(new_nodes)
    del g.value_info[:]  # shapes recorded by the exporter no longer hold for padded tensors
    w.prune()
    return True


def describe(model: onnx.ModelProto) -> str:
    """The graph as text, a node a line, initializers shown by shape (for golden tests and eyes):
    `y = Conv(x, w:16x3x3x3, b:16) group=1 kernel_shape=[3, 3]`."""
    shapes = {t.name: "x".join(map(str, t.dims)) or "scalar" for t in model.graph.initializer}
    lines = [f"input {v.name}" for v in model.graph.input]
    for n in model.graph.node:
        args = ", ".join(f"w:{shapes[i]}" if i in shapes else i for i in n.input)
        attrs = " ".join(f"{k}={v.decode() if isinstance(v, bytes) else v}"
                         for k, v in sorted(_attrs(n).items()))
        lines.append(f"{', '.join(n.output)} = {n.op_type}({args}) {attrs}".rstrip())
    lines += [f"output {v.name}" for v in model.graph.output]
    return "\n".join(lines) + "\n"
