"""`nasdsl export --quantize int8`: a small network trained on digits, quantized with calibration
images from the data set registry; the card says int8, --verify reports agreement with the float
model, and `infer` and `serve` run the int8 file."""
from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from references import require

from nasdsl.cli.commands.calibration import dataset_images
from nasdsl.cli.dispatch import main
from nasdsl.deploy.export import prepare
from nasdsl.deploy.infer import Classifier
from nasdsl.deploy.modelcard import read_quantization
from nasdsl.testing import SMALL_NAS

require("onnxruntime.quantization")

EXPORT = ["--image", "16", "--classes", "10", "--exporter", "torchscript", "--opset", "17"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(the .nas file, weights trained for 3 epochs on digits preprocessed as the card says, a labels file)."""
    from nasdsl_search.trainer import TrainConfig, train

    d = tmp_path_factory.mktemp("q")
    src = d / "small.nas"
    src.write_text(SMALL_NAS)
    module, card = prepare(str(src), image=16, classes=10)  # the card's preprocessing (labels aside)
    x_tr, y_tr, _ = dataset_images("digits", card.preprocess, 500, split="train")
    x_va, y_va, _ = dataset_images("digits", card.preprocess, 200, split="val")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        module.train()
        result = train(module, x_tr, y_tr, x_va, y_va, TrainConfig(epochs=3, batch_size=32), seed=0)
    finally:
        torch.set_num_threads(threads)
    print(f"trained: held-out accuracy {result.accuracy:.3f}")
    assert result.accuracy > 0.5  # chance is 0.1
    weights = d / "small.pt"
    torch.save(module.state_dict(), weights)
    labels = d / "digits.txt"
    labels.write_text("".join(f"{i}\n" for i in range(10)))
    return src, weights, labels


def test_calibration_images_follow_the_card(trained):
    _, card = prepare(str(trained[0]), image=16, classes=10, labels=trained[2])
    x, y, names = dataset_images("digits", card.preprocess, 5, split="val")
    assert x.shape == (5, 3, 16, 16) and x.dtype == np.float32 and names == [str(i) for i in range(10)]
    assert set(y) <= set(range(10))
    # pixels in 0..1 normalized with the card's mean/std: the darkest digit pixel is -mean/std
    low = -np.asarray(card.preprocess.mean) / np.asarray(card.preprocess.std)
    np.testing.assert_allclose(x.min(axis=(0, 2, 3)), low, atol=1e-5)


def test_export_int8_card_verify_infer_and_serve(trained, tmp_path, capsys):
    src, weights, labels = trained
    out = tmp_path / "small.int8.onnx"
    argv = ["export", str(src), "--weights", str(weights), "--labels", str(labels), *EXPORT, "-o", str(out), "--quantize", "int8",
            "--calibrate", "digits", "--calibrate-size", "64", "--verify"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "int8 QDQ" in text and "calibrated on 64 digits images" in text
    m = re.search(r"verify int8: 256 held-out images, top-1 agreement with the float model ([\d.]+)%, "
                  r"largest probability difference ([\d.e-]+), accuracy float ([\d.]+)% vs int8 ([\d.]+)% -> ok", text)
    assert m, text
    agreement, diff, acc_float, acc_int8 = (float(g) for g in m.groups())
    assert agreement >= 90 and 0 < diff < 1 and acc_float > 50 and acc_int8 > 40

    clf = Classifier(out, provider="cpu")
    record = read_quantization(dict(clf.session.get_modelmeta().custom_metadata_map))
    assert record["mode"] == "int8" and record["calibration"] == {"dataset": "digits", "images": 64, "method": "minmax"}
    assert record["weights"] == "int8 (7-bit range), symmetric, per channel" and clf.card.network == "small"
    ops = {n.op_type for n in __import__("onnx").load(str(out)).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops

    from PIL import Image
    from sklearn.datasets import load_digits

    digit = load_digits()
    png = tmp_path / "digit.png"
    Image.fromarray((digit.images[7] * 255 / 16).astype(np.uint8)).convert("RGB").save(png)
    assert main(["infer", str(out), str(png), "--top", "1", "--provider", "cpu"]) == 0
    assert re.search(r"^\s+[\d.]+\s+(\d)\s+\[\1\]$", capsys.readouterr().out, re.MULTILINE)

    httpx = require("httpx")
    from serve_helpers import ServeProcess

    server = ServeProcess(out, log=tmp_path / "serve.log")
    try:
        card = httpx.get(server.url + "/v1/model", timeout=30).json()
        assert card["quantization"]["mode"] == "int8" and "int8" in server.banner
        r = httpx.post(server.url + "/v1/classify?top=1", content=png.read_bytes(), timeout=30)
        assert r.status_code == 200 and r.json()["top"][0]["label"] in [str(i) for i in range(10)]
    finally:
        server.stop()


def test_the_model_never_lands_on_the_calibration_data(trained, tmp_path, capsys, monkeypatch):
    """-o the calibration npz through ~, or a file inside the calibration folder: exit 2, the data
    untouched (both were overwritten by the model, exit 0)."""
    from data_fixtures import write_folder, write_npz

    monkeypatch.setenv("HOME", str(tmp_path))
    npz = write_npz(tmp_path / "cal.npz", n=20, image=16, classes=10)
    folder = write_folder(tmp_path / "pics", train=3, val=1, size=(16, 16), classes=("a", "b"))
    png = next((folder / "train" / "a").iterdir())
    for spec, out in (("npz:~/cal.npz", npz), (f"imagefolder:{folder}", png)):
        before = out.read_bytes()
        assert main(["export", str(trained[0]), *EXPORT, "--weights", str(trained[1]), "--quantize", "int8",
                     "--calibrate", spec, "-o", str(out)]) == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
        assert ("names the input file" in err or "lies inside the input folder" in err) and out.read_bytes() == before


def test_the_count_said_is_the_count_used_and_no_chatter(trained, tmp_path, capsys):
    """Entropy calibration takes whole batches of 16: 20 images said, 16 used (and recorded); and
    onnxruntime's 'Number of histogram bins' lines stay out of the output."""
    out = tmp_path / "e.onnx"
    assert main(["export", str(trained[0]), *EXPORT, "--weights", str(trained[1]), "--quantize", "int8",
                 "--calibrate", "digits", "--calibrate-size", "20", "--calibrate-method", "entropy",
                 "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert "calibrated on 16 of 20 digits images" in captured.out, captured.out
    assert "histogram" not in captured.out + captured.err
    clf = Classifier(out, provider="cpu")
    assert clf.quantization["calibration"]["images"] == 16


@pytest.mark.parametrize("extra, message", [
    (["--quantize", "int8"], "needs --calibrate"),
    (["--calibrate", "digits"], "--calibrate is for --quantize int8"),
    (["--quantize", "int8", "--calibrate", "nosuchdata"], "unknown data set"),
    (["--quantize", "int8", "--calibrate", "digits", "--calibrate-size", "0"], "--calibrate-size must be positive"),
])
def test_quantize_flag_errors_exit_2(trained, tmp_path, capsys, extra, message):
    src = trained[0]
    assert main(["export", str(src), *EXPORT, "-o", str(tmp_path / "x.onnx"), *extra]) == 2
    assert message in capsys.readouterr().err
