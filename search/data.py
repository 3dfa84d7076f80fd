"""Data sets, one registry shared by `nasdsl search` and `nasdsl train`.

Kinds (`--dataset`):
  digits             scikit-learn's 8x8 digits, embedded (the default; 500 held out)
  npz:PATH           arrays `x` [N,H,W,C] | [N,C,H,W] | [N,H,W] (uint8 0..255 or float 0..1) and `y`;
                     optional `x_val`/`y_val`, `x_test`/`y_test`, `labels` (class names)
  cifar10:PATH       CIFAR-10's python batches (data_batch_1..5, test_batch; 5000 held out)
  cifar100:PATH      CIFAR-100's python files (train, test, meta; 5000 held out)
  imagefolder:PATH   PATH/train/<class>/*.jpg|png|... and PATH/val/<class>/... (optional PATH/test/),
                     or one PATH/<class>/... tree split by `split_seed` (10% held out)

`open_dataset` returns a `DataBundle`: train/val(/test) torch Datasets of normalized float32
[3, image, image] tensors, the class names and the normalization, which `card()` hands on to the
saved weights and the exported model card. Array kinds and image folders that fit in
IN_MEMORY_BYTES are `InMemoryDataset`s (tensors `x`, `y` and `augment_batch`); larger folders
stream: `ImageFiles` decodes one file per item with Pillow (use a DataLoader with workers).

Image files are evaluated exactly as `nasdsl infer` preprocesses them (`nasdsl.deploy.infer.preprocess`:
shorter side to floor(image / crop_pct), centre crop, /255, (x - mean) / std). The family follows
the image size: below 64 pixels CIFAR conventions (crop_pct 1, CIFAR-10 statistics), from 64 on
ImageNet/Inception ones (crop_pct 0.875, mean = std = 0.5), the defaults `nasdsl export` writes.
Digits and npz are standardized by their training split's channel statistics; CIFAR by the
published statistics of its training set.

Bad data fails, it is not skipped: an empty class folder, an unreadable or truncated image, class
folders that differ between train/ and val/, labels out of range, an npz without `x`/`y`, wrong
shapes or a missing path are each a NasError (exit 2) of one line naming the file. Skipping would
quietly change the classes, the split and every reward computed on it; a damaged data set should
be fixed once, not rediscovered in every trial. In-memory sets decode every image when opened;
streaming sets read every file's header when opened and report a file whose pixel data is
truncated when it is decoded (a `DataError`, one line even when raised in a DataLoader worker).
"""
from __future__ import annotations

import os
import pickle
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nasdsl.deploy.modelcard import (
    CIFAR10_MEAN,
    CIFAR10_STD,
    IMAGENET_CROP_PCT,
    Preprocess,
    default_preprocess,
)
from nasdsl.errors import Diagnostic, NasError
from nasdsl.lang.source import same_file, within
from nasdsl.lang.spec import MAX_CLASSES

from .augment import AUGMENTATIONS, Augment, make_augment

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm"})
IN_MEMORY_BYTES = 512 << 20  # an image folder whose decoded tensors fit in this stays in memory
IMAGENET_FROM = 64  # image sizes from here on use ImageNet conventions (crop, statistics, augmentation)
CIFAR100_MEAN = (0.5071, 0.4865, 0.4409)
CIFAR100_STD = (0.2673, 0.2564, 0.2762)
CIFAR10_LABELS = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


class DataError(NasError):
    """A bad file in a data set: `file: error: message` on one line. A DataLoader re-raises a
    worker's exception as `type(text with traceback)`; that text is folded back into the line."""

    def __init__(self, file: object, message: str | None = None):
        if message is None:  # rebuilt from a rendered text (unpickling, DataLoader worker)
            last = [s for s in str(file).splitlines() if s.strip()][-1].strip()
            if "DataError: " in last:
                last = last.split("DataError: ", 1)[1]
            file, _, message = last.partition(": error: ")
        super().__init__(Diagnostic(message, file=str(file)))

    def __reduce__(self):
        d = self.diagnostics[0]
        return DataError, (d.file, d.message)


