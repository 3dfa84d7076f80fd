"""Classify images with an exported .onnx under onnxruntime alone: no torch, no onnx package.

Needs only onnxruntime (or onnxruntime-gpu), numpy and Pillow. The preprocessing and the class
names come from the model's own metadata (see `nasdsl.deploy.modelcard`).
"""
from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import NasError, fail
from .modelcard import ModelCard, Preprocess, read_quantization

PROVIDERS = ("auto", "cpu", "cuda")
_ORT_NAMES = {"cpu": "CPUExecutionProvider", "cuda": "CUDAExecutionProvider"}
_MISSING_ORT = ("onnxruntime is not installed; install it with `pip install 'nasdsl[cpu]'` "
                "(onnxruntime) or `pip install 'nasdsl[gpu]'` (onnxruntime-gpu, for CUDA)")


def import_onnxruntime():
    """The onnxruntime module, or a NasError naming the package extras that provide it."""
    try:
        import onnxruntime
    except ImportError:
        raise fail("nasdsl", _MISSING_ORT) from None
    return onnxruntime


def select_providers(choice: str, available: Sequence[str]) -> list[str]:
    """onnxruntime execution providers for `auto` | `cpu` | `cuda`, given those installed.
    auto = CUDA when onnxruntime-gpu offers it, else CPU."""
    if choice not in PROVIDERS:
        raise fail("nasdsl", f"unknown provider {choice!r} (known: {', '.join(PROVIDERS)})")
    cuda = _ORT_NAMES["cuda"]
    if choice == "cpu":
        return [_ORT_NAMES["cpu"]]
    if choice == "cuda" and cuda not in available:
        raise fail("nasdsl", "the CUDA provider is not available in this onnxruntime "
                       f"(providers: {', '.join(available)}); install `nasdsl[gpu]` (onnxruntime-gpu)")
    if cuda in available:
        return [cuda, _ORT_NAMES["cpu"]]
    return [_ORT_NAMES["cpu"]]


@dataclass(frozen=True)
class Prediction:
    """The top classes of one image: (class index, label, probability), best first."""

    image: str
    top: list[tuple[int, str, float]]


def quiet_image_warnings() -> None:
    """For the commands that read images: Pillow's warning that an ICO entry is not the size its
    directory says goes to stderr unasked (serve's log, infer's output). Pillow decodes the size the
    entry really has, and that is the size every limit is held to."""
    warnings.filterwarnings("ignore", message="Image was not the expected size", category=UserWarning)


