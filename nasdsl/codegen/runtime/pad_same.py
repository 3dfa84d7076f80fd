"""TF 'SAME' padding (the TF-slim skeletons): convolutions and pools whose output is ceil(size / stride).

Every padding module defines the same three names the shared layers call: `out_size`, `conv2d`
and `pool2d`.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .common import _pair


def same_pads(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TF 'SAME' padding of one dimension as (before, after); an odd extra pixel goes after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def same_pads_2d(hw, kernel, stride, dilation=1) -> tuple[int, int, int, int]:
    """F.pad order (left, right, top, bottom) of TF 'SAME' for an input of size hw."""
    (h, w), (kh, kw), (sh, sw) = _pair(hw), _pair(kernel), _pair(stride)
    top, bottom = same_pads(h, kh, sh, dilation)
    left, right = same_pads(w, kw, sw, dilation)
    return left, right, top, bottom


def out_size(hw, stride: int = 2):
    """Spatial size after a layer of this stride: ceil(size / stride) (None stays None)."""
    if hw is None:
        return None
    h, w = _pair(hw)
    return (-(-h // stride), -(-w // stride))


class Conv2dSame(nn.Conv2d):
    """nn.Conv2d (no bias) with TF 'SAME' padding: static when the input size is known, else per call;
    symmetric pads go to the convolution itself, asymmetric ones (stride 2, even size) to F.pad."""

    def __init__(self, in_channels: int, out_channels: int, kernel, stride=1, dilation: int = 1,
                 groups: int = 1, hw=None) -> None:
        super().__init__(in_channels, out_channels, _pair(kernel), _pair(stride), 0, dilation, groups, bias=False)
        self.pads: tuple[int, int, int, int] | None = None
        if hw is not None:
            left, right, top, bottom = same_pads_2d(hw, self.kernel_size, self.stride, dilation)
            if (left, top) == (right, bottom):
                self.padding, self.pads = (top, left), (0, 0, 0, 0)
            else:
                self.pads = (left, right, top, bottom)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads = self.pads
        if pads is None:
            pads = same_pads_2d(x.shape[-2:], self.kernel_size, self.stride, self.dilation[0])
        if any(pads):
            x = F.pad(x, pads)
        return super().forward(x)


def conv2d(in_channels: int, out_channels: int, kernel, stride=1, dilation: int = 1, groups: int = 1,
           hw=None) -> nn.Conv2d:
    """A bias-free conv with TF 'SAME' padding (`hw`, the input size, makes the padding static)."""
    return Conv2dSame(in_channels, out_channels, kernel, stride, dilation, groups, hw=hw)


def ceil_out(size: int, kernel: int, stride: int) -> int:
    """Output size of an unpadded pool in ceil mode (PyTorch's rule: the last window starts inside)."""
    out = -(-(size - kernel) // stride) + 1
    return out - 1 if (out - 1) * stride >= size else out


class Pool2dSame(nn.Module):
    """KxK max or average pool with TF 'SAME' padding; the average never counts the padding.
    Padding only after the input (stride 2 on an even size) is ceil mode: one pool, no pad op."""

    def __init__(self, kind: str, kernel: int, stride: int = 1, hw=None) -> None:
        super().__init__()
        self.kind, self.kernel, self.stride = kind, kernel, stride
        self.pads: tuple[int, int, int, int] | None = None
        self.padding, self.ceil_mode = 0, False
        if hw is not None:
            left, right, top, bottom = same_pads_2d(hw, kernel, stride)
            size = _pair(hw)
            if left == right == top == bottom:
                self.padding, self.pads = left, (0, 0, 0, 0)
            elif left == top == 0 and min(size) >= kernel and all(
                    ceil_out(n, kernel, stride) == o for n, o in zip(size, out_size(size, stride), strict=True)):
                self.ceil_mode, self.pads = True, (0, 0, 0, 0)
            else:
                self.pads = (left, right, top, bottom)
                if kind == "avg":
                    self.register_buffer("norm", self._norm(_pair(hw), self.pads), persistent=False)

    def _norm(self, hw: tuple[int, int], pads) -> torch.Tensor:
        """1 / (fraction of each window inside the image), to undo counting the zero padding."""
        ones = F.pad(torch.ones(1, 1, hw[0], hw[1]), pads)
        return 1.0 / F.avg_pool2d(ones, self.kernel, self.stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads = self.pads
        if pads is None:
            pads = same_pads_2d(x.shape[-2:], self.kernel, self.stride)
            if pads[0] == pads[1] == pads[2] == pads[3]:
                return self._pool(x, pads[0])
        elif not any(pads):
            return self._pool(x, self.padding)
        if self.kind == "max":
            return F.max_pool2d(F.pad(x, pads, value=float("-inf")), self.kernel, self.stride)
        norm = self.norm if self.pads is not None else self._norm(tuple(x.shape[-2:]), pads).to(x)
        return F.avg_pool2d(F.pad(x, pads), self.kernel, self.stride) * norm

    def _pool(self, x: torch.Tensor, padding: int) -> torch.Tensor:
        if self.kind == "max":
            return F.max_pool2d(x, self.kernel, self.stride, padding, ceil_mode=self.ceil_mode)
        return F.avg_pool2d(x, self.kernel, self.stride, padding, ceil_mode=self.ceil_mode,
                            count_include_pad=False)


def pool2d(kind: str, kernel: int, stride: int = 1, hw=None) -> nn.Module:
    """A KxK max or average pool with TF 'SAME' padding."""
    return Pool2dSame(kind, kernel, stride, hw=hw)