# -- data sets -----------------------------------------------------------------------------------
class InMemoryDataset(torch.utils.data.Dataset):
    """Normalized images `x` float32 [N, 3, H, W] and labels `y` int64 [N]. Items are un-augmented;
    a trainer augments whole batches with `augment_batch` (identity when augmentation is off)."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, augment: Augment | None = None):
        self.x, self.y = x, y
        self.augment = augment

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        return self.x[i], int(self.y[i])

    def augment_batch(self, xb: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """The training augmentation applied to a batch of `x` rows."""
        return xb if self.augment is None else self.augment.batch(xb, generator)


class ImageFiles(torch.utils.data.Dataset):
    """Image files decoded one per item with Pillow: eval preprocessing, or the training
    augmentation when `augment` is set (random draws from torch's global RNG, seeded per worker)."""

    def __init__(self, files: list[Path], labels: list[int], pre: Preprocess, augment: Augment | None = None):
        self.files, self.labels = files, labels
        self.pre, self.augment = pre, augment
        self.y = torch.tensor(labels, dtype=torch.int64)

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        img = _decode(self.files[i])
        aug = self.augment
        if aug is not None and aug.resized_crop:
            x = _to_tensor(aug.picture(img, self.pre.interpolation), self.pre)
            return x, self.labels[i]
        x = _to_tensor(img, self.pre)
        if aug is not None and aug.active:
            x = aug.sample(x)
        return x, self.labels[i]


class ResizedArrays(torch.utils.data.Dataset):
    """Normalized arrays kept at their own size and resized one item at a time (when the resized
    set would not fit in memory, or `in_memory=False`)."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, image: int, augment: Augment | None = None):
        self.x, self.y, self.image, self.augment = x, y, image, augment

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        x = _resize(self.x[i:i + 1], self.image)[0]
        if self.augment is not None and self.augment.active:
            x = self.augment.sample(x)
        return x, int(self.y[i])


@dataclass
class DataBundle:
    """A data set ready to train on: splits, class names and the preprocessing they went through."""

    name: str  # the spec
    classes: int
    labels: list[str]
    image: int  # H = W of the tensors it yields
    mean: tuple[float, float, float]  # normalization applied (0..1 pixel scale)
    std: tuple[float, float, float]
    train: torch.utils.data.Dataset
    val: torch.utils.data.Dataset
    test: torch.utils.data.Dataset | None = None
    augment: str = "none"  # the training augmentation, resolved ("auto" -> its family's)
    resize: int = 0  # shorter side before the centre crop (image files; = image for arrays)
    crop_pct: float = 1.0
    interpolation: str = "bilinear"
    in_memory: bool = True

    def card(self) -> dict[str, Any]:
        """What training saw, JSON-able, to be saved with the weights and written into the model card."""
        return {"dataset": self.name, "image": self.image, "mean": [float(v) for v in self.mean],
                "std": [float(v) for v in self.std], "labels": list(self.labels),
                "resize": self.resize or self.image, "crop_pct": self.crop_pct,
                "interpolation": self.interpolation}

    def preprocess(self) -> Preprocess:
        """The eval preprocessing as the model card's `Preprocess`."""
        return Preprocess(image=self.image, resize=self.resize or self.image, mean=tuple(self.mean),
                          std=tuple(self.std), interpolation=self.interpolation)


# -- the registry --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Kind:
    """One kind of data set: how it is written on the command line and how it is opened."""

    usage: str
    about: str
    open: Callable[..., DataBundle]
    needs_path: bool = True


DATASETS: dict[str, Kind] = {}


def _kind(name: str, usage: str, about: str, needs_path: bool = True):
    def register(fn: Callable[..., DataBundle]) -> Callable[..., DataBundle]:
        DATASETS[name] = Kind(usage, about, fn, needs_path)
        return fn
    return register


def dataset_help() -> str:
    """One line listing the kinds, for --dataset help texts."""
    return "; ".join(f"{k.usage} ({k.about})" for k in DATASETS.values())


_CACHE: dict[tuple, DataBundle] = {}


def open_dataset(spec: str, *, image: int | None = None, augment: str = "auto", val_size: int | None = None,
                 train_size: int | None = None, split_seed: int = 0, in_memory: bool | None = None) -> DataBundle:
    """Open the data set `spec` (see the module docstring). `image`: the network's input size
    (None = the data set's own: 8 digits, 32 CIFAR, the array size for npz, the median shorter side
    of the training images for folders). `augment`: auto | none | cifar | cifar+cutout | imagenet;
    auto = none for digits, imagenet from IMAGENET_FROM pixels, else cifar. Cached per process.
    Raises NasError (one line naming the file) on bad data."""
    key = (spec, image, augment, val_size, train_size, split_seed, in_memory)
    if key not in _CACHE:
        name, sep, arg = spec.partition(":")
        kind = DATASETS.get(name)
        if kind is None or (not kind.needs_path and sep):
            raise NasError(f"unknown data set {spec!r}; known: {', '.join(k.usage for k in DATASETS.values())}")
        if kind.needs_path and not arg:
            raise NasError(f"{name} needs a folder or file: --dataset {kind.usage} ({kind.about})")
        if augment != "auto" and augment not in AUGMENTATIONS:
            raise NasError(f"unknown augmentation {augment!r}; known: auto, {', '.join(AUGMENTATIONS)}")
        if image is not None and image < 1:
            raise NasError(f"image size must be positive, got {image}")
        if train_size is not None and train_size < 1:
            raise NasError(f"train size must be positive, got {train_size}")
        if val_size is not None and val_size < 1:
            raise NasError(f"held-out size must be positive, got {val_size}")
        opts = {"image": image, "augment": augment, "val_size": val_size, "train_size": train_size,
                "split_seed": split_seed, "in_memory": in_memory}
        _CACHE[key] = kind.open(spec, Path(arg).expanduser() if kind.needs_path else None, **opts)
        if image is None:  # the same set as asked for at its own size (a run keeps that size: driver.with_own_image)
            _CACHE.setdefault((spec, _CACHE[key].image, *key[2:]), _CACHE[key])
    return _CACHE[key]


def dataset_path(spec: str) -> Path | None:
    """The file or folder a data set spec names (~ expanded); None for one without (digits)."""
    name, _, arg = spec.partition(":")
    kind = DATASETS.get(name)
    return Path(arg).expanduser() if kind is not None and kind.needs_path and arg else None


def absolute_spec(spec: str) -> str:
    """`spec` with its path absolute, so that a run resumed from another folder opens the same data."""
    path = dataset_path(spec)
    return spec if path is None else f"{spec.partition(':')[0]}:{os.path.abspath(path)}"


def refuse_inside(out: str | Path | None, spec: str, flag: str) -> None:
    """Refuse an output (`flag`: -o, --out) that is the file or folder data set `spec` reads, or is
    inside its folder: the run would write over a user's file, or into the set it reads."""
    data = dataset_path(spec)
    if data is None or not out:
        return
    if within(out, data) or same_file(out, data):
        raise NasError(Diagnostic(f"{flag} is the data set {str(data)!r} or inside it; choose another output",
                                  str(out)))


def _resolve_augment(augment: str, image: int, default: str | None = None) -> Augment:
    if augment == "auto":
        augment = default or ("imagenet" if image >= IMAGENET_FROM else "cifar")
    return make_augment(augment, image)


def _fail(file: object, message: str) -> DataError:
    return DataError(file, message)


# -- arrays: digits, npz, cifar ------------------------------------------------------------------
@dataclass
class _Arrays:
    """Pixels in 0..1 float32 [N, 3, H, W] and int64 labels, before splitting."""

    x: np.ndarray
    y: np.ndarray
    labels: list[str]
    default_val: int
    mean: tuple[float, float, float] | None = None  # None: the training split's statistics
    std: tuple[float, float, float] | None = None
    val: tuple[np.ndarray, np.ndarray] | None = None  # given held-out split
    test: tuple[np.ndarray, np.ndarray] | None = None
    augment_default: str | None = None


def _from_arrays(spec: str, a: _Arrays, image: int | None, augment: str, val_size: int | None,
                 train_size: int | None, split_seed: int, in_memory: bool | None) -> DataBundle:
    """Split (seeded), standardize, resize and wrap arrays. For digits this is bit for bit what
    the search has always trained on."""
    if a.val is None:
        val = a.default_val if val_size is None else val_size
        if not 0 < val < len(a.x):
            raise NasError(f"{spec}: held-out size {val} must be between 1 and {len(a.x) - 1} ({len(a.x)} images)")
        order = np.random.default_rng(split_seed).permutation(len(a.x))
        tr, va = order[val:], order[:val]
        x_tr, y_tr, x_va, y_va = a.x[tr], a.y[tr], a.x[va], a.y[va]
    else:
        x_tr, y_tr = a.x, a.y
        x_va, y_va = a.val
        if val_size is not None:
            if val_size > len(x_va):
                raise NasError(f"{spec}: held-out size {val_size} is more than the {len(x_va)} held-out images")
            keep = np.random.default_rng(split_seed).permutation(len(x_va))[:val_size]
            x_va, y_va = x_va[keep], y_va[keep]
        if train_size is not None:
            order = np.random.default_rng(split_seed).permutation(len(x_tr))
            x_tr, y_tr = x_tr[order], y_tr[order]
    if train_size is not None:
        x_tr, y_tr = x_tr[:train_size], y_tr[:train_size]
    if a.mean is None:
        with np.errstate(over="ignore", invalid="ignore"):
            mean = x_tr.mean(axis=(0, 2, 3), keepdims=True)
            std = x_tr.std(axis=(0, 2, 3), keepdims=True) + 1e-6
        if not (np.isfinite(mean).all() and np.isfinite(std).all()):  # values near float32's limit overflow its sums
            mean = x_tr.mean(axis=(0, 2, 3), keepdims=True, dtype=np.float64)
            std = x_tr.std(axis=(0, 2, 3), keepdims=True, dtype=np.float64) + 1e-6
    else:
        mean = np.asarray(a.mean, np.float32).reshape(1, 3, 1, 1)
        std = np.asarray(a.std, np.float32).reshape(1, 3, 1, 1)

    native = int(a.x.shape[-1])
    size = native if image is None else image
    aug = _resolve_augment(augment, size, a.augment_default)
    resident = in_memory if in_memory is not None else \
        size == native or (len(a.x) + (len(a.test[0]) if a.test else 0)) * 3 * size * size * 4 <= IN_MEMORY_BYTES

    def wrap(x: np.ndarray, y: np.ndarray, train: bool) -> torch.utils.data.Dataset:
        xt = torch.from_numpy(((x - mean) / std).astype(np.float32))
        yt = torch.from_numpy(np.ascontiguousarray(y, dtype=np.int64))
        augment_ = aug if train and aug.active else None
        if resident:
            return InMemoryDataset(_resize(xt, size), yt, augment_)
        return ResizedArrays(xt, yt, size, augment_)

    test = wrap(*a.test, False) if a.test is not None else None
    stats = (a.mean, a.std) if a.mean is not None else \
        (tuple(float(v) for v in mean.ravel()), tuple(float(v) for v in std.ravel()))
    return DataBundle(spec, len(a.labels), list(a.labels), size, *stats,
                      wrap(x_tr, y_tr, True), wrap(x_va, y_va, False), test, augment=aug.name,
                      resize=size, crop_pct=1.0, in_memory=resident)


def _resize(x: torch.Tensor, image: int) -> torch.Tensor:
    """Bilinear resize of [N, C, H, W] to image x image (antialiased when shrinking)."""
    if x.shape[-1] == image and x.shape[-2] == image:
        return x
    import torch.nn.functional as F

    return F.interpolate(x, size=(image, image), mode="bilinear", align_corners=False,
                         antialias=image < x.shape[-1])


@_kind("digits", "digits", "scikit-learn's 8x8 digits, embedded", needs_path=False)
def _open_digits(spec: str, _path: None, **opts) -> DataBundle:
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.images.astype(np.float32) / 16.0)[:, None].repeat(3, axis=1)  # gray -> 3 channels
    a = _Arrays(x, d.target.astype(np.int64), [str(i) for i in range(10)], 500, augment_default="none")
    return _from_arrays(spec, a, **opts)


