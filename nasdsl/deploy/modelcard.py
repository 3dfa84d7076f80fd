"""What an exported .onnx says about itself: network, .nas source, preprocessing, class labels.

The card is stored as ONNX `metadata_props` (string keys and values, prefixed `nasdsl.`), written by
`nasdsl.deploy.export` and read back by `nasdsl.deploy.infer`. Imports neither torch nor onnx.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from ..errors import fail

PREFIX = "nasdsl."
FORMAT_VERSION = "1"
INTERPOLATIONS = ("nearest", "bilinear", "bicubic")

# Preprocessing conventions of the reference models. NASNet/PNASNet ImageNet checkpoints use
# Inception preprocessing: pixels in [0, 1], mean = std = 0.5 (Cadene's `pretrained_settings`);
# evaluation resizes the shorter side to floor(S / 0.875) and center-crops S (Cadene's
# `TransformImage`, timm's `crop_pct`). CIFAR networks take the 32x32 image as is, normalized by
# the CIFAR-10 training-set channel statistics.
INCEPTION_MEAN = (0.5, 0.5, 0.5)
INCEPTION_STD = (0.5, 0.5, 0.5)
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
IMAGENET_CROP_PCT = 0.875
MAX_SIDE = 4096  # largest crop or resize a card may ask for (a 4096-pixel shorter side is 17 MP and more)
QUANTIZATION_KEY = PREFIX + "quantization"  # the record `quantize_int8` adds to a card


def save_model(proto, props: dict[str, str], doc: str, out, check: bool = False) -> Path:
    """Write the ONNX model `proto` to `out` with `props` as its only metadata and `doc` as its doc
    string, after onnx.checker's full check if `check`; a path that cannot be written is a user
    error. Returns the path."""
    import onnx

    del proto.metadata_props[:]
    for key, value in props.items():
        proto.metadata_props.add(key=key, value=value)
    proto.doc_string = doc
    if check:
        onnx.checker.check_model(proto, full_check=True)
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        onnx.save(proto, str(path))
    except OSError as e:
        raise fail(out, f"cannot write ({e.strerror or e})") from None
    return path


@dataclass(frozen=True)
class Preprocess:
    """Image -> input tensor: RGB, shorter side resized to `resize`, center crop `image` x `image`,
    pixels / 255, then (x - mean) / std per channel, NCHW float32."""

    image: int
    resize: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    interpolation: str = "bilinear"

    def problem(self) -> str | None:
        """What `nasdsl infer` refuses in this preprocessing (every card, exported or trained, is held
        to it); None if nothing."""
        if not 0 < self.image <= MAX_SIDE:
            return f"image size {self.image} is not 1 to {MAX_SIDE} pixels"
        if not self.image <= self.resize <= MAX_SIDE:
            return f"resize {self.resize} is not a size from the crop's {self.image} to {MAX_SIDE} pixels"
        for name, values in (("mean", self.mean), ("std", self.std)):
            if len(values) != 3 or not all(map(_is_finite, values)) or (name == "std" and min(values) <= 0):
                return f"{name} must hold 3 numbers, all finite (std > 0)"
        if self.interpolation not in INTERPOLATIONS:
            return f"unknown interpolation {self.interpolation!r} (known: {', '.join(INTERPOLATIONS)})"
        return None


def _is_finite(value: float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


TRAINING_CARD_KEYS = ("image", "mean", "std", "labels")  # and optionally resize and interpolation


def training_card_problem(card: object) -> str | None:
    """What is wrong with the card `nasdsl train` saves with its weights (image, labels, mean, std,
    and optionally resize and interpolation): keys and types here, bounds those of every card
    (`Preprocess.problem`); None if nothing."""
    if not isinstance(card, dict):
        return f"it is a {type(card).__name__}, not a mapping of {', '.join(TRAINING_CARD_KEYS)}"
    if missing := [k for k in TRAINING_CARD_KEYS if k not in card]:
        return f"it lacks {', '.join(missing)}"

    def size(v) -> bool:
        return isinstance(v, int) and not isinstance(v, bool)

    def numbers(v) -> bool:
        return isinstance(v, (list, tuple)) and all(map(_is_number, v))

    labels, resize, interpolation = card["labels"], card.get("resize"), card.get("interpolation")
    resize = card["image"] if resize is None else resize  # optional: a card from before they were kept
    if not (isinstance(labels, (list, tuple)) and labels and all(isinstance(x, str) for x in labels)):
        return f"labels {labels!r} is not a list of names"
    if not (size(card["image"]) and size(resize)):
        return f"image {card['image']!r} and resize {resize!r} must be whole numbers of pixels"
    if not (numbers(card["mean"]) and numbers(card["std"])):
        return f"mean {card['mean']!r} and std {card['std']!r} must be lists of numbers"
    return Preprocess(image=card["image"], resize=resize, mean=tuple(card["mean"]), std=tuple(card["std"]),
                      interpolation="bilinear" if interpolation is None else interpolation).problem()


def default_preprocess(stem: str, image: int, crop_pct: float | None = None) -> Preprocess:
    """The reference preprocessing for a network with this stem (`imagenet` or `cifar`)."""
    if stem == "imagenet":
        pct = IMAGENET_CROP_PCT if crop_pct is None else crop_pct
        mean, std = INCEPTION_MEAN, INCEPTION_STD
    else:
        pct = 1.0 if crop_pct is None else crop_pct
        mean, std = CIFAR10_MEAN, CIFAR10_STD
    if not 0.0 < pct <= 1.0:
        raise fail("nasdsl", f"crop fraction must be in (0, 1], got {pct}")
    resize = math.floor(image / pct)
    if resize > MAX_SIDE:
        raise fail("nasdsl", f"--crop-pct {pct:g} of {image}x{image} makes the resize {resize:,} pixels; at most "
                             f"{MAX_SIDE:,} (nasdsl infer would refuse the model)")
    return Preprocess(image=image, resize=resize, mean=mean, std=std)


@dataclass(frozen=True)
class ModelCard:
    """Everything `nasdsl infer` needs besides the graph itself."""

    network: str
    source: str  # the .nas text the network was compiled from
    classes: int
    labels: tuple[str, ...]
    preprocess: Preprocess
    exporter: str = ""  # e.g. "torch 2.14.1 dynamo, opset 18"
    weights: str = ""  # where the weights came from, e.g. "random (no --weights)", "trained on digits ..."

    def __post_init__(self) -> None:
        if len(self.labels) != self.classes:
            raise fail("nasdsl", f"{len(self.labels)} labels for {self.classes} classes")

    @property
    def background_class(self) -> bool:
        """True for the 1001-class TF-slim layout (index 0 = background)."""
        return self.classes == 1001 and self.labels[0] == "background"

    def to_props(self) -> dict[str, str]:
        """The card as ONNX metadata_props (all values are strings)."""
        p = self.preprocess
        props = {
            "format": FORMAT_VERSION,
            "network": self.network,
            "source": self.source,
            "classes": str(self.classes),
            "labels": json.dumps(list(self.labels)),
            "background_class": "true" if self.background_class else "false",
            "image_size": str(p.image),
            "resize": str(p.resize),
            "interpolation": p.interpolation,
            "mean": json.dumps(list(p.mean)),
            "std": json.dumps(list(p.std)),
            "pixel_scale": "1/255",
            "color": "RGB",
            "layout": "NCHW",
            "exporter": self.exporter,
            "weights": self.weights,
        }
        return {PREFIX + k: v for k, v in props.items()}

    @classmethod
    def from_props(cls, props: dict[str, str], file: str = "<model>") -> ModelCard:
        """Read a card back from metadata_props; a missing or malformed key is a NasError."""
        own = {k[len(PREFIX):]: v for k, v in props.items() if k.startswith(PREFIX)}
        if not own:
            raise fail(file, "no nasdsl metadata in this model (export it with `nasdsl export`)")

        def get(key: str) -> str:
            if key not in own:
                raise fail(file, f"metadata key {PREFIX}{key} is missing")
            return own[key]

        def numbers(key: str) -> tuple[float, ...]:
            try:
                values = json.loads(get(key))
            except ValueError as e:
                raise fail(file, f"metadata {PREFIX}{key} is not JSON ({e})") from None
            if not (isinstance(values, list) and all(map(_is_number, values))):
                raise fail(file, f"metadata {PREFIX}{key} is not a list of numbers")
            return tuple(values)

        def integer(key: str) -> int:
            try:
                return int(get(key))
            except ValueError:
                raise fail(file, f"metadata {PREFIX}{key} is not an integer") from None

        if get("format") != FORMAT_VERSION:
            raise fail(file, f"model card format {own['format']!r}; this nasdsl reads {FORMAT_VERSION}")
        try:
            labels = json.loads(get("labels"))
        except ValueError:
            raise fail(file, f"metadata {PREFIX}labels is not a JSON list") from None
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            raise fail(file, f"metadata {PREFIX}labels is not a list of strings")
        pre = Preprocess(image=integer("image_size"), resize=integer("resize"), mean=numbers("mean"),  # type: ignore[arg-type]
                         std=numbers("std"), interpolation=get("interpolation"))
        if problem := pre.problem():
            raise fail(file, f"metadata: {problem}")
        classes = integer("classes")
        if classes <= 0:
            raise fail(file, f"metadata {PREFIX}classes must be positive")
        if len(labels) != classes:
            raise fail(file, f"{len(labels)} labels for {classes} classes")
        return cls(network=get("network"), source=own.get("source", ""), classes=classes,
                   labels=tuple(labels), preprocess=pre, exporter=own.get("exporter", ""),
                   weights=own.get("weights", ""))


def read_quantization(props: dict[str, str], file: str = "<model>") -> dict | None:
    """The quantization record of a model's metadata_props, or None for a float model; a record that
    is not a JSON object of finite numbers is a NasError (`GET /v1/model` could not answer it)."""
    raw = props.get(QUANTIZATION_KEY)
    if raw is None:
        return None
    try:
        record = json.loads(raw, parse_float=_finite, parse_constant=_finite)
    except ValueError as e:
        raise fail(file, f"metadata {QUANTIZATION_KEY} is not JSON of finite numbers ({e})") from None
    if not isinstance(record, dict):
        raise fail(file, f"metadata {QUANTIZATION_KEY} is not a JSON object")
    return record


def _finite(text: str) -> float:
    """A JSON number (or NaN, Infinity) that must be finite."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is not a finite number")
    return value
