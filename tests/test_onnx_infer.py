"""`nasdsl infer` and nasdsl.deploy.infer: preprocessing, labels, providers, the torch-free path, errors."""
from __future__ import annotations

import numpy as np
import pytest
from onnx_helpers import run_blocked, tiny_classifier, write_images
from references import require

from nasdsl.cli.dispatch import main
from nasdsl.deploy.export import export_onnx
from nasdsl.deploy.infer import Classifier, load_image, preprocess, select_providers
from nasdsl.deploy.labels import default_labels, imagenet_labels
from nasdsl.deploy.modelcard import ModelCard, default_preprocess
from nasdsl.errors import NasError

SIZE = 32


def _export(path, classes: int, winner: int | None = None, stem: str = "imagenet"):
    card = ModelCard(f"tiny{classes}", "network tiny { }", classes, tuple(default_labels(classes)),
                     default_preprocess(stem, SIZE))
    return export_onnx(tiny_classifier(classes, winner), card, path, exporter="torchscript", opset=17)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    d = tmp_path_factory.mktemp("onnx")
    return {
        "1000": _export(d / "m1000.onnx", 1000, winner=281),  # ImageNet 281 = tabby
        "1001": _export(d / "m1001.onnx", 1001, winner=282),  # shifted by the background class
        "background": _export(d / "bg.onnx", 1001, winner=0),
        "random": _export(d / "random.onnx", 1000),
    }


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    return write_images(tmp_path_factory.mktemp("images"))


def test_shipped_imagenet_labels():
    names = imagenet_labels()
    assert len(names) == 1000
    assert names[0] == "tench" and names[281] == "tabby" and names[999] == "toilet tissue"
    assert default_labels(1001)[0] == "background" and default_labels(1001)[282] == "tabby"
    assert default_labels(10)[0] == "airplane"


def test_preprocess_matches_torchvision(images):
    tv = require("torchvision.transforms")
    pre = default_preprocess("imagenet", 224)
    assert (pre.resize, pre.image) == (256, 224)
    ref = tv.Compose([tv.Resize(pre.resize), tv.CenterCrop(pre.image), tv.ToTensor(),
                      tv.Normalize(pre.mean, pre.std)])
    for path in images.values():
        img = load_image(path)
        ours = preprocess(img, pre)
        assert ours.shape == (3, 224, 224) and ours.dtype == np.float32
        np.testing.assert_allclose(ours, ref(img).numpy(), atol=1e-6)