@_kind("npz", "npz:PATH", "arrays x [N,H,W,C] or [N,C,H,W] and y")
def _open_npz(spec: str, path: Path, **opts) -> DataBundle:
    if not path.is_file():
        raise _fail(path, ("a folder" if path.is_dir() else "no such file") + " (expected an .npz with arrays x and y)")
    try:
        loaded = np.load(path, allow_pickle=False)
        arrays = None
        if isinstance(loaded, np.lib.npyio.NpzFile):
            with loaded as f:
                arrays = {k: f[k] for k in f.files}
            odd = [k for k, v in arrays.items() if not isinstance(v, np.ndarray)]
            if odd:  # numpy hands back the bytes of a member that is not an .npy file
                raise _fail(path, f"member {odd[0]!r} of the .npz is not an array (.npy)")
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        # numpy reads a file that is neither .npz nor .npy as a pickle, and refuses with advice to unpickle it
        why = "not a zip archive of arrays" if "allow_pickle" in str(e) and "Object arrays" not in str(e) else e
        raise _fail(path, f"not a readable .npz file ({why})") from None
    if arrays is None:
        raise _fail(path, "holds one array (np.save), not an archive of arrays x and y (np.savez)")
    missing = [k for k in ("x", "y") if k not in arrays]
    if missing:
        raise _fail(path, f"no array {' or '.join(map(repr, missing))} in the .npz "
                          f"(it holds: {', '.join(sorted(arrays)) or 'nothing'}); expected x [N,H,W,C] and y [N]")
    names = arrays.get("labels")
    x, y = _npz_images(path, "x", arrays["x"]), _npz_labels(path, "y", arrays["y"], len(arrays["x"]))
    if names is not None and (names.ndim != 1 or names.dtype.kind not in "UO"):
        raise _fail(path, f"array 'labels' must be a 1-d list of class names, got {names.dtype} {names.shape}")
    parts = {}
    for split in ("val", "test"):
        if f"x_{split}" in arrays or f"y_{split}" in arrays:
            if f"x_{split}" not in arrays or f"y_{split}" not in arrays:
                raise _fail(path, f"x_{split} and y_{split} come together; the .npz has only one of them")
            xs = _npz_images(path, f"x_{split}", arrays[f"x_{split}"])
            parts[split] = (xs, _npz_labels(path, f"y_{split}", arrays[f"y_{split}"], len(xs)))
            if xs.shape[1:] != x.shape[1:]:
                raise _fail(path, f"x_{split} images are {xs.shape[1:]}, x images are {x.shape[1:]}")
    seen = [y, *(v[1] for v in parts.values())]
    top = max(int(v.max()) + 1 if len(v) else 0 for v in seen)
    if names is None and top > MAX_CLASSES:
        raise _fail(path, f"labels go up to {top - 1}: over {MAX_CLASSES:,} classes (y holds class indices 0..K-1)")
    classes = len(names) if names is not None else top
    for split, (_, ys) in parts.items():
        if names is None and len(ys) and len(y) and int(ys.max()) > int(y.max()):
            raise _fail(path, f"y_{split} holds class {int(ys.max())}, which y (the training split) never has")
    labels = [str(s) for s in names] if names is not None else [str(i) for i in range(classes)]
    for split, (_, ys) in [("", (x, y)), *((f"_{k}", v) for k, v in parts.items())]:
        if len(ys) and (ys.min() < 0 or ys.max() >= classes):
            raise _fail(path, f"labels in y{split} out of range: {int(ys.min())}..{int(ys.max())}, "
                              f"expected 0..{classes - 1} ({classes} classes)")
    if classes < 2:
        raise _fail(path, f"y holds {classes} class(es); a classifier needs at least 2")
    a = _Arrays(x, y, labels, max(1, round(0.1 * len(x))), val=parts.get("val"), test=parts.get("test"))
    return _from_arrays(spec, a, **opts)


