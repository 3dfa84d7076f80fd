"""Extending the back end: a new op of a new family and a third skeleton, each added from this one
file through the registries alone (ops.OPS, layers.register + runtime.register_module,
skeletons.register), then compiled, costed and interpreted. No nasdsl module is edited."""
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from nasdsl import layers
from nasdsl.codegen import runtime
from nasdsl.codegen.generate import generate_source, load_source
from nasdsl.codegen.interp import interpret
from nasdsl.ir.cost import cost
from nasdsl.lang.ops import OPS, OpSpec
from nasdsl.skeletons import SKELETONS, Builder, NetworkPlan, Skeleton, Stem, register
from nasdsl.skeletons.tfslim import stem_code
from nasdsl.testing import randomize_bn


class BnRelu(nn.Module):
    """The new op's runtime class: BN then ReLU (inlined into generated code from this file)."""

    def __init__(self, channels: int, eps: float = 1e-3) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(channels, eps=eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(x))


F = torch.nn.functional


def plain_layout(cells, spec, passes) -> NetworkPlan:
    """A ResNet-style stack: a 3x3 stem, then 3 stages of N cells, each reading only the previous
    output; the first cell of stages 2 and 3 reduces."""
    b = Builder(cells, spec, passes, "plain")
    stem = Stem("cifar", "stem", 3, spec.filters, 1, "same", (spec.image, spec.image))
    b.shapes["stem"] = (stem.channels, stem.hw)
    last, filters = "stem", spec.filters
    for k in range(3 * spec.n):
        reduction = k > 0 and k % spec.n == 0
        filters *= 2 if reduction else 1
        last = b.add(f"cell_{k}", spec.reduction if reduction else spec.normal, filters, reduction, last, None)
    return NetworkPlan(spec, stem, b.instances, 3 * spec.n, None)


@pytest.fixture
def extended():
    OPS["bn_relu"] = OpSpec("bn_relu", "bn_relu", doc="BN then ReLU (test only)")
    layers.register(layers.Layer(
        "bn_relu", lambda op, cin, cout, stride, ctx: op.family == "bn_relu" and cin == cout and stride == 1,
        lambda op, s: "BnRelu(filters, eps=eps)", lambda op, cin, cout, stride, i, o: layers.bn(cout),
        lambda k, x, op, m, w, p, eps: k.F.relu(k.bn(x, w, f"{p}.bn", eps)), ("BnRelu",)))
    path = runtime.register_module(Path(__file__))
    register(Skeleton("plain", plain_layout, stem_code, "same"))
    yield
    del OPS["bn_relu"], layers.LAYERS["bn_relu"], SKELETONS["plain"]
    runtime.EXTRA_MODULES.remove(path)


NAS = """
cell res : normal {
    b0 = bn_relu(h0) + sep3x3(h0)
    b1 = bn_relu(b0) + id(h0)
    out = concat(b1)
}
cell down : reduction {
    b0 = sep3x3(h0) + max3x3(h0)
    out = concat(b0)
}
network plain_net { normal = res  reduction = down  cells = 1  filters = 8  image = 16 }
"""


def test_a_new_op_and_a_third_skeleton_compile_cost_and_interpret(extended):
    over = {"skeleton": "plain", "aux_head": False}
    source = generate_source(NAS, overrides=over)
    assert "class BnRelu(nn.Module):" in source and "BnRelu(filters, eps=eps)" in source
    assert "def forward(self, x: torch.Tensor) -> torch.Tensor:" in source  # cells read only x
    model = load_source(source).build()
    randomize_bn(model)
    model.eval()
    x = torch.randn(2, 3, 16, 16)
    ours = interpret(NAS, x, model.state_dict(), overrides=over)
    torch.testing.assert_close(model(x), ours, rtol=1e-4, atol=1e-5)
    report = cost(NAS, overrides=over)
    assert report.params == sum(p.numel() for p in model.parameters())
    # N = 1: stages 2 and 3 are their reducing first cell alone
    assert [r.stage for r in report.rows] == ["stem", "stage 1", "reduction 1", "reduction 2", "classifier"]


def test_the_registries_are_left_as_they_were():
    assert "bn_relu" not in OPS and "bn_relu" not in layers.LAYERS and "plain" not in SKELETONS
    assert sys.modules["nasdsl.codegen.runtime"].EXTRA_MODULES == []
