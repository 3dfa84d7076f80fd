"""The runtime layers of generated cells and heads, written once for every skeleton.

Each layer calls `conv2d`, `pool2d` and `out_size` of the skeleton's padding module
(pad_same.py or pad_symmetric.py): the generated file holds one padding module's definitions, so the
same class gets TF 'SAME' or symmetric padding. Imported directly, these use TF 'SAME' (see
`nasdsl.codegen.runtime.namespace` for the other padding). Names of submodules follow TF-slim (and so
Cadene, timm and NNI after conversion): `separable_1.depthwise_conv2d`, `bn_sep_1`, `path_1`, ...
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .common import Fusable, _pair, fold_bn
from .pad_same import conv2d, out_size, pool2d


class ConvBn(Fusable):
    """KxK conv (no bias) then BN: the stems and stride-1 resizing; 'valid' (no padding) or 'same'
    (the skeleton's padding)."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int = 1, stride: int = 1,
                 padding: str = "same", hw=None, eps: float = 1e-3) -> None:
        super().__init__()
        if padding == "valid":
            self.conv = nn.Conv2d(in_channels, out_channels, kernel, stride, bias=False)
        else:
            self.conv = conv2d(in_channels, out_channels, kernel, stride, hw=hw)
        self.bn = nn.BatchNorm2d(out_channels, eps=eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(x))

    def fuse(self) -> None:
        fold_bn(self.conv, self.bn)
        self.bn = nn.Identity()


class ReluConvBn(Fusable):
    """ReLU, KxK conv (optional dilation, no bias), BN."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int = 1, stride: int = 1,
                 dilation: int = 1, hw=None, eps: float = 1e-3) -> None:
        super().__init__()
        self.conv = conv2d(in_channels, out_channels, kernel, stride, dilation, hw=hw)
        self.bn = nn.BatchNorm2d(out_channels, eps=eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(F.relu(x)))

    def fuse(self) -> None:
        fold_bn(self.conv, self.bn)
        self.bn = nn.Identity()


class ReluConvPairBn(Fusable):
    """ReLU, 1xK conv (stride on the width), Kx1 conv (stride on the height), BN."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int, stride: int = 1,
                 hw=None, eps: float = 1e-3) -> None:
        super().__init__()
        mid = None if hw is None else (_pair(hw)[0], out_size(hw, stride)[1])
        self.conv_1 = conv2d(in_channels, out_channels, (1, kernel), (1, stride), hw=hw)
        self.conv_2 = conv2d(out_channels, out_channels, (kernel, 1), (stride, 1), hw=mid)
        self.bn = nn.BatchNorm2d(out_channels, eps=eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv_2(self.conv_1(F.relu(x))))

    def fuse(self) -> None:
        fold_bn(self.conv_2, self.bn)
        self.bn = nn.Identity()