def _npz_images(path: Path, key: str, x: np.ndarray) -> np.ndarray:
    """[N,H,W,C] | [N,C,H,W] | [N,H,W] with C in (1, 3), uint8 or float -> float32 [N,3,H,W] in 0..1."""
    if x.dtype == np.uint8:
        x = x.astype(np.float32) / 255.0
    elif x.dtype.kind == "f":
        x = x.astype(np.float32)
    else:
        raise _fail(path, f"array {key!r} must be uint8 (0..255) or float (0..1), got {x.dtype}")
    if x.ndim == 3:
        x = x[:, None]
    elif x.ndim == 4 and x.shape[1] not in (1, 3) and x.shape[3] in (1, 3):
        x = x.transpose(0, 3, 1, 2)
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        raise _fail(path, f"array {key!r} has shape {tuple(x.shape)}; expected [N,H,W,C] or [N,C,H,W] "
                          "with 1 or 3 channels, or [N,H,W]")
    if x.shape[2] != x.shape[3] or len(x) == 0:
        raise _fail(path, f"array {key!r} has shape {tuple(x.shape)}; expected at least one square image")
    if not np.isfinite(x).all():
        raise _fail(path, f"array {key!r} holds NaN or infinite values")
    if x.shape[1] == 1:
        x = x.repeat(3, axis=1)
    return np.ascontiguousarray(x)


