"""Helpers for tests and benchmarks: weights that make a comparison of networks sensitive, a small
network that trains on digits in seconds, and the scripts' argument of seeds."""
from __future__ import annotations

import torch
from torch import nn

SMALL_NAS = """
cell qnormal : normal {
    b0 = sep3x3(h0) + id(h1)
    b1 = avg3x3(h0) + id(b0)
    out = concat(b0, b1)
}

cell qreduce : reduction {
    b0 = max3x3(h0) + sep3x3(h1)
    b1 = avg3x3(h0) + id(b0)
    out = concat(b0, b1)
}

network small {
    normal = qnormal
    reduction = qreduce
    cells = 1
    filters = 8
    stem_multiplier = 1
    aux_head = false
}
"""  # one cell of each kind, F = 8: trains on digits in seconds (int8 agreement, serving)


def randomize_bn(model: nn.Module, seed: int = 0, classifier_gain: float = 1.0) -> nn.Module:
    """Move every BatchNorm's running statistics and affine terms off their defaults (0/1), so that
    a misplaced or wrongly folded BN changes the output; optionally scale every Linear's weights
    (a livelier classifier makes logits differ more). Deterministic in `seed`; returns `model`."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.running_mean.copy_(torch.randn(c, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(c, generator=g) + 0.5)
                m.weight.copy_(torch.rand(c, generator=g) + 0.5)
                m.bias.copy_(torch.randn(c, generator=g) * 0.1)
            elif isinstance(m, nn.Linear) and classifier_gain != 1.0:
                m.weight.mul_(classifier_gain)
    return model


def int_list(text: str) -> list[int]:
    """argparse type of a comma-separated list of integers (`--seeds 0,1,2`): anything else is
    argparse's one-line usage error, exit 2."""
    return [int(s) for s in text.split(",")]
