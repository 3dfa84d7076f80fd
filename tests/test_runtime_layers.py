"""The runtime layers (nasdsl/codegen/runtime/) on their own, under both paddings."""
import pytest
import torch

from nasdsl.codegen import runtime
from nasdsl.codegen.runtime import common, layers, pad_same

SAME, SYM = runtime.namespace("same"), runtime.namespace("symmetric")


def test_same_padding_gives_ceil_sizes_and_matches_an_explicit_pad():
    x = torch.randn(1, 2, 8, 8)
    conv = pad_same.Conv2dSame(2, 3, 3, 2, hw=(8, 8))
    assert conv(x).shape[-2:] == (4, 4)
    ref = torch.nn.functional.conv2d(torch.nn.functional.pad(x, (0, 1, 0, 1)), conv.weight, stride=2)
    torch.testing.assert_close(conv(x), ref)


def test_symmetric_padding_is_size_independent():
    conv = SYM.conv2d(2, 3, 5, 1, dilation=2)
    assert conv.padding == (4, 4) and conv(torch.randn(1, 2, 9, 9)).shape[-2:] == (9, 9)


@pytest.mark.parametrize("ns", [SAME, SYM], ids=["same", "symmetric"])
def test_every_fusable_layer_fuses_to_the_same_output(ns):
    torch.manual_seed(0)
    for layer in (ns.SepConv(4, 6, 3, 2, hw=8), ns.ReluConvPairBn(4, 6, 7, 2, hw=8), ns.DilSepConv(4, 6, 3, hw=8),
                  ns.PoolConvBn("avg", 3, 4, 6, 1, hw=8), ns.FactorizedReduce(4, 6), ns.ConvBn(4, 6, 3, hw=8)):
        for m in layer.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-1, 1)
                m.running_var.uniform_(0.5, 2)
                m.weight.data.uniform_(0.5, 1.5)
        layer.eval()
        x = torch.randn(2, 4, 8, 8)
        before = layer(x)
        layer.fuse()
        torch.testing.assert_close(layer(x), before, rtol=1e-4, atol=1e-5)


def test_same_average_pool_excludes_the_padding():
    pool = SAME.Pool2dSame("avg", 3, 2, hw=(6, 6))
    x = torch.ones(1, 1, 6, 6)
    torch.testing.assert_close(pool(x), torch.ones(1, 1, 3, 3))


def test_drop_path_only_in_training_and_zero_and_aux_head_shapes():
    dp = common.ScheduledDropPath(keep=0.5)
    dp.progress = 1.0
    x = torch.ones(64, 1, 1, 1)
    assert torch.equal(dp.eval()(x), x) and set(dp.train()(x).flatten().tolist()) <= {0.0, 2.0}
    assert torch.count_nonzero(layers.Zero(5, 2)(torch.randn(2, 3, 8, 8))) == 0
    assert layers.Zero(5, 2)(torch.randn(2, 3, 8, 8)).shape == (2, 5, 4, 4)
    assert layers.AuxHead(8, 8, 10)(torch.randn(2, 8, 8, 8)).shape == (2, 10)
    assert isinstance(layers.AuxHead(8, 7, 10, stride=2, bn=False).bn, torch.nn.Identity)


def test_drop_path_draws_in_float32_under_bf16():
    """A bf16 draw has 8 bits of mantissa: floor(0.999 + rand) kept every example (a drop of 0.001
    came out as none, 0.01 as 0.012). The draw is float32 now, the mask cast to the input's type."""
    dp = common.ScheduledDropPath(keep=0.99).train()
    dp.progress = 1.0
    torch.manual_seed(0)
    x = torch.ones(200_000, 1, 1, 1, dtype=torch.bfloat16)
    dropped = float((dp(x) == 0).float().mean())
    assert dropped == pytest.approx(0.01, abs=0.001)
    assert dp(x).dtype == torch.bfloat16


def test_each_class_is_defined_once_and_only_needed_definitions_are_inlined():
    for padding in runtime.PADDINGS:
        defs = [d.name for m in runtime._modules(padding, ()) for d in runtime.definitions(m)]
        assert len(defs) == len(set(defs)), padding
    text = "\n".join(runtime.source("same", {"ReluConvBn"}))
    assert "class Conv2dSame" in text and "class Pool2dSame" not in text and "class SepConv" not in text
