"""`nasdsl infer` through the real CLI: 16-bit images are scaled (not clipped), a bad file among good
ones is reported and skipped while the good ones are answered (exit 2 at the end), --format json,
and a folder as input."""
from __future__ import annotations

import json

import numpy as np
import pytest
from onnx_helpers import tiny_classifier
from PIL import Image
from proc_helpers import run_cli

from nasdsl.deploy.export import export_onnx
from nasdsl.deploy.infer import load_image
from nasdsl.deploy.labels import default_labels
from nasdsl.deploy.modelcard import ModelCard, default_preprocess


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    d = tmp_path_factory.mktemp("model")
    card = ModelCard("tiny10", "network tiny { }", 10, tuple(default_labels(10)), default_preprocess("cifar", 32))
    return export_onnx(tiny_classifier(10), card, d / "m.onnx", exporter="torchscript", opset=17)


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    d = tmp_path_factory.mktemp("images")
    ramp8 = np.tile(np.linspace(0, 255, 64).round().astype(np.uint8), (64, 1))
    Image.fromarray(ramp8, "L").save(d / "ramp8.png")
    Image.fromarray(ramp8.astype(np.uint16) * 257).save(d / "ramp16.png")  # the same ramp at 16 bits
    rgb = np.random.default_rng(0).integers(0, 256, (40, 48, 3), dtype=np.uint8)
    Image.fromarray(rgb, "RGB").save(d / "rgb.jpg")
    (d / "notimage.jpg").write_text("this is not an image")
    return d


def test_16_bit_image_is_scaled_not_clipped(images):
    img16 = Image.open(images / "ramp16.png")
    assert img16.mode.startswith("I")  # Pillow reads it as a 16-bit integer image
    a16 = np.asarray(load_image(images / "ramp16.png"))
    a8 = np.asarray(load_image(images / "ramp8.png"))
    assert (a16 == 255).mean() < 0.05  # Pillow's own convert("RGB") clips ~all of it to 255
    assert np.abs(a16.astype(int) - a8.astype(int)).max() <= 1


def test_16_bit_image_classified_like_its_8_bit_twin(model, images):
    r = run_cli("infer", str(model), str(images / "ramp8.png"), str(images / "ramp16.png"), "--format", "json")
    assert r.returncode == 0, r.stderr
    p = json.loads(r.stdout)["predictions"]
    assert [x["top"][0]["index"] for x in p][0] == [x["top"][0]["index"] for x in p][1]
    assert abs(p[0]["top"][0]["probability"] - p[1]["top"][0]["probability"]) < 0.02


def test_bad_file_among_good_ones_is_skipped_and_reported(model, images):
    good_a, bad, good_b = str(images / "rgb.jpg"), str(images / "notimage.jpg"), str(images / "ramp8.png")
    r = run_cli("infer", str(model), good_a, bad, good_b, "--top", "2")
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert f"{good_a}:" in r.stdout and f"{good_b}:" in r.stdout and bad not in r.stdout
    assert f"{bad}: error: not an image" in r.stderr and "1 of 3 images could not be read" in r.stderr

    r = run_cli("infer", str(model), good_a, bad, good_b, "--format", "json", "--top", "3")
    assert r.returncode == 2
    data = json.loads(r.stdout)
    assert [p["image"] for p in data["predictions"]] == [good_a, good_b]
    assert all(len(p["top"]) == 3 and set(p["top"][0]) == {"index", "label", "probability"}
               for p in data["predictions"])
    assert [e["image"] for e in data["errors"]] == [bad]


def test_folder_as_input(model, images):
    r = run_cli("infer", str(model), str(images), "--format", "json")
    assert r.returncode == 2  # the folder holds notimage.jpg too
    data = json.loads(r.stdout)
    assert sorted(p["image"] for p in data["predictions"]) == sorted(
        str(images / n) for n in ("ramp8.png", "ramp16.png", "rgb.jpg"))
    assert [e["image"] for e in data["errors"]] == [str(images / "notimage.jpg")]
