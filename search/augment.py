"""Training augmentations by name: `none`, `cifar`, `cifar+cutout`, `imagenet`.

- cifar: pad by image/8 (4 at 32x32) with zeros, random crop back to the image size, random
  horizontal flip. `cifar+cutout` adds one zeroed square of side image/2 (16 at 32x32) per image,
  centred anywhere and clipped at the border, as in DARTS. They act on normalized tensors, so a
  zero is the mean colour (DARTS applies cutout after normalizing, too).
- imagenet: random-resized-crop (area 8%..100%, aspect 3/4..4/3) to the image size + random flip.
  Image files are cropped from the decoded picture with Pillow; in-memory tensors are cropped
  from the stored (eval-view) image and resized bilinearly.

Evaluation never augments; its preprocessing is `nasdsl.deploy.infer.preprocess`, the one `nasdsl infer` runs.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

AUGMENTATIONS = ("none", "cifar", "cifar+cutout", "imagenet")
RRC_SCALE = (0.08, 1.0)
RRC_RATIO = (3 / 4, 4 / 3)


@dataclass(frozen=True)
class Augment:
    """One named augmentation for images of side `image`."""

    name: str
    image: int
    pad: int = 0  # cifar: zero padding before the random crop
    flip: bool = False
    cutout: int = 0  # side of the zeroed square, 0 = off
    resized_crop: bool = False  # imagenet: random-resized-crop

    @property
    def active(self) -> bool:
        return self.name != "none"

    def batch(self, xb: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Augment a normalized batch [B, 3, H, W]; a new tensor (the input is left alone)."""
        if not self.active or len(xb) == 0:
            return xb
        if self.resized_crop:
            xb = torch.stack([_resized_crop_tensor(x, self.image, _uniform(generator)) for x in xb])
        if self.pad:
            xb = _pad_crop(xb, self.pad, generator)
        if self.flip:
            mask = torch.rand(len(xb), generator=generator) < 0.5
            xb = torch.where(mask[:, None, None, None], xb.flip(3), xb)
        if self.cutout:
            xb = _cutout(xb, self.cutout, generator)
        return xb

    def sample(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Augment one normalized image [3, H, W]."""
        return self.batch(x[None], generator)[0]

    def picture(self, img, interpolation: str = "bilinear"):
        """imagenet-style on a decoded Pillow image: random-resized-crop to image x image, random
        flip (torch's global RNG, which DataLoader workers seed). Returns a Pillow image."""
        from PIL import Image

        resample = {"nearest": Image.NEAREST, "bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC}
        w, h = img.size
        top, left, ch, cw = crop_box(h, w, _uniform(None))
        img = img.resize((self.image, self.image), resample[interpolation], box=(left, top, left + cw, top + ch))
        if self.flip and float(torch.rand(1)) < 0.5:
            img = img.transpose(Image.FLIP_LEFT_RIGHT)
        return img


def make_augment(name: str, image: int) -> Augment:
    """The augmentation called `name` for images of side `image` (ValueError if unknown)."""
    if name == "none":
        return Augment("none", image)
    if name in ("cifar", "cifar+cutout"):
        return Augment(name, image, pad=max(1, image // 8), flip=True,
                       cutout=max(1, image // 2) if name == "cifar+cutout" else 0)
    if name == "imagenet":
        return Augment(name, image, flip=True, resized_crop=True)
    raise ValueError(f"unknown augmentation {name!r}; known: auto, {', '.join(AUGMENTATIONS)}")


def _uniform(generator: torch.Generator | None) -> Callable[[], float]:
    return lambda: float(torch.rand(1, generator=generator))


def crop_box(h: int, w: int, uniform: Callable[[], float]) -> tuple[int, int, int, int]:
    """(top, left, height, width) of a random crop covering RRC_SCALE of the area with an aspect
    ratio in RRC_RATIO (log-uniform); after 10 misses, the largest centred crop within the ratios."""
    area = h * w
    lo, hi = math.log(RRC_RATIO[0]), math.log(RRC_RATIO[1])
    for _ in range(10):
        target = area * (RRC_SCALE[0] + (RRC_SCALE[1] - RRC_SCALE[0]) * uniform())
        ratio = math.exp(lo + (hi - lo) * uniform())
        cw = round(math.sqrt(target * ratio))
        ch = round(math.sqrt(target / ratio))
        if 0 < cw <= w and 0 < ch <= h:
            top = min(int(uniform() * (h - ch + 1)), h - ch)
            left = min(int(uniform() * (w - cw + 1)), w - cw)
            return top, left, ch, cw
    ratio = w / h
    if ratio < RRC_RATIO[0]:
        cw, ch = w, round(w / RRC_RATIO[0])
    elif ratio > RRC_RATIO[1]:
        ch, cw = h, round(h * RRC_RATIO[1])
    else:
        cw, ch = w, h
    return (h - ch) // 2, (w - cw) // 2, ch, cw


def _resized_crop_tensor(x: torch.Tensor, image: int, uniform: Callable[[], float]) -> torch.Tensor:
    _, h, w = x.shape
    top, left, ch, cw = crop_box(h, w, uniform)
    crop = x[:, top:top + ch, left:left + cw]
    return F.interpolate(crop[None], size=(image, image), mode="bilinear", align_corners=False,
                         antialias=ch > image or cw > image)[0]


def _pad_crop(xb: torch.Tensor, pad: int, generator: torch.Generator | None) -> torch.Tensor:
    """Zero-pad each side by `pad`, then crop H x W at a random offset per image (one gather)."""
    b, _, h, w = xb.shape
    padded = F.pad(xb, (pad, pad, pad, pad)).permute(0, 2, 3, 1)  # B, H+2p, W+2p, C
    oy = torch.randint(0, 2 * pad + 1, (b,), generator=generator)
    ox = torch.randint(0, 2 * pad + 1, (b,), generator=generator)
    rows = (oy[:, None] + torch.arange(h))[:, :, None]
    cols = (ox[:, None] + torch.arange(w))[:, None, :]
    out = padded[torch.arange(b)[:, None, None], rows, cols]  # B, H, W, C
    return out.permute(0, 3, 1, 2).contiguous()


def _cutout(xb: torch.Tensor, side: int, generator: torch.Generator | None) -> torch.Tensor:
    """Zero one side x side square per image, centred uniformly in the image, clipped at the border."""
    b, _, h, w = xb.shape
    cy = torch.randint(0, h, (b,), generator=generator)
    cx = torch.randint(0, w, (b,), generator=generator)
    ys, xs = torch.arange(h), torch.arange(w)
    in_y = (ys[None] >= (cy - side // 2)[:, None]) & (ys[None] < (cy + side // 2)[:, None])
    in_x = (xs[None] >= (cx - side // 2)[:, None]) & (xs[None] < (cx + side // 2)[:, None])
    hole = in_y[:, :, None] & in_x[:, None, :]
    return xb.masked_fill(hole[:, None], 0.0)
