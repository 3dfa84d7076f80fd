"""Images from a data set, preprocessed as a model card says: calibration for `export --quantize
int8` and held-out images for its `--verify`. Lives in the CLI layer: it reads data sets through
`nasdsl_search.data.open_dataset` (any kind `train` and `search` accept), which the compiler never imports.

The data set is opened at its own size and its normalization undone, which gives back the pixels
(digits, npz and CIFAR exactly, up to 8-bit rounding; image folders centre-cropped to a square of
their native size); each image then goes through `nasdsl.deploy.infer.preprocess` with the card's
preprocessing, as a served or `infer`red image would.
"""
from __future__ import annotations

import numpy as np

from ...deploy.infer import preprocess
from ...deploy.modelcard import Preprocess
from ...errors import fail


def dataset_images(spec: str, pre: Preprocess, count: int, split: str = "train",
                   seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """`count` images (or all there are) of the `train` or `val` split of `spec`, drawn with `seed`:
    (float32 N x 3 x S x S preprocessed as `pre` says, int64 labels, the data set's class names)."""
    from PIL import Image

    from nasdsl_search.data import open_dataset

    if count < 1:
        raise fail("nasdsl", f"the number of images must be positive, got {count}")
    bundle = open_dataset(spec, image=None, augment="none")
    data = bundle.train if split == "train" else bundle.val
    n = len(data)
    if n == 0:
        raise fail(spec, f"the {split} split is empty")
    order = np.random.default_rng(seed).permutation(n)[:count]
    mean = np.asarray(bundle.mean, np.float32).reshape(3, 1, 1)
    std = np.asarray(bundle.std, np.float32).reshape(3, 1, 1)
    xs, ys = [], []
    for i in order:
        x, y = data[int(i)]
        pixels = np.asarray(x, np.float32) * std + mean  # back to 0..1
        rgb = np.clip(np.rint(pixels * 255.0), 0, 255).astype(np.uint8).transpose(1, 2, 0)
        xs.append(preprocess(Image.fromarray(rgb, "RGB"), pre))
        ys.append(int(y))
    return np.stack(xs), np.asarray(ys, np.int64), list(bundle.labels)
