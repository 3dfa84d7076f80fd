"""`nasdsl infer` through the real CLI: 16-bit images are scaled (not clipped) in bounded memory, a bad
file among good ones is reported and skipped while the good ones are answered (exit 2 at the end),
--format json, a folder as input, and every format Pillow reads (the server's restriction is its own)."""
from __future__ import annotations

import json
import tracemalloc

import numpy as np
import pytest
from onnx_helpers import tiny_classifier
from PIL import Image
from proc_helpers import run_cli

from nasdsl.deploy.export import export_onnx
from nasdsl.deploy.infer import load_image, to_rgb
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


@pytest.mark.parametrize("mode, values, top", [
    ("I;16", [0, 128, 129, 385, 386, 32767, 65407, 65535], 65535),
    ("I;16B", [0, 128, 129, 385, 386, 32767, 65407, 65535], 65535),  # big-endian TIFFs
    ("I", [-5, 0, 300, 65535, 70000, 2**31 - 1, 1_000_000, 7], 2**32 - 1),  # above 16 bits: the 32-bit range
    ("I", [-5, 0, 3, 100, 200, 254, 255, 17], 255),  # small integers are 8-bit values already
    ("F", [-0.5, 0.0, 0.001, 0.002, 0.5, 0.7, 0.999, 1.0], 1.0),
    ("F", [-1.0, 0.0, 1.5, 100.49, 100.51, 254.6, 300.0, 2.0], 255.0),
])
def test_wide_images_scale_to_8_bit(tmp_path, mode, values, top):
    dtype = {"I;16": np.uint16, "I;16B": ">u2", "I": np.int32, "F": np.float32}[mode]
    a = np.tile(np.asarray(values, dtype), (9, 1))
    img = Image.fromarray(a)
    assert img.mode == mode
    expected = np.clip(np.rint(a.astype(np.float64) * (255.0 / top)), 0, 255).astype(np.uint8)
    got = np.asarray(to_rgb(img))
    assert got.shape == (9, 8, 3) and (got == expected[..., None]).all()


def test_a_big_16_bit_image_costs_no_more_than_an_8_bit_one(tmp_path):
    side = 3000
    a = (np.arange(side * side, dtype=np.uint32) * 7 % 65536).astype(np.uint16).reshape(side, side)
    Image.fromarray(a).save(tmp_path / "big16.png")
    tracemalloc.start()
    try:
        img = load_image(tmp_path / "big16.png")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # the 8-bit gray result is 1 byte a pixel; float64 at full size took 8 (and ~24 at the peak)
    assert peak < 2 * side * side, f"{peak / 1e6:.0f} MB"
    assert img.mode == "RGB" and img.getpixel((1, 0)) == (round(7 * 255 / 65535),) * 3


def test_infer_still_reads_formats_the_server_refuses(images, tmp_path):
    Image.open(images / "rgb.jpg").save(tmp_path / "rgb.pcx")
    assert load_image(tmp_path / "rgb.pcx").size == (48, 40)


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


def test_a_decompression_bomb_is_a_bad_file_like_any_other(model, tmp_path):
    """A 22 KB PNG of 13500x13500 pixels, over Pillow's limit: reported and skipped (it was exit 3)."""
    bomb = tmp_path / "bomb.png"
    Image.new("1", (13500, 13500)).save(bomb)
    r = run_cli("infer", str(model), str(bomb))
    assert r.returncode == 2 and "Traceback" not in r.stderr and "internal error" not in r.stderr, r.stderr
    assert f"{bomb}: error: cannot read image (Image size (182250000 pixels) exceeds limit" in r.stderr


def test_folder_as_input(model, images):
    r = run_cli("infer", str(model), str(images), "--format", "json")
    assert r.returncode == 2  # the folder holds notimage.jpg too
    data = json.loads(r.stdout)
    assert sorted(p["image"] for p in data["predictions"]) == sorted(
        str(images / n) for n in ("ramp8.png", "ramp16.png", "rgb.jpg"))
    assert [e["image"] for e in data["errors"]] == [str(images / "notimage.jpg")]