def _npz_labels(path: Path, key: str, y: np.ndarray, n: int) -> np.ndarray:
    if y.ndim != 1 or len(y) != n:
        raise _fail(path, f"array {key!r} has shape {tuple(y.shape)}; expected [{n}] (one label per image)")
    if y.dtype.kind not in "iu" and not (y.dtype.kind == "f" and np.all(np.mod(y, 1) == 0)):
        raise _fail(path, f"array {key!r} must hold integer class indices, got {y.dtype}")
    return y.astype(np.int64)


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles the CIFAR batches (dicts of numpy arrays and lists) and nothing else."""

    ALLOWED = frozenset({("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
                         ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
                         ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),  # protocol 5
                         ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")})

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return super().find_class(module, name)


def _unpickle(path: Path, title: str) -> dict:
    try:
        with open(path, "rb") as f:
            d = _ArrayUnpickler(f, encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, OSError, IndexError,
            MemoryError) as e:
        raise _fail(path, f"not a {title} python batch ({type(e).__name__ if isinstance(e, MemoryError) else e})") \
            from None
    if not isinstance(d, dict):
        raise _fail(path, f"not a {title} python batch (a {type(d).__name__}, not a dict)")
    return {k.decode() if isinstance(k, bytes) else k: v for k, v in d.items()}


def _read_batch(path: Path, title: str, label_key: str, classes: int) -> tuple[np.ndarray, np.ndarray]:
    d = _unpickle(path, title)
    missing = [k for k in ("data", label_key) if k not in d]
    if missing:
        raise _fail(path, f"not a {title} python batch: no {' and no '.join(map(repr, missing))} in it "
                          f"(it holds {', '.join(map(repr, sorted(map(str, d)))) or 'nothing'})")
    try:
        data = np.asarray(d.get("data"))
        labels = np.asarray(d.get(label_key), dtype=np.int64)
    except (ValueError, TypeError) as e:
        raise _fail(path, f"not a {title} python batch ({e})") from None
    if data.dtype.kind not in "uif":
        raise _fail(path, f"not a {title} python batch: 'data' holds {data.dtype}, not pixel values")
    if data.dtype.kind == "f" or (data.size and (data.min() < 0 or data.max() > 255)):
        raise _fail(path, f"'data' must hold integer pixels 0..255, as the {title} format does (got {data.dtype}"
                          f"{'' if data.dtype.kind == 'f' else f' {data.min()}..{data.max()}'}); float images "
                          "in 0..1 go in an npz")
    if data.ndim != 2 or data.shape[1] != 3072 or labels.ndim != 1 or len(labels) != len(data):
        raise _fail(path, f"not a {title} python batch: expected 'data' of shape [N, 3072] and N "
                          f"'{label_key}', got data {tuple(data.shape)} and {labels.size} labels")
    if len(labels) and (labels.min() < 0 or labels.max() >= classes):
        raise _fail(path, f"labels out of range: {int(labels.min())}..{int(labels.max())}, "
                          f"expected 0..{classes - 1}")
    return data.reshape(-1, 3, 32, 32).astype(np.float32) / 255.0, labels


def _names(path: Path, title: str, key: str, classes: int) -> list[str] | None:
    if not path.exists():
        return None
    names = _unpickle(path, title).get(key)
    if not isinstance(names, list) or len(names) != classes:
        raise _fail(path, f"expected {classes} class names under {key!r}")
    return [n.decode() if isinstance(n, bytes) else str(n) for n in names]


def _cifar_folder(folder: Path, name: str, files: str) -> None:
    if not folder.is_dir():
        raise _fail(folder, f"{name}: not a folder (expected the python batches folder: {files})")


@_kind("cifar10", "cifar10:PATH", "the python batches folder: data_batch_1..5, test_batch")
def _open_cifar10(spec: str, folder: Path, **opts) -> DataBundle:
    title = "CIFAR-10"
    _cifar_folder(folder, "cifar10", "data_batch_1 .. data_batch_5, test_batch")
    files = sorted(folder.glob("data_batch_*"))
    if not files:
        raise _fail(folder, "cifar10: no data_batch_* files in this folder")
    parts = [_read_batch(f, title, "labels", 10) for f in files]
    test = _read_batch(folder / "test_batch", title, "labels", 10) if (folder / "test_batch").exists() else None
    labels = _names(folder / "batches.meta", title, "label_names", 10) or list(CIFAR10_LABELS)
    a = _Arrays(np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]), labels, 5000,
                CIFAR10_MEAN, CIFAR10_STD, test=test)
    return _from_arrays(spec, a, **opts)


@_kind("cifar100", "cifar100:PATH", "the python files folder: train, test, meta")
def _open_cifar100(spec: str, folder: Path, **opts) -> DataBundle:
    title = "CIFAR-100"
    _cifar_folder(folder, "cifar100", "train, test, meta")
    if not (folder / "train").is_file():
        raise _fail(folder / "train", "cifar100: no such file (CIFAR-100's python folder holds train, test, meta)")
    x, y = _read_batch(folder / "train", title, "fine_labels", 100)
    test = _read_batch(folder / "test", title, "fine_labels", 100) if (folder / "test").exists() else None
    labels = _names(folder / "meta", title, "fine_label_names", 100) or [str(i) for i in range(100)]
    a = _Arrays(x, y, labels, 5000, CIFAR100_MEAN, CIFAR100_STD, test=test)
    return _from_arrays(spec, a, **opts)


# -- image folders -------------------------------------------------------------------------------
def _decode(path: Path):
    """An RGB Pillow image (as `nasdsl infer` loads it), or a DataError naming the file."""
    from PIL import Image

    from nasdsl.deploy.infer import load_image

    try:
        return load_image(path)
    except DataError:
        raise
    except NasError as e:
        raise DataError(path, e.diagnostics[0].message) from None
    except Image.DecompressionBombError as e:
        raise DataError(path, f"cannot read image ({e})") from None


def _to_tensor(img, pre: Preprocess) -> torch.Tensor:
    from nasdsl.deploy.infer import preprocess

    return torch.from_numpy(preprocess(img, pre))


def _class_tree(root: Path) -> dict[str, list[Path]]:
    """class name -> its image files (sorted), for a class-per-subfolder tree."""
    if not root.is_dir():
        raise _fail(root, "not a folder" if root.exists() else "no such folder")
    dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not dirs:
        raise _fail(root, "no class folders (expected ROOT/<class>/*.jpg|png|...)")
    tree = {}
    for d in dirs:
        files = sorted(p for p in d.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES
                       and not any(part.startswith(".") for part in p.relative_to(d).parts))
        broken = next((p for p in files if p.is_symlink() and not p.exists()), None)
        if broken is not None:  # it was skipped without a word
            raise _fail(broken, "a broken symbolic link (its target is missing, or links lead round in a loop)")
        files = [p for p in files if p.is_file()]
        if not files:
            raise _fail(d, f"empty class folder: no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
        tree[d.name] = files
    return tree


def _same_classes(a: Path, ta: dict, b: Path, tb: dict) -> None:
    if set(ta) != set(tb):
        only_a, only_b = sorted(set(ta) - set(tb)), sorted(set(tb) - set(ta))
        raise _fail(b, f"class folders differ from {a}: only in {a.name}/: {', '.join(only_a) or '-'}; "
                       f"only in {b.name}/: {', '.join(only_b) or '-'}")


SIZE_SAMPLE = 101  # training images whose median shorter side is a folder's own image size (odd: one median image)


def spread(items: list, n: int) -> list:
    """Up to `n` of `items`, evenly spread over them (over the classes, in `_flatten`'s order: one odd
    class of files would set a size taken from the first ones)."""
    return items if len(items) <= n else [items[i * len(items) // n] for i in range(n)]


def _flatten(tree: dict[str, list[Path]], index: dict[str, int]) -> tuple[list[Path], list[int]]:
    files, labels = [], []
    for name, fs in tree.items():
        files += fs
        labels += [index[name]] * len(fs)
    return files, labels


def _check_header(path: Path) -> tuple[int, int]:
    """The file's (width, height) from its header; a DataError if Pillow cannot identify it."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            return img.size
    except UnidentifiedImageError:
        raise _fail(path, "not an image Pillow can read") from None
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as e:
        raise _fail(path, f"cannot read image ({e})") from None


