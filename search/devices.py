"""Where training runs: `--device auto|cpu|cuda|cuda:N` and what mixed precision means there.

auto = the first CUDA device when torch sees one, else the CPU. `--amp` is CUDA-only: bfloat16
autocast where the GPU supports it (no loss scaling needed), else float16 with a GradScaler.
"""
from __future__ import annotations

import os
import re

from nasdsl.errors import NasError

DEVICE_CHOICES = "auto, cpu, cuda or cuda:N"
_PATTERN = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


def check_device(spec: str) -> str:
    """Validate a --device value without touching CUDA; returns it unchanged."""
    if not isinstance(spec, str) or not _PATTERN.match(spec):
        raise NasError(f"--device must be {DEVICE_CHOICES}, got {spec!r}")
    return spec


def resolve_device(spec: str = "auto"):
    """The torch.device for `spec`; asking for CUDA where there is none is a NasError."""
    import torch

    check_device(spec)
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if spec == "cpu":
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise NasError(f"--device {spec}: no CUDA device is available here (torch {torch.__version__}, "
                       f"CUDA build: {torch.version.cuda or 'none'}); use --device cpu or auto")
    index = int(spec.partition(":")[2] or 0)
    if index >= torch.cuda.device_count():
        raise NasError(f"--device {spec}: only {torch.cuda.device_count()} CUDA device(s) here")
    return torch.device("cuda", index)


def amp_dtype(device):
    """The autocast dtype for --amp on `device` (None on the CPU: AMP is a no-op there)."""
    import torch

    if device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def cuda_count() -> int:
    """CUDA devices torch can see (0 without a CUDA build), without creating a CUDA context."""
    try:
        import torch

        return torch.cuda.device_count() if torch.cuda.is_available() else 0
    except Exception:  # noqa: BLE001 - a broken driver is "no GPU" here
        return 0


def pin_worker(counter, gpus: list[int]) -> None:
    """Process-pool initializer: this worker sees one GPU, taken round-robin from `gpus`
    (CUDA_VISIBLE_DEVICES is set before torch initializes CUDA in the new process)."""
    with counter.get_lock():
        index = counter.value
        counter.value += 1
    os.environ["CUDA_VISIBLE_DEVICES"] = str(gpus[index % len(gpus)])


def free_cuda_memory() -> None:
    """Give cached GPU memory back after a failed child (e.g. out of memory), so the worker
    can run the next one."""
    import gc
    import sys

    gc.collect()
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.empty_cache()