class Separable(nn.Module):
    """Depthwise KxK conv (optional dilation) then pointwise 1x1 conv, nothing between
    (TF separable_conv2d)."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int, stride: int = 1,
                 dilation: int = 1, hw=None) -> None:
        super().__init__()
        self.depthwise_conv2d = conv2d(in_channels, in_channels, kernel, stride, dilation,
                                       groups=in_channels, hw=hw)
        self.pointwise_conv2d = nn.Conv2d(in_channels, out_channels, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise_conv2d(self.depthwise_conv2d(x))


class SepConv(Fusable):
    """Stacked separable conv: (ReLU, separable KxK, BN) twice; the stride and the channel change
    happen in the first (TF-slim and DARTS alike)."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int, stride: int = 1,
                 hw=None, eps: float = 1e-3) -> None:
        super().__init__()
        self.separable_1 = Separable(in_channels, out_channels, kernel, stride, hw=hw)
        self.bn_sep_1 = nn.BatchNorm2d(out_channels, eps=eps)
        self.separable_2 = Separable(out_channels, out_channels, kernel, 1, hw=out_size(hw, stride))
        self.bn_sep_2 = nn.BatchNorm2d(out_channels, eps=eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.bn_sep_1(self.separable_1(F.relu(x)))
        return self.bn_sep_2(self.separable_2(F.relu(x)))

    def fuse(self) -> None:
        fold_bn(self.separable_1.pointwise_conv2d, self.bn_sep_1)
        fold_bn(self.separable_2.pointwise_conv2d, self.bn_sep_2)
        self.bn_sep_1, self.bn_sep_2 = nn.Identity(), nn.Identity()


class DilSepConv(Fusable):
    """ReLU, depthwise KxK dilated conv, pointwise 1x1 conv, BN (DARTS dil_conv)."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int, stride: int = 1,
                 dilation: int = 2, hw=None, eps: float = 1e-3) -> None:
        super().__init__()
        self.separable = Separable(in_channels, out_channels, kernel, stride, dilation, hw=hw)
        self.bn = nn.BatchNorm2d(out_channels, eps=eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.separable(F.relu(x)))

    def fuse(self) -> None:
        fold_bn(self.separable.pointwise_conv2d, self.bn)
        self.bn = nn.Identity()


class PoolConvBn(Fusable):
    """KxK pool then 1x1 conv + BN, no ReLU: a pool whose channels change."""

    def __init__(self, kind: str, kernel: int, in_channels: int, out_channels: int, stride: int = 1,
                 hw=None, eps: float = 1e-3) -> None:
        super().__init__()
        self.pool = pool2d(kind, kernel, stride, hw=hw)
        self.conv = nn.Conv2d(in_channels, out_channels, 1, bias=False)
        self.bn = nn.BatchNorm2d(out_channels, eps=eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(self.pool(x)))

    def fuse(self) -> None:
        fold_bn(self.conv, self.bn)
        self.bn = nn.Identity()


class ReducePath(nn.Module):
    """One path of a factorized reduction: keep every other pixel (shifted by one on path 2, with
    a zero row/column after the last), then a 1x1 conv. TF-slim pads, crops and pools; a strided
    slice is the same, and on an odd size only the missing last row/column is padded."""

    def __init__(self, in_channels: int, out_channels: int, shift: bool) -> None:
        super().__init__()
        self.shift = shift
        self.conv = nn.Conv2d(in_channels, out_channels, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.shift:
            return self.conv(x[:, :, ::2, ::2])
        h, w = x.shape[-2:]
        y = x[:, :, 1::2, 1::2]
        if h % 2 or w % 2:
            y = F.pad(y, (0, w % 2, 0, h % 2))
        return self.conv(y)


class FactorizedReduce(Fusable):
    """TF-slim factorized reduction (stride 2): two half-width paths, concatenated, then BN;
    `relu` applies a ReLU first (as when it adjusts a cell's previous input)."""

    def __init__(self, in_channels: int, out_channels: int, relu: bool = True, eps: float = 1e-3) -> None:
        super().__init__()
        self.relu = relu
        self.path_1 = ReducePath(in_channels, out_channels // 2, shift=False)
        self.path_2 = ReducePath(in_channels, out_channels // 2, shift=True)
        self.final_path_bn = nn.BatchNorm2d(2 * (out_channels // 2), eps=eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.relu:
            x = F.relu(x)
        return self.final_path_bn(torch.cat([self.path_1(x), self.path_2(x)], 1))

    def fuse(self) -> None:
        fold_bn(self.path_1.conv, self.final_path_bn)
        fold_bn(self.path_2.conv, self.final_path_bn, start=self.path_1.conv.out_channels)
        self.final_path_bn = nn.Identity()


class Zero(nn.Module):
    """Zeros shaped like the op's output (DARTS 'none')."""

    def __init__(self, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.out_channels, self.stride = out_channels, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x[:, :1, :: self.stride, :: self.stride] * 0.0
        return x.expand(-1, self.out_channels, -1, -1)


class AuxHead(Fusable):
    """Aux head: ReLU, 5x5 avg pool (stride 3; DARTS ImageNet 2), no padding, 1x1 conv 128 + BN,
    ReLU, conv over the whole remaining map to 768 + BN (DARTS ImageNet: no BN), ReLU, linear."""

    def __init__(self, in_channels: int, hw, num_classes: int, stride: int = 3, bn: bool = True,
                 eps: float = 1e-3) -> None:
        super().__init__()
        h, w = _pair(hw)
        self.stride = stride
        kernel = ((h - 5) // stride + 1, (w - 5) // stride + 1)
        self.proj = nn.Conv2d(in_channels, 128, 1, bias=False)
        self.bn_proj = nn.BatchNorm2d(128, eps=eps)
        self.conv = nn.Conv2d(128, 768, kernel, bias=False)
        self.bn = nn.BatchNorm2d(768, eps=eps) if bn else nn.Identity()
        self.classifier = nn.Linear(768, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.avg_pool2d(F.relu(x), 5, self.stride)
        x = F.relu(self.bn_proj(self.proj(x)))
        x = F.relu(self.bn(self.conv(x)))
        return self.classifier(torch.flatten(x, 1))

    def fuse(self) -> None:
        fold_bn(self.proj, self.bn_proj)
        self.bn_proj = nn.Identity()
        if isinstance(self.bn, nn.BatchNorm2d):
            fold_bn(self.conv, self.bn)
            self.bn = nn.Identity()
