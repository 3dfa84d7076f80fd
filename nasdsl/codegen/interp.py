"""A plain eager interpreter of the shaped IR: the test oracle for the generated code.

It walks the skeleton plan and each cell's IR node by node and applies the op semantics with
torch.nn.functional, reading weights from a state_dict named like the generated module's (the
naming is the contract: `cell_3.comb_iter_0_left.separable_1.depthwise_conv2d.weight`, ...). It
shares no layer code with the generated source: TF 'SAME' padding is always an explicit F.pad and
the average pool divides a windowed sum by a windowed count of real pixels. Inference only (BN uses
running statistics, drop path and dropout are off, no aux head).
"""
from __future__ import annotations

import sys
from collections.abc import Mapping

import torch
import torch.nn.functional as F

from ..ir.graph import args, order
from ..lang.ops import OPS
from ..lang.resolve import resolve
from ..layers import LAYERS
from ..naming import op_attr
from ..skeletons import NetworkPlan, pipeline_passes, plan

Weights = Mapping[str, torch.Tensor]


def _pads(size: int, k: int, s: int, d: int = 1) -> tuple[int, int]:
    out = (size + s - 1) // s
    need = max(0, (out - 1) * s + d * (k - 1) + 1 - size)
    return need // 2, need - need // 2


def pad_same(x: torch.Tensor, kh: int, kw: int, sh: int, sw: int, d: int = 1, value: float = 0.0):
    top, bottom = _pads(x.shape[2], kh, sh, d)
    left, right = _pads(x.shape[3], kw, sw, d)
    return F.pad(x, (left, right, top, bottom), value=value)


def conv_same(x: torch.Tensor, w: torch.Tensor, stride=(1, 1), dilation: int = 1, groups: int = 1):
    kh, kw = w.shape[2], w.shape[3]
    return F.conv2d(pad_same(x, kh, kw, stride[0], stride[1], dilation), w, None, stride, 0, dilation, groups)


def bn(x: torch.Tensor, w: Weights, prefix: str, eps: float) -> torch.Tensor:
    return F.batch_norm(x, w[f"{prefix}.running_mean"], w[f"{prefix}.running_var"], w[f"{prefix}.weight"],
                        w[f"{prefix}.bias"], False, 0.0, eps)


def pool_same(x: torch.Tensor, kind: str, k: int, s: int) -> torch.Tensor:
    if kind == "max":
        return F.max_pool2d(pad_same(x, k, k, s, s, value=float("-inf")), k, s)
    ones = torch.ones(x.shape[1], 1, k, k, dtype=x.dtype)
    total = F.conv2d(pad_same(x, k, k, s, s), ones, stride=s, groups=x.shape[1])
    mask = pad_same(torch.ones_like(x[:, :1]), k, k, s, s)
    count = F.conv2d(mask, ones[:1], stride=s)
    return total / count


def factorized(x: torch.Tensor, w: Weights, prefix: str, eps: float, relu: bool) -> torch.Tensor:
    if relu:
        x = F.relu(x)
    a = F.conv2d(x[:, :, ::2, ::2], w[f"{prefix}.path_1.conv.weight"])
    shifted = F.pad(x, (0, 1, 0, 1))[:, :, 1:, 1:]
    b = F.conv2d(shifted[:, :, ::2, ::2], w[f"{prefix}.path_2.conv.weight"])
    return bn(torch.cat([a, b], 1), w, f"{prefix}.final_path_bn", eps)


def relu_conv_bn(x, w, prefix, eps, stride=1, dilation=1):
    y = conv_same(F.relu(x), w[f"{prefix}.conv.weight"], (stride, stride), dilation)
    return bn(y, w, f"{prefix}.bn", eps)


def sep_conv(x, w, prefix, eps, stride):
    for i, s in ((1, stride), (2, 1)):
        dw = w[f"{prefix}.separable_{i}.depthwise_conv2d.weight"]
        x = conv_same(F.relu(x), dw, (s, s), groups=dw.shape[0])
        x = F.conv2d(x, w[f"{prefix}.separable_{i}.pointwise_conv2d.weight"])
        x = bn(x, w, f"{prefix}.bn_sep_{i}", eps)
    return x