def test_infer_cli_prints_top_k(models, images, capsys):
    paths = [str(images["rgb.jpg"]), str(images["gray.png"]), str(images["rgba.png"])]
    assert main(["infer", str(models["1000"]), *paths, "--top", "3", "--provider", "cpu"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{paths[0]}:" and out[4] == f"{paths[1]}:" and len(out) == 12
    label_line = out[1].split()
    assert label_line[1:] == ["tabby", "[281]"] and float(label_line[0]) > 0.9


def test_1001_class_models_keep_background_at_index_0(models, images):
    clf = Classifier(models["1001"], provider="cpu")
    assert clf.card.background_class and clf.card.labels[0] == "background"
    (pred,) = clf.classify([images["tall.png"]], top=2)
    assert pred.top[0][:2] == (282, "tabby")
    (pred,) = Classifier(models["background"], provider="cpu").classify([images["tall.png"]], top=1)
    assert pred.top[0][:2] == (0, "background")


def test_batching_does_not_change_results(models, images):
    clf = Classifier(models["random"], provider="cpu")
    files = list(images.values()) * 2
    one = list(clf.classify(files, top=5, batch=1))
    many = list(clf.classify(files, top=5, batch=3))
    assert [p.image for p in one] == [p.image for p in many]
    for a, b in zip(one, many):
        assert [i for i, _, _ in a.top] == [i for i, _, _ in b.top]
        np.testing.assert_allclose([p for *_, p in a.top], [p for *_, p in b.top], atol=1e-6)
    probs = [p for *_, p in one[0].top]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1 + 1e-9


def test_infer_runs_without_torch_or_onnx(models, images):
    """The deployed path: onnxruntime, numpy and Pillow only."""
    r = run_blocked(["torch", "torchvision", "onnx", "onnxscript", "timm"],
                    ["infer", str(models["1000"]), str(images["rgb.jpg"]), "--top", "1"])
    assert r.returncode == 0, r.stderr
    assert "tabby  [281]" in r.stdout


def test_missing_onnxruntime_names_the_extras(models, images):
    r = run_blocked(["onnxruntime"], ["infer", str(models["1000"]), str(images["rgb.jpg"])])
    assert r.returncode == 2
    assert "onnxruntime is not installed" in r.stderr and "nasdsl[cpu]" in r.stderr \
        and "nasdsl[gpu]" in r.stderr
    assert "Traceback" not in r.stderr


def test_provider_selection():
    cpu, cuda = "CPUExecutionProvider", "CUDAExecutionProvider"
    assert select_providers("auto", [cpu]) == [cpu]
    assert select_providers("auto", [cuda, cpu]) == [cuda, cpu]
    assert select_providers("cpu", [cuda, cpu]) == [cpu]
    with pytest.raises(NasError, match="nasdsl\\[gpu\\]"):
        select_providers("cuda", [cpu])
    with pytest.raises(NasError, match="unknown provider"):
        select_providers("tpu", [cpu])


def _cli_error(argv, capsys) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    return err


def test_errors_are_one_line_exit_2(models, images, tmp_path, capsys):
    model, img = str(models["1000"]), str(images["rgb.jpg"])
    corrupt = tmp_path / "corrupt.onnx"
    corrupt.write_bytes(b"\x08\x07garbage" * 10)
    truncated = tmp_path / "truncated.onnx"
    truncated.write_bytes(models["1000"].read_bytes()[:5000])
    not_image = tmp_path / "notes.png"
    not_image.write_text("not an image")
    cut_jpeg = tmp_path / "cut.jpg"
    cut_jpeg.write_bytes(images["rgb.jpg"].read_bytes()[:300])

    assert "no such model file" in _cli_error(["infer", str(tmp_path / "nope.onnx"), img], capsys)
    assert "not a loadable ONNX model" in _cli_error(["infer", str(corrupt), img], capsys)
    assert "not a loadable ONNX model" in _cli_error(["infer", str(truncated), img], capsys)
    assert "not a loadable ONNX model" in _cli_error(["infer", img, img], capsys)
    assert "no such image file" in _cli_error(["infer", model, str(tmp_path / "nope.png")], capsys)
    assert "not an image Pillow can read" in _cli_error(["infer", model, str(not_image)], capsys)
    assert "cannot read image" in _cli_error(["infer", model, str(cut_jpeg)], capsys)
    (tmp_path / "empty").mkdir()  # a folder is read for its image files; one without any is an error
    assert "no image files" in _cli_error(["infer", model, str(tmp_path / "empty")], capsys)
    assert "--top must be at least 1" in _cli_error(["infer", model, img, "--top", "0"], capsys)
    assert "--batch must be at least 1" in _cli_error(["infer", model, img, "--batch", "0"], capsys)


def test_model_without_nasdsl_metadata(tmp_path, capsys):
    import onnx

    plain = onnx.load(str(_export(tmp_path / "m.onnx", 10, stem="cifar")))
    del plain.metadata_props[:]
    onnx.save(plain, str(tmp_path / "plain.onnx"))
    err = _cli_error(["infer", str(tmp_path / "plain.onnx"), str(tmp_path / "x.png")], capsys)
    assert "no nasdsl metadata" in err


def test_wrong_input_size(models):
    clf = Classifier(models["random"], provider="cpu")
    with pytest.raises(NasError, match=f"wrong input size .*3 x {SIZE} x {SIZE}"):
        clf.logits(np.zeros((1, 3, SIZE + 1, SIZE + 1), np.float32))
    with pytest.raises(NasError, match="wrong input size"):
        clf.logits(np.zeros((3, SIZE, SIZE), np.float32))
    assert clf.logits(np.zeros((4, 3, SIZE, SIZE), np.float32)).shape == (4, 1000)


@pytest.mark.skipif("CUDAExecutionProvider" not in __import__("onnxruntime").get_available_providers(),
                    reason="needs onnxruntime-gpu")
def test_cuda_provider_matches_cpu(models, images):
    gpu = Classifier(models["random"], provider="cuda")
    cpu = Classifier(models["random"], provider="cpu")
    assert gpu.providers[0] == "CUDAExecutionProvider"
    x = np.stack([preprocess(load_image(p), cpu.card.preprocess) for p in images.values()])
    np.testing.assert_allclose(gpu.logits(x), cpu.logits(x), atol=1e-4)
