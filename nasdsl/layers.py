"""THE layer registry: every runtime layer an op can become, with everything about it in one record.

The shape pass picks, for each op node where it sits, the first registered `Layer` whose `select`
accepts it and writes its name as `meta['layer']`; from then on the code generator (`ctor`), the
cost model (`cost`), the interpreter (`interp`), CSE (`parameter_free`) and the runtime inliner
(`classes`) read that record and nothing else. A new op family is an `OpSpec` in `ops.OPS` plus a
`Layer` here (`register`), plus its runtime class in a module the code generator inlines.

    identity       nothing                          (id, stride 1, no channel change)
    factorized     ReLU + factorized reduction      (id at stride 2 where the skeleton says so: DARTS)
    relu_conv_bn   ReLU, KxK conv (dilation d, no bias), BN      (conv ops; id strided or widening)
    relu_conv_pair_bn  ReLU, 1xK conv, Kx1 conv, BN   (stride on the 1xK's width and Kx1's height)
    sep_conv       twice (ReLU, depthwise KxK, pointwise 1x1, BN); stride and in->out on the first
    dil_sep_conv   ReLU, depthwise KxK dilated, pointwise 1x1, BN (DARTS dil_conv)
    pool           KxK avg/max pool, the skeleton's padding (avg excludes the padding)
    pool_conv_bn   pool, then 1x1 conv + BN (no ReLU) because channels change
    zero           zeros (DARTS 'none')

No torch here: `interp(k, x, op, meta, w, prefix, eps)` receives the interpreter module `k` (its
torch helpers: relu_conv_bn, sep_conv, pool_same, factorized, bn, F, ...).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from .lang.ops import OpSpec

HW = tuple[int, int]
Cost = tuple[int, int]  # (params, madds)


class Site(NamedTuple):
    """Where the code generator constructs an op: expressions for its input channels and input size,
    its stride, and the padding runtime's pool class."""

    cin: str
    stride: str
    hw: str
    pool_class: str


@dataclass(frozen=True)
class Layer:
    name: str
    # (op, in channels, out channels, stride, CellContext) -> whether this layer implements the op there
    select: Callable[[OpSpec, int, int, int, object], bool]
    # (op, Site) -> constructor expression (output channels are `filters`), or None: no module
    ctor: Callable[[OpSpec, Site], str | None]
    # (op, in channels, out channels, stride, input size, output size) -> (params, mult-adds)
    cost: Callable[[OpSpec, int, int, int, HW, HW], Cost]
    # (interpreter module, x, op, meta, weights, prefix, eps) -> tensor
    interp: Callable
    classes: tuple[str, ...] = ()  # runtime classes the constructor names ("{pool}": the padding's pool)
    parameter_free: bool = False  # holds no parameters where selected (CSE may merge two of them)


# THE registry, in selection order
LAYERS: dict[str, Layer] = {}


def register(layer: Layer, before: str | None = None) -> Layer:
    """Add a layer (at the end of the selection order, or just before `before`)."""
    if before is None:
        LAYERS[layer.name] = layer
        return layer
    items = list(LAYERS.items())
    at = [k for k, _ in items].index(before)
    LAYERS.clear()
    LAYERS.update(items[:at] + [(layer.name, layer)] + items[at:])
    return layer


def select(op: OpSpec, cin: int, cout: int, stride: int, ctx) -> str:
    """The name of the layer implementing `op` at this place."""
    for layer in LAYERS.values():
        if layer.select(op, cin, cout, stride, ctx):
            return layer.name
    raise ValueError(f"no registered layer implements op {op.name!r} (family {op.family!r})")


def classes(layer: str, pool_class: str) -> tuple[str, ...]:
    """The runtime classes a layer's constructor names, with the padding's pool class filled in."""
    return tuple(pool_class if c == "{pool}" else c for c in LAYERS[layer].classes)


# -- cost formulas -------------------------------------------------------------------------------

