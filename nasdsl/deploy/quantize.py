"""int8 models: onnxruntime's static QDQ quantization of an exported float model, and the comparison
of the two on held-out images.

Weights are quantized per output channel (symmetric int8 in a 7-bit range), activations per tensor
(int8, ranges from calibration images run through the float model; MinMax by default).

Why 7 bits (`reduce_range`): on x86 CPUs without VNNI, onnxruntime's int8 kernels add pairs of
8-bit products in 16-bit registers, which saturate when both operands use the full range. Per-channel
weights use the full range in every channel, so they saturate most. Measured on this project's
machine (a small network trained on digits, 256 held-out images): per-channel full range agreed with
the float model on 73% of top-1 classes (accuracy 78% -> 57%), per-channel 7-bit on 97% (78% -> 78%),
per-tensor full range on 98%. A reduced range costs a little resolution everywhere and saturates
nowhere, so a quantized file behaves the same on every CPU it is deployed to. The result keeps the float
model's card and adds `nasdsl.quantization`, a JSON record of how it was made. This module takes
preprocessed arrays; reading a data set for calibration is the CLI's job (`nasdsl.cli.commands.export`),
so the compiler never imports `nasdsl_search`. Reading the record back (`modelcard.read_quantization`)
needs neither torch nor onnx.
"""
from __future__ import annotations

import contextlib
import io
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import fail
from .modelcard import QUANTIZATION_KEY, save_model

MODES = ("int8",)
METHODS = ("minmax", "entropy", "percentile")
AGREEMENT_TARGET = 0.9  # --verify fails below this top-1 agreement with the float model


def quantize_int8(float_model: str | Path, out: str | Path, calibration: np.ndarray, *,
                  dataset: str = "", method: str = "minmax", per_channel: bool = True,
                  reduce_range: bool = True) -> dict:
    """Write a static int8 (QDQ) version of `float_model` to `out`, calibrated on `calibration`
    (N x 3 x S x S float32, preprocessed as the card says). Returns the quantization record, which
    is also stored in the new model's metadata next to the float model's card."""
    import onnx
    import onnxruntime
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    if method not in METHODS:
        raise fail("nasdsl", f"unknown calibration method {method!r} (known: {', '.join(METHODS)})")
    if calibration.ndim != 4 or len(calibration) < 1:
        raise fail("nasdsl", f"calibration images must be N x 3 x S x S, got {calibration.shape}")
    source = onnx.load(str(float_model))
    input_name = source.graph.input[0].name
    props = {p.key: p.value for p in source.metadata_props}

    batch = min(16, len(calibration))
    if method != "minmax":  # the histogram calibrators cannot stack uneven batches: whole ones only
        calibration = calibration[:len(calibration) - len(calibration) % batch]

    class Reader(CalibrationDataReader):
        def __init__(self, images: np.ndarray):
            self.batches = iter([images[i:i + batch] for i in range(0, len(images), batch)])

        def get_next(self):
            x = next(self.batches, None)
            return None if x is None else {input_name: np.ascontiguousarray(x, dtype=np.float32)}

    methods = {"minmax": CalibrationMethod.MinMax, "entropy": CalibrationMethod.Entropy,
               "percentile": CalibrationMethod.Percentile}
    with tempfile.TemporaryDirectory(prefix="nasdsl-quant-") as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        quant_pre_process(str(float_model), str(prepared), skip_symbolic_shape=False)
        with contextlib.redirect_stdout(io.StringIO()):  # its histogram calibrators print their bin counts
            quantize_static(str(prepared), str(Path(tmp) / "int8.onnx"), Reader(calibration),
                            quant_format=QuantFormat.QDQ, per_channel=per_channel, reduce_range=reduce_range,
                            activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                            calibrate_method=methods[method])
        quantized = onnx.load(str(Path(tmp) / "int8.onnx"))
    record = {
        "mode": "int8",
        "format": "QDQ (onnxruntime static quantization)",
        "weights": ("int8 (7-bit range)" if reduce_range else "int8") + ", symmetric, "
                   + ("per channel" if per_channel else "per tensor"),
        "activations": "int8, per tensor",
        "calibration": {"dataset": dataset, "images": int(len(calibration)), "method": method},
        "onnxruntime": onnxruntime.__version__,
    }
    save_model(quantized, {**props, QUANTIZATION_KEY: json.dumps(record)}, source.doc_string, out)
    return record


@dataclass(frozen=True)
class Agreement:
    """The quantized model against the float one on the same held-out images."""

    images: int
    top1_agreement: float  # fraction of images with the same top-1 class
    max_prob_diff: float  # largest absolute difference of any class probability
    float_accuracy: float | None = None  # against the data set's labels, when known
    int8_accuracy: float | None = None
    target: float = AGREEMENT_TARGET

    @property
    def ok(self) -> bool:
        return self.top1_agreement >= self.target

    def summary(self) -> str:
        verdict = "ok" if self.ok else f"FAILED (target {self.target:.0%})"
        acc = ""
        if self.float_accuracy is not None and self.int8_accuracy is not None:
            acc = f", accuracy float {self.float_accuracy:.1%} vs int8 {self.int8_accuracy:.1%}"
        return (f"verify int8: {self.images} held-out images, top-1 agreement with the float model "
                f"{self.top1_agreement:.1%}, largest probability difference {self.max_prob_diff:.3g}{acc} -> {verdict}")


def compare(float_model: str | Path, int8_model: str | Path, images: np.ndarray,
            labels: np.ndarray | None = None, provider: str = "cpu", batch: int = 32) -> Agreement:
    """Run both models under onnxruntime on `images` (preprocessed) and compare their outputs."""
    from .infer import Classifier, softmax

    def probs(path) -> np.ndarray:
        clf = Classifier(path, provider=provider)
        return np.concatenate([softmax(clf.logits(images[i:i + batch])) for i in range(0, len(images), batch)])

    if len(images) < 1:
        raise fail("nasdsl", "no held-out images to compare on")
    p_float, p_int8 = probs(float_model), probs(int8_model)
    agree = float(np.mean(p_float.argmax(1) == p_int8.argmax(1)))
    diff = float(np.abs(p_float - p_int8).max())
    acc_f = acc_q = None
    if labels is not None:
        acc_f = float(np.mean(p_float.argmax(1) == labels))
        acc_q = float(np.mean(p_int8.argmax(1) == labels))
    return Agreement(len(images), agree, diff, acc_f, acc_q)
