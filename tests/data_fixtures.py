"""Small real data sets on disk for the data-set tests: Pillow image folders, an npz, CIFAR batches."""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np


def write_image(path: Path, size: tuple[int, int] = (10, 12), seed: int = 0, fmt: str | None = None) -> Path:
    """A random RGB picture of `size` (width, height), saved as PNG or JPEG by its suffix."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path, fmt)
    return path


def write_tree(root: Path, classes: dict[str, int], size: tuple[int, int] = (10, 12), seed: int = 0) -> Path:
    """root/<class>/<i>.png|jpg: alternating PNG and JPEG, `classes[name]` files each."""
    k = seed * 1000
    for name, n in classes.items():
        for i in range(n):
            write_image(root / name / f"{i}.{'png' if i % 2 == 0 else 'jpg'}", size, seed=k)
            k += 1
    return root


def write_folder(root: Path, train: int = 4, val: int = 2, size: tuple[int, int] = (10, 12),
                 classes: tuple[str, ...] = ("cat", "dog", "eel")) -> Path:
    """root/train/<class>/... and root/val/<class>/... with `train` and `val` images per class."""
    write_tree(root / "train", dict.fromkeys(classes, train), size, seed=1)
    write_tree(root / "val", dict.fromkeys(classes, val), size, seed=2)
    return root


def write_npz(path: Path, n: int = 40, image: int = 8, classes: int = 4, layout: str = "NHWC",
              dtype: str = "uint8", seed: int = 0, **extra) -> Path:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (n, image, image, 3), dtype=np.uint8)
    if layout == "NCHW":
        x = x.transpose(0, 3, 1, 2)
    arrays = {"x": x if dtype == "uint8" else x.astype(np.float32) / 255.0,
              "y": np.arange(n) % classes, **extra}
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)
    return path


def write_cifar100(folder: Path, train: int = 60, test: int = 20, seed: int = 0, protocol: int = 2) -> Path:
    """CIFAR-100's python layout: train, test (dicts with data [N, 3072], fine_labels) and meta."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for name, n in (("train", train), ("test", test)):
        batch = {b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                 b"fine_labels": [int(v) for v in rng.integers(0, 100, n)],
                 b"coarse_labels": [int(v) for v in rng.integers(0, 20, n)],
                 b"filenames": [f"img{i}.png".encode() for i in range(n)]}
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f, protocol=protocol)
    with open(folder / "meta", "wb") as f:
        pickle.dump({b"fine_label_names": [f"class{i}".encode() for i in range(100)],
                     b"coarse_label_names": [f"super{i}".encode() for i in range(20)]}, f, protocol=2)
    return folder
