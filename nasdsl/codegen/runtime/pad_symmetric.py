"""PyTorch symmetric padding (the DARTS skeleton): (kernel - 1) * dilation // 2 on every side, so
the padding never depends on the input size and `hw` arguments are ignored.

Defines the names every padding module defines: `out_size`, `conv2d` and `pool2d`.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .common import _pair


def out_size(hw, stride: int = 2):
    """Spatial size after a layer of this stride: ceil(size / stride) (None stays None)."""
    if hw is None:
        return None
    h, w = _pair(hw)
    return (-(-h // stride), -(-w // stride))


def conv2d(in_channels: int, out_channels: int, kernel, stride=1, dilation: int = 1, groups: int = 1,
           hw=None) -> nn.Conv2d:
    """A bias-free conv with symmetric padding (kernel - 1) * dilation // 2 per side."""
    kh, kw = _pair(kernel)
    padding = ((kh - 1) * dilation // 2, (kw - 1) * dilation // 2)
    return nn.Conv2d(in_channels, out_channels, (kh, kw), _pair(stride), padding, dilation, groups, bias=False)


class Pool2d(nn.Module):
    """KxK max or average pool, padding K // 2 on every side; the average never counts the padding
    (DARTS: count_include_pad=False). `hw` is unused: the padding does not depend on the size."""

    def __init__(self, kind: str, kernel: int, stride: int = 1, hw=None) -> None:
        super().__init__()
        self.kind, self.kernel, self.stride = kind, kernel, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.kind == "max":
            return F.max_pool2d(x, self.kernel, self.stride, self.kernel // 2)
        return F.avg_pool2d(x, self.kernel, self.stride, self.kernel // 2, count_include_pad=False)


def pool2d(kind: str, kernel: int, stride: int = 1, hw=None) -> nn.Module:
    """A KxK max or average pool with symmetric padding."""
    return Pool2d(kind, kernel, stride, hw=hw)
