"""Request bodies -> model input for `nasdsl serve`: size checks before decoding, then exactly the
file path's decoding and preprocessing (`nasdsl.deploy.infer.load_image` and `preprocess`), so that the
service and `nasdsl infer` cannot drift apart. Imports no torch.

Decompression-bomb safety: Pillow reads only the header on `Image.open`, so the pixel count is
checked before a single row is decoded; the intermediate image that the resize step would make
(shorter side to `resize`, the longer side scaled with it) is bounded too, which catches extreme
aspect ratios (a 1 x 20000 strip would become a 256 x 5,120,000 image).

Only common raster formats are opened (`FORMATS`): some of Pillow's plugins hand the upload to other
programs (EPS runs Ghostscript where it is installed). `nasdsl infer` reads the user's own files in
any format Pillow knows.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

from ..errors import NasError
from .infer import load_image, preprocess, resized_pixels
from .modelcard import Preprocess

DEFAULT_MAX_PIXELS = 40_000_000  # decoded RGB: 120 MB
DEFAULT_MIN_SIDE = 8
# Pillow format names: PPM covers PGM and PBM, JPEG covers MPO (camera JPEGs)
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP", "PPM", "ICO")


class RequestError(Exception):
    """A request the service refuses: an HTTP status and a one-line reason."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class ImageLimits:
    """What an uploaded image may be: at most `max_pixels` (also after the resize step), and a
    shorter side of at least `min_side` pixels."""

    max_pixels: int = DEFAULT_MAX_PIXELS
    min_side: int = DEFAULT_MIN_SIDE


def one_line(text: str) -> str:
    """The first non-empty line of `text`, stripped."""
    return next((s.strip() for s in str(text).splitlines() if s.strip()), "")


def check_size(width: int, height: int, pre: Preprocess, limits: ImageLimits) -> None:
    """Refuse images too small to classify (422) or too large to decode safely (413: over the
    --max-pixels limit as sent, or once resized), with exact pixel counts (RequestError)."""
    if min(width, height) < limits.min_side:
        raise RequestError(422, f"image is {width}x{height} pixels; the shorter side must be at least "
                                f"{limits.min_side}")
    if width * height > limits.max_pixels:
        raise RequestError(413, f"image is {width}x{height} = {width * height:,} pixels; the limit is "
                                f"{limits.max_pixels:,}")
    resized = resized_pixels(width, height, pre)
    if resized > limits.max_pixels:
        raise RequestError(413, f"image is {width}x{height} pixels: resizing its shorter side to {pre.resize} "
                                f"would make {resized:,} pixels, over the limit of {limits.max_pixels:,} "
                                "(aspect ratio too extreme)")


def decode(body: bytes, pre: Preprocess, limits: ImageLimits) -> np.ndarray:
    """An image file's bytes -> float32 CHW array as the model card says, or RequestError.
    Runs in a worker thread (Pillow releases the GIL while decoding)."""
    from PIL import Image

    if not body:
        raise RequestError(400, "empty body: send an image file (raw body or multipart)")
    try:
        with Image.open(io.BytesIO(body), formats=FORMATS) as probe:  # header only
            width, height = probe.size
    except Exception as e:  # noqa: BLE001 (Pillow raises many types for bad headers)
        reason = one_line(e) or e.__class__.__name__
        if isinstance(e, Image.DecompressionBombError):
            raise RequestError(413, f"image too large ({reason})") from None
        raise RequestError(415, f"not an image of a format this service reads ({', '.join(FORMATS)})") from None
    check_size(width, height, pre, limits)
    try:
        img = load_image(io.BytesIO(body), FORMATS)
        return preprocess(img, pre)
    except NasError as e:  # load_image's own reasons: truncated, damaged, unsupported
        raise RequestError(400, one_line(e.diagnostics[0].message)) from None
    except Exception as e:  # noqa: BLE001 (a damaged file must never take the service down)
        raise RequestError(400, f"cannot decode image ({e.__class__.__name__}: {one_line(e)})") from None
