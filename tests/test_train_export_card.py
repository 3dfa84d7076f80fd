"""Contract 4: the weights `nasdsl train` saves carry what training saw (data set, image size,
normalization, labels); `nasdsl export --weights` writes them into the model card, so `infer` on a
digit prints digit labels with digits' normalization; without weights the card (and the terminal)
say the weights are random."""
from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch

from nasdsl.cli.dispatch import main
from nasdsl.deploy.modelcard import ModelCard
from nasdsl_search.data import open_dataset
from tests.test_train_cli import NAS

CIFAR_NAMES = ("airplane", "automobile", "truck")


def card_of(path) -> ModelCard:
    return ModelCard.from_props({p.key: p.value for p in onnx.load(str(path)).metadata_props}, str(path))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("card")
    src = tmp / "small.nas"
    src.write_text(NAS)
    weights = tmp / "w.pt"
    assert main(["train", str(src), "--epochs", "1", "--batch-size", "32", "--train-size", "96", "--val-size", "64",
                 "--threads", "1", "--device", "cpu", "-o", str(weights)]) == 0
    return src, weights


def test_weights_carry_the_data_card_and_export_writes_it(trained, tmp_path, capsys):
    src, weights = trained
    saved = torch.load(weights, weights_only=True)
    bundle = open_dataset("digits", image=16, val_size=64, train_size=96)
    assert saved["card"] == bundle.card() and saved["card"]["dataset"] == "digits"
    capsys.readouterr()
    model = tmp_path / "digits.onnx"
    assert main(["export", str(src), "--weights", str(weights), "--exporter", "torchscript", "-o", str(model)]) == 0
    out = capsys.readouterr().out
    assert "16x16, 10 classes" in out and "weights: trained on digits at 16x16" in out
    card = card_of(model)
    assert card.labels == tuple(str(d) for d in range(10))
    assert card.preprocess.image == 16
    assert np.allclose(card.preprocess.mean, bundle.mean) and np.allclose(card.preprocess.std, bundle.std)
    assert card.weights.startswith("trained on digits")

    from PIL import Image
    from sklearn.datasets import load_digits

    digit = (load_digits().images[0] * 255 / 16).astype(np.uint8)
    png = tmp_path / "zero.png"
    Image.fromarray(digit).convert("RGB").save(png)
    assert main(["infer", str(model), str(png), "--top", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()[1:]
    assert len(lines) == 3 and all(line.split()[1] in card.labels for line in lines)
    assert not any(name in "\n".join(lines) for name in CIFAR_NAMES)


def test_export_without_weights_says_they_are_random(trained, tmp_path, capsys):
    src, _ = trained
    model = tmp_path / "random.onnx"
    assert main(["export", str(src), "--image", "16", "--exporter", "torchscript", "-o", str(model)]) == 0
    assert "weights: random" in capsys.readouterr().out
    assert card_of(model).weights.startswith("random")


def test_a_bare_state_dict_still_exports(trained, tmp_path, capsys):
    """Weights without a card (torch.save of a state_dict, convert-weights) load as before."""
    src, weights = trained
    bare = tmp_path / "bare.pt"
    torch.save(torch.load(weights, weights_only=True)["state_dict"], bare)
    model = tmp_path / "bare.onnx"
    assert main(["export", str(src), "--weights", str(bare), "--image", "16", "--classes", "10",
                 "--exporter", "torchscript", "-o", str(model)]) == 0
    assert "weights: loaded from bare.pt" in capsys.readouterr().out
    assert card_of(model).labels[0] == "airplane"  # no card: the default labels for 10 classes
