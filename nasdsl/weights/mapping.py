"""What the mappings of reference weights (Cadene/timm in `reference`, NNI in `nni`) share: whether a
tensor can fill one of ours, and the error that lists what could not be mapped."""
from __future__ import annotations

import torch

from ..errors import NasError


def fill_problem(theirs: str, mine: str, value: torch.Tensor, target: torch.Tensor) -> str:
    """"" when the reference's tensor `theirs` can fill our `mine`, else why not: another shape, or
    integers where we hold floating-point weights (torch would convert them without a word)."""
    if tuple(value.shape) != tuple(target.shape):
        return f"{theirs} -> {mine}: shape {tuple(value.shape)} != {tuple(target.shape)}"
    if target.is_floating_point() and not value.is_floating_point():
        return f"{theirs} -> {mine}: {str(value.dtype).removeprefix('torch.')} values for floating-point weights"
    return ""


def cannot_map(source: str, problems: list[str]) -> NasError:
    """The error naming the first 20 problems of mapping `source`'s weights."""
    shown = "\n  ".join(problems[:20]) + (f"\n  ... {len(problems) - 20} more" if len(problems) > 20 else "")
    return NasError(f"cannot map the {source} weights onto this network:\n  {shown}")