def load_image(path: str | Path, formats: Sequence[str] | None = None):
    """An RGB Pillow image the way up its EXIF orientation says (as viewers show it: a phone photo
    is stored sideways), or a NasError saying why the file cannot be read. `formats`: the Pillow
    formats to try (default: all)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path, formats=formats) as img:
            img.load()
            return to_rgb(ImageOps.exif_transpose(img))
    except FileNotFoundError:
        raise fail(path, "no such image file") from None
    except UnidentifiedImageError:
        raise fail(path, "not an image Pillow can read") from None
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as e:  # truncated or damaged
        raise fail(path, f"cannot read image ({e})") from None  # files, directories, over Pillow's pixel limit


def to_rgb(img):
    """A Pillow image of any mode as 8-bit RGB. 16-bit and 32-bit integer images (mode I;16, I) are
    scaled from their bit depth to 0..255, and float images (F) from 0..1, never clipped: a 16-bit
    gradient stays a gradient (Pillow's own convert("RGB") would clip everything above 255)."""
    from PIL import Image

    mode = img.mode
    if mode == "RGB":
        return img
    if mode.startswith("I") or mode == "F":
        # the largest value, a block at a time (Pillow's getextrema refuses I;16B)
        high = max((block.max(initial=0) for block in _row_blocks(img)), default=0)
        if mode.startswith("I;16") or (mode == "I" and high > 255):
            top = 65535.0 if high <= 65535 else float(2**32 - 1)
        elif mode == "F":
            top = 1.0 if high <= 1.0 else 255.0
        else:
            top = 255.0
        return Image.fromarray(_scaled_to_8_bit(img, top), "L").convert("RGB")
    return img.convert("RGB")


_BLOCK_PIXELS = 1 << 18  # pixels converted at a time: float64 temporaries of 2 MB, whatever the image size


def _row_blocks(img) -> Iterator[np.ndarray]:
    """The pixels of `img`, a block of whole rows (about _BLOCK_PIXELS) at a time, top to bottom."""
    width, height = img.size
    rows = max(1, _BLOCK_PIXELS // max(1, width))
    for y in range(0, height, rows):
        yield np.asarray(img.crop((0, y, width, min(height, y + rows))))


def _scaled_to_8_bit(img, top: float) -> np.ndarray:
    """rint(pixel * 255 / top) clipped to 0..255, as a uint8 array, computed a block of rows at a time
    (the whole image in float64 would cost 8 bytes a pixel, 24 with the temporaries)."""
    out = np.empty((img.height, img.width), np.uint8)
    y = 0
    for block in _row_blocks(img):
        scaled = block.astype(np.float64)
        scaled *= 255.0 / top
        out[y:y + len(block)] = np.clip(np.rint(scaled, out=scaled), 0, 255, out=scaled)
        y += len(block)
    return out


MAX_RESIZED_PIXELS = 40_000_000  # what the resize step may make (RGB: 120 MB); more is refused


def resized_pixels(width: int, height: int, pre: Preprocess) -> int:
    """Pixels of the image once its shorter side is resized to `pre.resize` (before the crop): an
    image of extreme aspect ratio (1 x 6000) becomes huge (256 x 1.5M)."""
    short, long = min(width, height), max(width, height)
    return pre.resize * int(pre.resize * long / short)


def check_resize(img, pre: Preprocess, path: str | Path) -> None:
    """NasError when resizing `img` would make more than MAX_RESIZED_PIXELS."""
    n = resized_pixels(*img.size, pre)
    if n > MAX_RESIZED_PIXELS:
        raise fail(path, f"image is {img.size[0]}x{img.size[1]} pixels: resizing its shorter side to {pre.resize} "
                         f"would make {n / 1e6:.0f} MP (aspect ratio too extreme)")


def preprocess(img, pre: Preprocess) -> np.ndarray:
    """Pillow RGB image -> float32 CHW array, following torchvision's Resize(int) + CenterCrop
    (shorter side to `pre.resize`, the longer one scaled and truncated; crop offsets rounded)."""
    from PIL import Image

    img = to_rgb(img)
    resample = {"nearest": Image.NEAREST, "bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC}
    w, h = img.size
    short, long = (w, h) if w <= h else (h, w)
    if short != pre.resize:
        new_long = int(pre.resize * long / short)
        size = (pre.resize, new_long) if w <= h else (new_long, pre.resize)
        img = img.resize(size, resample[pre.interpolation])
        w, h = img.size
    top = round((h - pre.image) / 2.0)
    left = round((w - pre.image) / 2.0)
    img = img.crop((left, top, left + pre.image, top + pre.image))
    x = np.asarray(img, dtype=np.float32) / 255.0  # HWC
    x = (x - np.asarray(pre.mean, np.float32)) / np.asarray(pre.std, np.float32)
    return np.ascontiguousarray(x.transpose(2, 0, 1))


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax in float64 (stable)."""
    z = logits.astype(np.float64)
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class Classifier:
    """An exported nasdsl model under onnxruntime, with the preprocessing and labels it carries."""

    def __init__(self, model: str | Path, provider: str = "auto", optimization: str = "all",
                 threads: int = 0):
        ort = import_onnxruntime()
        path = Path(model)
        self.path = str(model)
        if path.is_dir():
            raise fail(model, "a folder, not a model file (.onnx)")
        if not path.is_file():
            raise fail(model, "no such model file")
        providers = select_providers(provider, ort.get_available_providers())
        options = ort.SessionOptions()
        options.graph_optimization_level = _optimization_level(ort, optimization)
        options.intra_op_num_threads = threads
        options.log_severity_level = 3  # errors only: provider fallback is reported below
        try:
            self.session = ort.InferenceSession(str(path), options, providers=providers)
        except Exception as e:  # noqa: BLE001 (onnxruntime raises its own Fail, InvalidProtobuf, ...)
            reason = str(e).strip().splitlines()[0] if str(e).strip() else e.__class__.__name__
            raise fail(model, f"not a loadable ONNX model ({reason})") from None
        self.providers: list[str] = list(self.session.get_providers())
        if provider == "cuda" and _ORT_NAMES["cuda"] not in self.providers:
            raise fail("nasdsl", "onnxruntime could not start the CUDA provider (no GPU, or CUDA libraries "
                           "missing); use --provider cpu")
        props = dict(self.session.get_modelmeta().custom_metadata_map)
        self.card = ModelCard.from_props(props, str(model))
        self.quantization = read_quantization(props, str(model))  # None for a float model
        inputs = self.session.get_inputs()
        if len(inputs) != 1:
            raise fail(model, f"expected one input, the graph has {len(inputs)}")
        self.input_name = inputs[0].name
        self.input_shape = list(inputs[0].shape)  # [batch (symbolic), 3, S, S]
        s = self.card.preprocess.image
        if len(self.input_shape) != 4 or self.input_shape[1:] != [3, s, s]:
            raise fail(model, f"the graph takes input {self.input_shape}, the metadata says 3x{s}x{s}")
        output = list(self.session.get_outputs()[0].shape)  # [batch, classes]
        if len(output) != 2 or (isinstance(output[1], int) and output[1] != self.card.classes):
            raise fail(model, f"the graph outputs {output}, the metadata says {self.card.classes} classes")

    def logits(self, batch: np.ndarray) -> np.ndarray:
        """Run the graph on an N x 3 x S x S float32 batch; any other shape is a NasError."""
        s = self.card.preprocess.image
        if batch.ndim != 4 or tuple(batch.shape[1:]) != (3, s, s) or batch.shape[0] < 1:
            raise fail("nasdsl", f"wrong input size {tuple(batch.shape)}: this model takes N x 3 x {s} x {s}")
        return self.session.run(None, {self.input_name: batch.astype(np.float32, copy=False)})[0]

    def predict(self, batch: np.ndarray, top: int = 5) -> list[list[tuple[int, str, float]]]:
        """Top-k (index, label, probability) per row of a preprocessed batch; NasError when the model
        gives NaN or inf (broken weights: a ranking of NaNs means nothing)."""
        logits = self.logits(batch)
        if not np.isfinite(logits).all():
            raise fail(self.path, "the model's outputs are not finite (NaN or inf): its weights are broken "
                                  "(a diverged training?)")
        probs = softmax(logits)
        k = max(1, min(top, probs.shape[1]))
        order = np.argsort(-probs, axis=1, kind="stable")[:, :k]
        return [[(int(i), self.card.labels[i], float(row[i])) for i in idx] for row, idx in zip(probs, order)]

    def classify(self, images: Iterable[str | Path], top: int = 5, batch: int = 8,
                 on_error: Callable[[str, NasError], None] | None = None) -> Iterator[Prediction]:
        """Load, preprocess and classify image files `batch` at a time; yields one Prediction each.
        A file that cannot be read raises NasError, or, with `on_error`, is handed to it and skipped
        (the other images are still classified)."""
        if batch < 1:
            raise fail("nasdsl", f"batch size must be at least 1, got {batch}")
        if top < 1:
            raise fail("nasdsl", f"--top must be at least 1, got {top}")
        for chunk in _chunks(list(images), batch):
            good, arrays = [], []
            for p in chunk:
                try:
                    img = load_image(p)
                    check_resize(img, self.card.preprocess, p)
                    arrays.append(preprocess(img, self.card.preprocess))
                    good.append(p)
                except NasError as e:
                    if on_error is None:
                        raise
                    on_error(str(p), e)
            if arrays:
                for p, best in zip(good, self.predict(np.stack(arrays), top)):
                    yield Prediction(str(p), best)


def _optimization_level(ort, name: str):
    levels = {"none": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
              "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
              "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
              "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL}
    if name not in levels:
        raise fail("nasdsl", f"unknown optimization level {name!r} (known: {', '.join(levels)})")
    return levels[name]


def _chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]
