"""Proxy data sets: `digits` (scikit-learn's 8x8 digits, embedded) and `cifar10:PATH` (the
standard python-pickle batches folder). Each comes as a train split and a held-out split."""
from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nasdsl.errors import NasError

DATASETS = ("digits", "cifar10:PATH")


@dataclass(frozen=True)
class Dataset:
    """Images as float32 [N, 3, H, W] (standardized per channel), labels as int64 [N]."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    classes: int
    x_test: np.ndarray | None = None
    y_test: np.ndarray | None = None

    @property
    def image(self) -> int:
        return int(self.x_train.shape[-1])


_CACHE: dict[tuple, Dataset] = {}


def load_dataset(spec: str = "digits", val_size: int | None = None, train_size: int | None = None,
                 split_seed: int = 0) -> Dataset:
    """`digits` or `cifar10:PATH`. The held-out split is drawn once from `split_seed`, so every
    trial of a search is scored on the same images. `train_size` keeps only that many train images."""
    key = (spec, val_size, train_size, split_seed)
    if key not in _CACHE:
        _CACHE[key] = _load(spec, val_size, train_size, split_seed)
    return _CACHE[key]


def _load(spec: str, val_size: int | None, train_size: int | None, split_seed: int) -> Dataset:
    name, _, arg = spec.partition(":")
    if name == "digits" and not arg:
        x, y, test = _digits()
        default_val = 500
    elif name == "cifar10":
        if not arg:
            raise NasError("cifar10 needs a folder: --dataset cifar10:PATH (the python batches folder)")
        x, y, test = _cifar10(Path(arg))
        default_val = 5000
    else:
        raise NasError(f"unknown data set {spec!r}; known: {', '.join(DATASETS)}")
    val = default_val if val_size is None else val_size
    if not 0 < val < len(x):
        raise NasError(f"{spec}: held-out size {val} must be between 1 and {len(x) - 1} ({len(x)} images)")
    order = np.random.default_rng(split_seed).permutation(len(x))
    tr, va = order[val:], order[:val]
    if train_size is not None:
        if train_size < 1:
            raise NasError(f"train size must be positive, got {train_size}")
        tr = tr[:train_size]
    mean = x[tr].mean(axis=(0, 2, 3), keepdims=True)
    std = x[tr].std(axis=(0, 2, 3), keepdims=True) + 1e-6

    def norm(a: np.ndarray) -> np.ndarray:
        return ((a - mean) / std).astype(np.float32)

    x_test = y_test = None
    if test is not None:
        x_test, y_test = norm(test[0]), test[1]
    return Dataset(spec, norm(x[tr]), y[tr], norm(x[va]), y[va], 10, x_test, y_test)


def _digits() -> tuple[np.ndarray, np.ndarray, None]:
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.images.astype(np.float32) / 16.0)[:, None].repeat(3, axis=1)  # gray -> 3 channels
    return x, d.target.astype(np.int64), None


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles the CIFAR batches (dicts of numpy arrays and lists) and nothing else."""

    ALLOWED = frozenset({("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
               ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")})

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return super().find_class(module, name)


def _read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with open(path, "rb") as f:
            d = _ArrayUnpickler(f, encoding="bytes").load()
        data = d.get(b"data", d.get("data")) if isinstance(d, dict) else None
        labels = d.get(b"labels", d.get("labels")) if isinstance(d, dict) else None
        data = np.asarray(data)
        labels = np.asarray(labels, dtype=np.int64)
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, OSError) as e:
        raise NasError(f"{path}: not a CIFAR-10 python batch ({e})") from None
    if data.ndim != 2 or data.shape[1] != 3072 or len(labels) != len(data):
        raise NasError(f"{path}: not a CIFAR-10 python batch: expected 'data' of shape [N, 3072] and N "
                       f"'labels', got data {tuple(data.shape)} and {len(labels)} labels")
    if len(labels) and (labels.min() < 0 or labels.max() > 9):
        raise NasError(f"{path}: labels must be 0..9")
    return data.reshape(-1, 3, 32, 32).astype(np.float32) / 255.0, labels


def _cifar10(folder: Path) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    if not folder.is_dir():
        raise NasError(f"cifar10: {folder} is not a folder (expected CIFAR-10's python batches: "
                       "data_batch_1 .. data_batch_5, test_batch)")
    files = sorted(folder.glob("data_batch_*"))
    if not files:
        raise NasError(f"cifar10: {folder} holds no data_batch_* files")
    parts = [_read_batch(f) for f in files]
    x = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    test = _read_batch(folder / "test_batch") if (folder / "test_batch").exists() else None
    return x, y, test
