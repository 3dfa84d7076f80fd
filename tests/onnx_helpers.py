"""Shared pieces for the ONNX tests: a small real classifier, image writers, a torch-free runner."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
from proc_helpers import child_env

# Runs `nasdsl` with the named packages made unimportable (sys.modules[name] = None makes any
# `import name` raise ImportError), and fails if a blocked package got imported anyway.
BLOCKED_RUNNER = """
import sys
blocked = sys.argv[1].split(",")
for name in blocked:
    sys.modules[name] = None
from nasdsl.cli.dispatch import main
rc = main(sys.argv[2:])
leaked = [m for m in blocked if any(k == m or k.startswith(m + ".") for k, v in sys.modules.items() if v)]
if leaked:
    print("imported anyway:", leaked, file=sys.stderr)
    rc = 3
sys.exit(rc)
"""


def run_blocked(blocked: list[str], argv: list[str]) -> subprocess.CompletedProcess:
    """`nasdsl ARGV` in a fresh interpreter where `blocked` packages cannot be imported."""
    return subprocess.run([sys.executable, "-c", BLOCKED_RUNNER, ",".join(blocked), *argv],
                          check=False, capture_output=True, text=True, env=child_env(), timeout=120)


def tiny_classifier(classes: int, winner: int | None = None, seed: int = 0):
    """A small real CNN (conv-BN-ReLU, pool, linear). With `winner`, the classifier bias makes that
    class the clear top-1 for any normalized input."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(8, eps=1e-3), nn.ReLU(),
        nn.Conv2d(8, 16, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(16, eps=1e-3), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, classes),
    )
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):  # move the statistics away from the identity
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
        if winner is not None:
            model[-1].weight.mul_(0.01)
            model[-1].bias.zero_()
            model[-1].bias[winner] = 10.0
    return model.eval()


def write_images(folder: Path) -> dict[str, Path]:
    """Real image files of several modes, sizes and formats."""
    from PIL import Image

    rng = np.random.default_rng(0)
    images = {
        "rgb.jpg": Image.fromarray(rng.integers(0, 256, (300, 400, 3), dtype=np.uint8)),
        "tall.png": Image.fromarray(rng.integers(0, 256, (90, 40, 3), dtype=np.uint8)),
        "gray.png": Image.fromarray(rng.integers(0, 256, (50, 64), dtype=np.uint8)),
        "rgba.png": Image.fromarray(rng.integers(0, 256, (33, 33, 4), dtype=np.uint8)),
    }
    out = {}
    for name, img in images.items():
        path = folder / name
        img.save(path)
        out[name] = path
    return out
