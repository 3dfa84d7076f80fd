"""Deployment from a reference checkpoint: Cadene's NASNet-A Mobile state_dict -> convert-weights
-> export -> onnxruntime on real image files; the top-5 of every image equals what Cadene's own
PyTorch model gives on the same preprocessed pixels."""
from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from onnx_helpers import write_images
from references import require

from nasdsl.cli.dispatch import main
from nasdsl.deploy.infer import Classifier, load_image, preprocess
from nasdsl.testing import randomize_bn

pretrainedmodels = require("pretrainedmodels")


@pytest.mark.slow
def test_exported_top5_equals_the_reference_models(tmp_path, capsys):
    ref = pretrainedmodels.nasnetamobile(num_classes=1000, pretrained=None)
    randomize_bn(ref, seed=3, classifier_gain=10.0).eval()  # a checkpoint whose BNs are not at defaults
    torch.save(ref.state_dict(), tmp_path / "cadene.pth")
    ours, onnx_path = tmp_path / "ours.pt", tmp_path / "mobile.onnx"
    assert main(["convert-weights", "--from", "cadene", str(tmp_path / "cadene.pth"), "--network",
                 "nasnet_a_mobile", "-o", str(ours)]) == 0
    assert main(["export", "nasnet_a_mobile", "--weights", str(ours), "-o", str(onnx_path), "--verify"]) == 0
    assert "-> ok" in capsys.readouterr().out

    (tmp_path / "images").mkdir()
    images = write_images(tmp_path / "images")
    clf = Classifier(onnx_path, provider="cpu")
    batch = np.stack([preprocess(load_image(p), clf.card.preprocess) for p in images.values()])
    with torch.no_grad():
        expected = ref(torch.from_numpy(batch)).numpy()
    got = clf.logits(batch)
    assert expected.std(1).min() > 0.1 and np.abs(got - expected).max() < 1e-4
    want_top5 = np.argsort(-expected, axis=1, kind="stable")[:, :5]
    got_top5 = [[i for i, _, _ in best] for best in clf.predict(batch, top=5)]
    assert got_top5 == want_top5.tolist()

    # and the command a user runs prints the same classes, image by image
    assert main(["infer", str(onnx_path), *map(str, images.values()), "--top", "5", "--provider", "cpu"]) == 0
    printed = [int(i) for i in re.findall(r"\[(\d+)\]", capsys.readouterr().out)]
    assert printed == want_top5.ravel().tolist()


@pytest.mark.slow
@pytest.mark.parametrize("damage, needle", [
    ("nan", "not finite (NaN or inf) in conv0.conv.weight"),
    ("int", "conv0.conv.weight -> conv0.conv.weight: int64 values for floating-point weights"),
])
def test_convert_weights_refuses_damaged_weights(tmp_path, capsys, damage, needle):
    """A reference checkpoint with a NaN, or with integers for a float weight (torch would have cast
    them), converted with exit 0; only export refused the NaN, nothing the integers."""
    state = pretrainedmodels.nasnetamobile(num_classes=1000, pretrained=None).state_dict()
    if damage == "nan":
        state["conv0.conv.weight"][0, 0, 0, 0] = float("nan")
    else:
        state["conv0.conv.weight"] = state["conv0.conv.weight"].round().long()
    torch.save(state, tmp_path / "cadene.pth")
    capsys.readouterr()
    assert main(["convert-weights", "--from", "cadene", str(tmp_path / "cadene.pth"), "--network",
                 "nasnet_a_mobile", "-o", str(tmp_path / "ours.pt")]) == 2
    assert needle in capsys.readouterr().err
    assert not (tmp_path / "ours.pt").exists()