@_kind("imagefolder", "imagefolder:PATH",
       "PATH/train/<class>/*.jpg|png and PATH/val/<class>/..., or one PATH/<class>/... tree split by seed")
def _open_imagefolder(spec: str, root: Path, *, image: int | None, augment: str, val_size: int | None,
                      train_size: int | None, split_seed: int, in_memory: bool | None) -> DataBundle:
    if not root.is_dir():
        raise _fail(root, "imagefolder: " + ("not a folder (expected PATH/<class>/*.jpg or PATH/train/<class>/...)"
                                             if root.exists() else "no such folder"))
    test_tree = None
    if (root / "train").is_dir():
        for other in ("valid", "validation"):
            if (root / other).is_dir() and not (root / "val").is_dir():  # it was ignored: 10% of train held out
                raise _fail(root / other, "held-out images go in val/ beside train/ (this folder would be "
                                          "ignored); rename it val")
        beside = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")
                        and p.name not in ("train", "val", "test"))
        if beside:  # class folders left at the root would be ignored without a word
            raise _fail(root, f"folders beside train/ that are neither val/ nor test/: {', '.join(beside[:5])}"
                              f"{' ...' if len(beside) > 5 else ''} (they would be ignored)")
        train_tree = _class_tree(root / "train")
        val_tree = _class_tree(root / "val") if (root / "val").is_dir() else None
        if val_tree is not None:
            _same_classes(root / "train", train_tree, root / "val", val_tree)
        if (root / "test").is_dir():
            test_tree = _class_tree(root / "test")
            _same_classes(root / "train", train_tree, root / "test", test_tree)
    else:
        train_tree, val_tree = _class_tree(root), None
        splits = sorted(set(train_tree) & {"training", "val", "valid", "validation", "test"})
        if splits:  # `training/` + `val/` trained a 2-class model named after them
            raise _fail(root, f"class folders named like splits ({', '.join(splits)}): put the training "
                              "images in train/<class>/ and the held-out ones in val/<class>/")
    names = sorted(train_tree)
    if len(names) < 2:
        raise _fail(root, f"one class folder ({names[0]}); a classifier needs at least 2")
    index = {n: i for i, n in enumerate(names)}
    files, labels = _flatten(train_tree, index)
    if image is None:  # the data set's own size: the median shorter side of up to 101 training images
        image = int(np.median([min(_check_header(f)) for f in spread(files, SIZE_SAMPLE)]))
    rng = np.random.default_rng(split_seed)
    if val_tree is None:
        val = max(1, round(0.1 * len(files))) if val_size is None else val_size
        if not 0 < val < len(files):
            raise NasError(f"{spec}: held-out size {val} must be between 1 and {len(files) - 1} "
                           f"({len(files)} images)")
        order = rng.permutation(len(files))
        va, tr = order[:val], order[val:]
        val_files, val_labels = [files[i] for i in va], [labels[i] for i in va]
        files, labels = [files[i] for i in tr], [labels[i] for i in tr]
    else:
        val_files, val_labels = _flatten(val_tree, index)
        if val_size is not None:
            if val_size > len(val_files):
                raise NasError(f"{spec}: held-out size {val_size} is more than the {len(val_files)} images in val/")
            keep = rng.permutation(len(val_files))[:val_size]
            val_files, val_labels = [val_files[i] for i in keep], [val_labels[i] for i in keep]
        if train_size is not None:
            order = rng.permutation(len(files))
            files, labels = [files[i] for i in order], [labels[i] for i in order]
    if train_size is not None:
        files, labels = files[:train_size], labels[:train_size]
    test_files, test_labels = _flatten(test_tree, index) if test_tree else ([], [])

    everything = files + val_files + test_files
    family = "imagenet" if image >= IMAGENET_FROM else "cifar"
    crop_pct = IMAGENET_CROP_PCT if family == "imagenet" else 1.0
    pre = default_preprocess(family, image, crop_pct)
    aug = _resolve_augment(augment, image)
    train_aug = aug if aug.active else None
    resident = in_memory if in_memory is not None else len(everything) * 3 * image * image * 4 <= IN_MEMORY_BYTES
    if resident:
        def load(fs: list[Path], ls: list[int], augment_: Augment | None) -> InMemoryDataset:
            x = torch.stack([_to_tensor(_decode(f), pre) for f in fs])
            return InMemoryDataset(x, torch.tensor(ls, dtype=torch.int64), augment_)
        make: Callable[..., torch.utils.data.Dataset] = load
    else:
        for f in everything:
            _check_header(f)

        def make(fs: list[Path], ls: list[int], augment_: Augment | None) -> ImageFiles:
            return ImageFiles(fs, ls, pre, augment_)
    test = make(test_files, test_labels, None) if test_files else None
    return DataBundle(spec, len(names), names, image, pre.mean, pre.std, make(files, labels, train_aug),
                      make(val_files, val_labels, None), test, augment=aug.name, resize=pre.resize,
                      crop_pct=crop_pct, interpolation=pre.interpolation, in_memory=resident)


# -- the numpy interface the search used before DataBundle ---------------------------------------
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


def load_dataset(spec: str = "digits", val_size: int | None = None, train_size: int | None = None,
                 split_seed: int = 0) -> Dataset:
    """The data set as numpy arrays at its own size, without augmentation (kept for older callers;
    new code uses `open_dataset`)."""
    b = open_dataset(spec, augment="none", val_size=val_size, train_size=train_size, split_seed=split_seed,
                     in_memory=True)

    def arrays(d: torch.utils.data.Dataset | None) -> tuple[np.ndarray | None, np.ndarray | None]:
        if d is None:
            return None, None
        return d.x.numpy(), d.y.numpy()

    (xt, yt), (xv, yv), (xs, ys) = arrays(b.train), arrays(b.val), arrays(b.test)
    return Dataset(spec, xt, yt, xv, yv, b.classes, xs, ys)
