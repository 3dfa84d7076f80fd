"""nasdsl.deploy.export: checker-clean opset >= 17 graphs, dynamic batch, metadata round trip, verify,
weights loading, and the errors a user can hit."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import onnx
import pytest
import torch
from onnx_helpers import tiny_classifier

from nasdsl.deploy.export import export_onnx, load_weights, verify
from nasdsl.deploy.infer import Classifier
from nasdsl.deploy.labels import default_labels
from nasdsl.deploy.modelcard import PREFIX, ModelCard, default_preprocess, training_card_problem
from nasdsl.errors import NasError

SOURCE = "# a .nas source\nnetwork tiny { normal = c }\n"


def _card(classes: int = 1000, size: int = 32, stem: str = "imagenet") -> ModelCard:
    return ModelCard("tiny", SOURCE, classes, tuple(default_labels(classes)), default_preprocess(stem, size))


@pytest.mark.parametrize(("exporter", "opset"), [("dynamo", 18), ("torchscript", 17)])
def test_export_checker_opset_dynamic_batch_verify(tmp_path, exporter, opset):
    model, card = tiny_classifier(1000), _card()
    path = export_onnx(model, card, tmp_path / "m.onnx", opset=opset, exporter=exporter)
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    assert [o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")] == [opset]
    (inp,) = proto.graph.input
    dims = inp.type.tensor_type.shape.dim
    assert dims[0].dim_param and not dims[0].HasField("dim_value")  # symbolic batch
    assert [d.dim_value for d in dims[1:]] == [3, 32, 32]
    assert not any(n.op_type == "Dropout" for n in proto.graph.node)
    result = verify(model, path)
    assert result.ok and result.max_abs_diff <= 1e-4 and result.top1_agreement == 1.0
    clf = Classifier(path, provider="cpu")
    for n in (1, 16):  # batch sizes other than the export example's
        x = torch.randn(n, 3, 32, 32)
        np.testing.assert_allclose(clf.logits(x.numpy()), model(x).detach().numpy(), atol=1e-4)


def test_metadata_round_trip(tmp_path):
    card = _card(classes=1001, size=40)
    path = export_onnx(tiny_classifier(1001), card, tmp_path / "m.onnx", exporter="torchscript", opset=17)
    props = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert props[PREFIX + "source"] == SOURCE and props[PREFIX + "network"] == "tiny"
    assert props[PREFIX + "image_size"] == "40" and props[PREFIX + "resize"] == "45"
    assert props[PREFIX + "background_class"] == "true"
    back = ModelCard.from_props(props)
    assert "torchscript" in back.exporter and "opset 17" in back.exporter
    assert dataclasses.replace(back, exporter="") == card
    assert Classifier(path, provider="cpu").card == back  # what onnxruntime reads


def test_cifar_card_uses_cifar_statistics():
    pre = default_preprocess("cifar", 32)
    assert (pre.image, pre.resize) == (32, 32) and pre.mean[0] == pytest.approx(0.4914)
    with pytest.raises(NasError, match="crop fraction"):
        default_preprocess("imagenet", 224, crop_pct=1.5)


def test_from_props_rejects_damaged_metadata():
    good = _card().to_props()
    for key, value, message in [
        ("labels", "[1, 2]", "not a list of strings"),
        ("labels", "{", "not a JSON list"),
        ("mean", "[0.5]", "must hold 3 numbers"),
        ("mean", "[true, 0.5, 0.5]", "not a list of numbers"),  # it read 1.0
        ("mean", '"123"', "not a list of numbers"),  # it read (1.0, 2.0, 3.0)
        ("mean", f"[1{'0' * 400}, 0.5, 0.5]", "must hold 3 numbers"),  # OverflowError, exit 3
        ("std", "[0.5, 0, 0.5]", "must hold 3 numbers"),
        ("image_size", "abc", "not an integer"),
        ("interpolation", "lanczos9", "unknown interpolation"),
        ("format", "99", "format"),
    ]:
        with pytest.raises(NasError, match=message):
            ModelCard.from_props({**good, PREFIX + key: value}, "m.onnx")
    with pytest.raises(NasError, match="missing"):
        ModelCard.from_props({k: v for k, v in good.items() if k != PREFIX + "mean"})
    with pytest.raises(NasError, match="no nasdsl metadata"):
        ModelCard.from_props({"other": "1"})


@pytest.mark.parametrize("change", [
    {}, {"image": 0}, {"image": 4096}, {"image": 4097}, {"resize": 31}, {"resize": 4096}, {"resize": 4097},
    {"mean": [0.5, 0.5]}, {"mean": [0.5, 0.5, float("inf")]}, {"std": [0.5, 0.5, -1.0]}, {"std": [1e-9] * 3},
    {"mean": [10 ** 400, 0, 0]}, {"std": [1, 1, 1]},
    {"interpolation": "lanczos9"}, {"interpolation": "nearest"},
])
def test_a_training_card_is_held_to_what_a_model_card_accepts(change):
    """`nasdsl train`'s card (python values) and an exported model's metadata (strings) are refused
    for the same preprocessing, so nothing export writes from a training card fails in `infer`."""
    card = {"image": 32, "resize": 32, "mean": [0.5] * 3, "std": [0.25] * 3, "labels": ["a", "b"],
            "interpolation": "bilinear", **change}
    props = {**_card(classes=2).to_props(), **{PREFIX + k: str(v) for k, v in
                                              (("image_size", card["image"]), ("resize", card["resize"]))},
             PREFIX + "mean": json.dumps(card["mean"]), PREFIX + "std": json.dumps(card["std"]),
             PREFIX + "labels": json.dumps(card["labels"]), PREFIX + "interpolation": card["interpolation"]}
    problem = training_card_problem(card)
    try:
        ModelCard.from_props(props, "m.onnx")
        refused = None
    except NasError as e:
        refused = str(e)
    assert (problem is None) == (refused is None), (problem, refused)
    if problem:
        assert problem in refused


def test_export_errors(tmp_path):
    model = tiny_classifier(1000)
    with pytest.raises(NasError, match="opset 16 is too old"):
        export_onnx(model, _card(), tmp_path / "m.onnx", opset=16)
    with pytest.raises(NasError, match="exporter torchscript"):
        export_onnx(model, _card(), tmp_path / "m.onnx", opset=17, exporter="dynamo")
    with pytest.raises(NasError, match="unknown exporter"):
        export_onnx(model, _card(), tmp_path / "m.onnx", exporter="tf")
    with pytest.raises(NasError, match=r"expected logits of shape \(N, 10\)"):
        export_onnx(model, _card(classes=10, stem="cifar"), tmp_path / "m.onnx", exporter="torchscript")
    fixed = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 32 * 32, 1000)).eval()
    with pytest.raises(NasError, match="cannot take a 24x24 input"):
        export_onnx(fixed, _card(size=24), tmp_path / "m.onnx", exporter="torchscript")
    assert not (tmp_path / "m.onnx").exists()


def test_load_weights(tmp_path):
    src, dst = tiny_classifier(1000, seed=1), tiny_classifier(1000, seed=2)
    state = dict(src.state_dict())
    state["aux_head.fc.weight"] = torch.zeros(3)  # aux-head tensors are skipped
    torch.save(state, tmp_path / "w.pt")
    load_weights(dst, tmp_path / "w.pt")
    x = torch.randn(2, 3, 32, 32)
    assert torch.equal(src(x), dst(x))
    torch.save({"state_dict": src.state_dict()}, tmp_path / "wrapped.pt")
    load_weights(tiny_classifier(1000, seed=3), tmp_path / "wrapped.pt")

    with pytest.raises(NasError, match="shape mismatch.*try --classes"):
        load_weights(tiny_classifier(1001), tmp_path / "w.pt")
    partial = {k: v for k, v in src.state_dict().items() if not k.startswith("0.")}
    torch.save(partial, tmp_path / "partial.pt")
    with pytest.raises(NasError, match="missing: 0.weight"):
        load_weights(tiny_classifier(1000), tmp_path / "partial.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(NasError, match="not a PyTorch state_dict file"):
        load_weights(dst, tmp_path / "junk.pt")
    with pytest.raises(NasError, match="no such weights file"):
        load_weights(dst, tmp_path / "none.pt")
    torch.save([1, 2], tmp_path / "list.pt")
    with pytest.raises(NasError, match="dict of named tensors"):
        load_weights(dst, tmp_path / "list.pt")
    diverged = {k: v * float("nan") if k == "1.running_var" else v for k, v in src.state_dict().items()}
    torch.save(diverged, tmp_path / "nan.pt")  # it exported, and every prediction was NaN (exit 0)
    with pytest.raises(NasError, match=r"nan\.pt: error: weights that are not finite \(NaN or inf\) in 1\.running_var$"):
        load_weights(dst, tmp_path / "nan.pt")