def relu_conv_pair_bn(x, w, prefix, eps, stride, kernel):
    y = conv_same(F.relu(x), w[f"{prefix}.conv_1.weight"], (1, stride))
    y = conv_same(y, w[f"{prefix}.conv_2.weight"], (stride, 1))
    return bn(y, w, f"{prefix}.bn", eps)


def apply_op(x: torch.Tensor, op: str, meta: dict, w: Weights, prefix: str, eps: float) -> torch.Tensor:
    """One op at its place (meta from the shape pass): its layer record's interpreter function."""
    return LAYERS[meta["layer"]].interp(sys.modules[__name__], x, OPS[op], meta, w, prefix, eps)


def run_cell(inst, program, w: Weights, x: torch.Tensor, x_prev: torch.Tensor | None, eps: float):
    """One cell instance: preprocessing, every node in order, the output concat."""
    g, p = inst.graph, inst.attr
    cell = program.cells[inst.cell]
    index = {b.name: k for k, b in enumerate(cell.blocks)}
    val = {"h0": relu_conv_bn(x, w, f"{p}.conv_1x1", eps)}
    how = g.graph["preprocess"]["h1"]
    prev = x if x_prev is None else x_prev
    if how == "conv1x1":
        val["h1"] = relu_conv_bn(prev, w, f"{p}.conv_prev_1x1", eps)
    elif how == "factorized":
        val["h1"] = factorized(prev, w, f"{p}.conv_prev_1x1", eps, relu=True)
    else:
        val["h1"] = prev
    for n in order(g):
        d = g.nodes[n]
        if d["kind"] == "op":
            (src,) = args(g, n)
            val[n] = apply_op(val[src], d["op"], d["meta"], w, f"{p}.{op_attr(index[d['block']], d['slot'])}", eps)
        elif d["kind"] == "combine":
            ins = [val[u] for u in args(g, n)]
            val[n] = sum(ins[1:], ins[0]) if d["combiner"] == "add" else torch.cat(ins, 1)
    outs = []
    for s in args(g, "out"):
        how = g.graph["resize"].get(s)
        if how == "factorized":
            outs.append(factorized(val[s], w, f"{p}.reduce_{s}", eps, relu=False))
        elif how == "conv_bn":
            outs.append(bn(F.conv2d(val[s], w[f"{p}.reduce_{s}.conv.weight"]), w, f"{p}.reduce_{s}.bn", eps))
        else:
            outs.append(val[s])
    return torch.cat(outs, 1)


@torch.no_grad()
def run_network(plan: NetworkPlan, program, weights: Weights, x: torch.Tensor) -> torch.Tensor:
    """Logits of the planned network on `x` with `weights` (the generated module's state_dict)."""
    eps, stem = plan.spec.bn_eps, plan.stem
    sw = weights[f"{stem.attr}.conv.weight"]
    y = F.conv2d(x, sw, stride=stem.stride) if stem.padding == "valid" else conv_same(x, sw, (stem.stride,) * 2)
    out = {stem.attr: bn(y, weights, f"{stem.attr}.bn", eps)}
    for inst in plan.cells:
        out[inst.attr] = run_cell(inst, program, weights, out[inst.input],
                                  None if inst.prev is None else out[inst.prev], eps)
    feats = F.relu(out[plan.final.attr]).mean((2, 3))
    return F.linear(feats, weights["last_linear.weight"], weights["last_linear.bias"])


def interpret(src, x: torch.Tensor, weights: Weights, network: str | None = None, *,
              overrides: dict | None = None, passes: str | None = None) -> torch.Tensor:
    """Logits of a DSL network (text, path, zoo name or Program) computed by the interpreter."""
    program, spec = resolve(src, network, overrides, command="interpret")
    return run_network(plan(program, spec, pipeline_passes(passes)), program, weights, x)
