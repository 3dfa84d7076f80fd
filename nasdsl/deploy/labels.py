"""Class names for exported models: ImageNet-1k (shipped with the package), CIFAR-10, or indices.

Imports neither torch nor onnx: the inference path uses it.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from ..errors import fail

_DATA = Path(__file__).resolve().parent / "data"
IMAGENET_FILE = _DATA / "imagenet1k_labels.txt"

CIFAR10 = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
BACKGROUND = "background"  # index 0 of the 1001-class TF-slim checkpoints


@lru_cache(maxsize=1)
def imagenet_synsets() -> tuple[tuple[str, str], ...]:
    """(synset id, WordNet lemmas) for the 1000 ImageNet-1k classes in index order."""
    rows = []
    for line in IMAGENET_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            synset, lemmas = line.split("\t", 1)
            rows.append((synset, lemmas))
    if len(rows) != 1000:  # a damaged install, not a user error we can explain better
        raise fail(IMAGENET_FILE, f"expected 1000 ImageNet classes, found {len(rows)}")
    return tuple(rows)


def imagenet_labels() -> list[str]:
    """The 1000 ImageNet-1k class names (each class's first lemma), in index order."""
    return [lemmas.split(",")[0].strip() for _, lemmas in imagenet_synsets()]


def default_labels(classes: int) -> list[str]:
    """The usual names for a classifier with `classes` outputs: ImageNet-1k for 1000, ImageNet-1k
    behind a background class for 1001 (TF-slim checkpoints), CIFAR-10 for 10, else `class_<i>`."""
    if classes == 1000:
        return imagenet_labels()
    if classes == 1001:
        return [BACKGROUND] + imagenet_labels()
    if classes == len(CIFAR10):
        return list(CIFAR10)
    return [f"class_{i}" for i in range(classes)]


def read_labels(path: str | Path, classes: int) -> list[str]:
    """Class names from a text file, one per line (blank lines and `#` comments skipped; UTF-8, a
    BOM dropped); the count must equal `classes`. A 1000-name file for a 1001-class model gets the
    background class first."""
    from ..lang.source import decode

    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise fail(path, f"cannot read labels file ({e.__class__.__name__}: {e.strerror or e})") from None
    lines = [line.strip() for line in decode(data, str(path)).splitlines()]
    names = [line for line in lines if line and not line.startswith("#")]
    if len(names) == classes - 1 and classes == 1001:
        names = [BACKGROUND] + names
    if len(names) != classes:
        raise fail(path, f"{len(names)} labels for a model with {classes} classes")
    return names


def repeated(names: list[str]) -> dict[str, int]:
    """Names given to more than one class, with how many classes each names (ImageNet-1k's own
    list has two: crane, maillot)."""
    counts: dict[str, int] = {}
    for n in names:
        counts[n] = counts.get(n, 0) + 1
    return {n: c for n, c in counts.items() if c > 1}