def test_exif_orientation_is_applied_as_viewers_show_the_photo(tmp_path):
    """A phone photo stored sideways with EXIF orientation 8 is read upright (it was classified
    sideways); training, serving and infer all read images through load_image."""
    rng = np.random.default_rng(3)
    upright = Image.fromarray(rng.integers(0, 256, (30, 40, 3), dtype=np.uint8), "RGB")
    upright.save(tmp_path / "upright.png")
    exif = Image.Exif()
    exif[0x0112] = 8  # stored turned 90 degrees clockwise; viewers turn it back
    upright.transpose(Image.Transpose.ROTATE_270).save(tmp_path / "sideways.png", exif=exif)
    assert Image.open(tmp_path / "sideways.png").size == (30, 40)
    a, b = load_image(tmp_path / "upright.png"), load_image(tmp_path / "sideways.png")
    assert a.size == b.size == (40, 30) and np.array_equal(np.asarray(a), np.asarray(b))


def test_an_extreme_aspect_ratio_is_refused_not_resized_to_gigabytes(model, tmp_path):
    """A 1x60000 PNG of a few hundred bytes, its shorter side resized to this model's 32, made a
    32x1,920,000 image (a 1x6000 one took 1.3 GB for a 224-pixel model): it is a bad file like any
    other, and the other images are answered."""
    Image.new("L", (1, 60000), 128).save(tmp_path / "thread.png")
    Image.new("RGB", (40, 30), (9, 9, 9)).save(tmp_path / "ok.png")
    r = run_cli("infer", str(model), str(tmp_path / "thread.png"), str(tmp_path / "ok.png"))
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert f"{tmp_path / 'thread.png'}: error: image is 1x60000 pixels: resizing its shorter side to 32 would make" \
        " 61 MP" in r.stderr and "(aspect ratio too extreme)" in r.stderr
    assert f"{tmp_path / 'ok.png'}:" in r.stdout


def test_a_model_whose_outputs_are_nan_is_an_error_not_a_ranking(tmp_path):
    """Weights of a diverged training exported elsewhere: infer printed 'nan  airplane [0]' and
    JSON with a bare NaN token, exit 0."""
    import torch

    net = tiny_classifier(10)
    with torch.no_grad():
        net[-1].bias.fill_(float("nan"))
    card = ModelCard("tiny10", "network tiny { }", 10, tuple(default_labels(10)), default_preprocess("cifar", 32))
    broken = export_onnx(net, card, tmp_path / "nan.onnx", exporter="torchscript", opset=17)
    Image.new("RGB", (40, 30), (9, 9, 9)).save(tmp_path / "ok.png")
    for fmt in ("text", "json"):
        r = run_cli("infer", str(broken), str(tmp_path / "ok.png"), "--format", fmt)
        assert r.returncode == 2 and "Traceback" not in r.stderr and "NaN" not in r.stdout, (r.stdout, r.stderr)
        assert f"{broken}: error: the model's outputs are not finite (NaN or inf)" in r.stderr


def test_labels_files_as_editors_write_them(tmp_path, capsys):
    """A BOM is not part of the first name; ' # x' is a comment like '# x'; names given twice are
    said (ImageNet's own list repeats two); a Latin-1 file is refused at its line."""
    from nasdsl.cli.dispatch import main
    from nasdsl.deploy.labels import read_labels

    bom = tmp_path / "bom.txt"
    bom.write_bytes(b"\xef\xbb\xbfzero\n  # a comment\none\n")
    assert read_labels(bom, 2) == ["zero", "one"]
    latin = tmp_path / "latin.txt"
    latin.write_bytes(b"zero\ncaf\xe9\n")
    r = run_cli("export", "nasnet_a_cifar", "--classes", "2", "--labels", str(latin), "-o", str(tmp_path / "x.onnx"))
    assert r.returncode == 2 and f"{latin}:2:4: error: not UTF-8 text: byte 0xe9" in r.stderr, r.stderr
    twice = tmp_path / "twice.txt"
    twice.write_text("a\na\nb\n")
    small = tmp_path / "s.nas"
    small.write_text("import darts_v2_normal\nimport darts_v2_reduce\nnetwork s {\n normal = darts_v2_normal\n"
                     " reduction = darts_v2_reduce\n skeleton = darts\n cells = 1\n filters = 4\n image = 8\n}\n")
    assert main(["export", str(small), "--classes", "3", "--labels", str(twice), "--exporter", "torchscript",
                 "--opset", "17", "-o", str(tmp_path / "s.onnx")]) == 0
    err = capsys.readouterr().err
    assert f"{twice}: note: names given to several classes ('a' x2); their predictions will read alike" in err
