"""Static cost against the reference implementations, computed live: parameter counts of Cadene's
modules, and mult-adds counted by forward hooks on Cadene's and timm's convs and linears.

Cadene's ports emulate TF 'SAME' padding on stride-2 separable convs by padding one extra row and
column, convolving, then cropping them (`BranchSeparablesReduction`, `name='specific'`): the hook
count leaves out the cropped row and column of those convs, as TF-slim never computes them. timm's
`nasnetalarge` and `pnasnet5large` pad exactly and need no correction."""
from __future__ import annotations

import pytest
import torch
from references import require
from torch import nn

from nasdsl.ir.cost import cost

pretrainedmodels = require("pretrainedmodels")


def n_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def hook_madds(model: nn.Module, size: int) -> int:
    """Conv and linear multiply-adds of one forward pass at `size`, minus Cadene's cropped outputs."""
    cropped: set[int] = set()
    for m in model.modules():
        if type(m).__name__ == "BranchSeparablesReduction" or getattr(m, "name", None) == "specific":
            cropped |= {id(x) for x in m.separable_1.modules()}
    total = 0

    def hook(m, _inputs, out):
        nonlocal total
        if isinstance(m, nn.Linear):
            total += m.in_features * m.out_features
            return
        h, w = out.shape[2:]
        if id(m) in cropped:
            h, w = h - 1, w - 1
        total += h * w * m.out_channels * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]
    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 3, size, size))
    for h in handles:
        h.remove()
    return total


def test_nasnet_a_mobile_matches_cadene_and_the_paper():
    ours = cost("nasnet_a_mobile")
    ref = pretrainedmodels.nasnetamobile(num_classes=1000, pretrained=None)
    assert ours.params == n_params(ref) == 5_289_978
    assert ours.madds == hook_madds(ref, 224)
    assert round(ours.madds / 1e6) == 564  # the paper: 564M mult-adds


@pytest.mark.slow
def test_nasnet_a_large_matches_cadene_timm_and_the_paper():
    timm = require("timm")
    ours = cost("nasnet_a_large")
    ref = pretrainedmodels.nasnetalarge(num_classes=1000, pretrained=None)
    assert ours.params == n_params(ref)
    assert ours.madds == hook_madds(ref, 331)
    assert ours.madds == hook_madds(timm.create_model("nasnetalarge", num_classes=1000), 331)
    assert round(ours.madds / 1e9, 1) == 23.8  # the paper: 23.8B mult-adds


@pytest.mark.slow
def test_pnasnet5_large_matches_cadene_and_timm():
    timm = require("timm")
    ours = cost("pnasnet5_large")
    assert ours.params == n_params(pretrainedmodels.pnasnet5large(num_classes=1000, pretrained=None))
    assert ours.madds == hook_madds(timm.create_model("pnasnet5large", num_classes=1000), 331)


def test_stage_rows_add_up_and_name_the_parts():
    r = cost("nasnet_a_mobile", aux_head=True)
    assert [row.stage for row in r.rows] == ["stem", "stage 1", "reduction 1", "stage 2", "reduction 2",
                                             "stage 3", "aux head", "classifier"]
    assert r.row("stem").parts == ("conv0", "cell_stem_0", "cell_stem_1")
    assert r.row("reduction 2").parts == ("reduction_cell_1",)
    assert r.row("classifier").params == 1056 * 1000 + 1000
    assert sum(i.params for i in r.instances) == r.params - sum(
        r.row(s).params for s in ("aux head", "classifier")) - (3 * 3 * 3 * 32 + 2 * 32)
    assert r.params - r.row("aux head").params == cost("nasnet_a_mobile").params