def conv(cin: int, cout: int, kh: int, kw: int, out_hw: HW, groups: int = 1) -> Cost:
    """A bias-free convolution: weights and multiply-adds at its output size."""
    w = kh * kw * (cin // groups) * cout
    return w, w * out_hw[0] * out_hw[1]


def bn(channels: int) -> Cost:
    """An affine batch norm: scale and shift per channel (running statistics are buffers)."""
    return 2 * channels, 0


def fc(cin: int, cout: int) -> Cost:
    """A fully connected layer with bias."""
    return cin * cout + cout, cin * cout


def total(*parts: Cost) -> Cost:
    return sum(p for p, _ in parts), sum(m for _, m in parts)


def factorized_reduction(cin: int, filters: int, out_hw: HW) -> Cost:
    """Two 1x1 convs to F//2 on the two shifted, strided paths, concatenated, then BN."""
    half = filters // 2
    return total(conv(cin, half, 1, 1, out_hw), conv(cin, half, 1, 1, out_hw), bn(2 * half))


def _free(*_) -> Cost:
    return 0, 0


def _n(v: int) -> str:
    return repr(int(v))


# -- the registered layers -----------------------------------------------------------------------

def _is_id(op: OpSpec, cin: int, cout: int, stride: int, ctx) -> bool:
    return op.family == "identity" and stride == 1 and cin == cout


def _is_factorized(op: OpSpec, cin: int, cout: int, stride: int, ctx) -> bool:
    return (op.family == "identity" and stride > 1 and cin == cout
            and getattr(ctx, "strided_identity", "relu_conv_bn") == "factorized")


def _conv_ctor(op: OpSpec, s: Site) -> str:
    kern = _n(op.kernel) if op.family != "identity" else "1"
    dil = f", dilation={_n(op.dilation)}" if op.dilation != 1 else ""
    return f"ReluConvBn({s.cin}, filters, {kern}, {s.stride}{dil}, hw={s.hw}, eps=eps)"


def _conv_cost(op: OpSpec, cin, cout, stride, in_hw, out_hw) -> Cost:
    return total(conv(cin, cout, op.kernel, op.kernel, out_hw), bn(cout))


def _pair_cost(op: OpSpec, cin, cout, stride, in_hw, out_hw) -> Cost:
    mid_hw = (in_hw[0], out_hw[1])  # 1xK strided along the width, then Kx1 strided along the height
    return total(conv(cin, cout, 1, op.kernel, mid_hw), conv(cout, cout, op.kernel, 1, out_hw), bn(cout))


def _sep_cost(op: OpSpec, cin, cout, stride, in_hw, out_hw) -> Cost:
    k = op.kernel  # stride and in->out on the first of two stacked separable convs
    return total(conv(cin, cin, k, k, out_hw, groups=cin), conv(cin, cout, 1, 1, out_hw), bn(cout),
                 conv(cout, cout, k, k, out_hw, groups=cout), conv(cout, cout, 1, 1, out_hw), bn(cout))


def _dil_sep_cost(op: OpSpec, cin, cout, stride, in_hw, out_hw) -> Cost:
    k = op.kernel
    return total(conv(cin, cin, k, k, out_hw, groups=cin), conv(cin, cout, 1, 1, out_hw), bn(cout))


def _dil_sep_interp(k, x, op, m, w, p, eps):
    dw = w[f"{p}.separable.depthwise_conv2d.weight"]
    y = k.conv_same(k.F.relu(x), dw, (m["stride"], m["stride"]), op.dilation, dw.shape[0])
    return k.bn(k.F.conv2d(y, w[f"{p}.separable.pointwise_conv2d.weight"]), w, f"{p}.bn", eps)


def _pool_conv_interp(k, x, op, m, w, p, eps):
    y = k.F.conv2d(k.pool_same(x, op.family, op.kernel, m["stride"]), w[f"{p}.conv.weight"])
    return k.bn(y, w, f"{p}.bn", eps)


def _zero_interp(k, x, op, m, w, p, eps):
    s = m["stride"]
    return (x[:, :1, ::s, ::s] * 0.0).expand(-1, m["channels"], -1, -1)


def _family(*families: str) -> Callable:
    return lambda op, cin, cout, stride, ctx: op.family in families


_POOLS = ("avg", "max")

register(Layer("identity", _is_id, lambda op, s: None, _free, lambda k, x, op, m, w, p, eps: x,
               parameter_free=True))
register(Layer("factorized", _is_factorized, lambda op, s: f"FactorizedReduce({s.cin}, filters, eps=eps)",
               lambda op, cin, cout, stride, i, o: factorized_reduction(cin, cout, o),
               lambda k, x, op, m, w, p, eps: k.factorized(x, w, p, eps, relu=True), ("FactorizedReduce",)))
register(Layer("relu_conv_bn", _family("conv", "identity"), _conv_ctor, _conv_cost,
               lambda k, x, op, m, w, p, eps: k.relu_conv_bn(x, w, p, eps, m["stride"], op.dilation),
               ("ReluConvBn",)))
register(Layer("relu_conv_pair_bn", _family("conv_pair"),
               lambda op, s: f"ReluConvPairBn({s.cin}, filters, {_n(op.kernel)}, {s.stride}, hw={s.hw}, eps=eps)",
               _pair_cost, lambda k, x, op, m, w, p, eps: k.relu_conv_pair_bn(x, w, p, eps, m["stride"], op.kernel),
               ("ReluConvPairBn",)))
register(Layer("sep_conv", _family("sep"),
               lambda op, s: f"SepConv({s.cin}, filters, {_n(op.kernel)}, {s.stride}, hw={s.hw}, eps=eps)",
               _sep_cost, lambda k, x, op, m, w, p, eps: k.sep_conv(x, w, p, eps, m["stride"]), ("SepConv",)))
register(Layer("dil_sep_conv", _family("dil_sep"),
               lambda op, s: (f"DilSepConv({s.cin}, filters, {_n(op.kernel)}, {s.stride}, {_n(op.dilation)}, "
                              f"hw={s.hw}, eps=eps)"),
               _dil_sep_cost, _dil_sep_interp, ("DilSepConv",)))
register(Layer("pool", lambda op, cin, cout, stride, ctx: op.family in _POOLS and cin == cout,
               lambda op, s: f'{s.pool_class}("{op.family}", {_n(op.kernel)}, {s.stride}, hw={s.hw})', _free,
               lambda k, x, op, m, w, p, eps: k.pool_same(x, op.family, op.kernel, m["stride"]), ("{pool}",),
               parameter_free=True))
register(Layer("pool_conv_bn", _family(*_POOLS),
               lambda op, s: (f'PoolConvBn("{op.family}", {_n(op.kernel)}, {s.cin}, filters, {s.stride}, '
                              f'hw={s.hw}, eps=eps)'),
               lambda op, cin, cout, stride, i, o: total(conv(cin, cout, 1, 1, o), bn(cout)), _pool_conv_interp,
               ("PoolConvBn",)))
register(Layer("zero", _family("zero"), lambda op, s: f"Zero(filters, {s.stride})", _free, _zero_interp, ("Zero",),
               parameter_free=True))
