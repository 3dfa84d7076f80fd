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


@pytest.mark.parametrize("change", [
    {"image": "abc"}, {"image": float("nan")}, {"labels": 10}, {"labels": [1, 2]}, {"mean": [float("nan"), 0, 0]},
    {"std": [0.0, 1.0, 1.0]}, {"mean": [0.5]}, {"resize": -5}, {"resize": 100_000}, {"interpolation": "bogus"},
    {"image": True}, {"resize": 8}, {"image": 5000}, {"mean": [True, 0, 0]},
])
def test_a_damaged_training_card_is_refused_before_anything_is_written(trained, tmp_path, capsys, change):
    """Each of these was an internal error (exit 3) or an .onnx that `infer` then refused."""
    src, weights = trained
    saved = torch.load(weights, weights_only=True)
    damaged = tmp_path / "damaged.pt"
    torch.save({**saved, "card": {**saved["card"], **change}}, damaged)
    capsys.readouterr()
    model = tmp_path / "m.onnx"
    assert main(["export", str(src), "--weights", str(damaged), "--exporter", "torchscript", "-o", str(model)]) == 2
    err = capsys.readouterr().err
    assert "training card" in err and "internal error" not in err and len(err.strip().splitlines()) == 1, err
    assert not model.exists()


@pytest.mark.parametrize("card, words", [
    ("not a card", "it is a str, not a mapping of image, mean, std, labels"),
    ({"image": 16, "labels": ["a", "b"]}, "it lacks mean, std"),
])
def test_a_training_card_without_its_keys_is_refused_in_one_line(trained, tmp_path, capsys, card, words):
    src, weights = trained
    damaged = tmp_path / "damaged.pt"
    torch.save({**torch.load(weights, weights_only=True), "card": card}, damaged)
    capsys.readouterr()
    model = tmp_path / "m.onnx"
    assert main(["export", str(src), "--weights", str(damaged), "--exporter", "torchscript", "-o", str(model)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith(f"damaged.pt: error: its training card is damaged: {words}"), err
    assert len(err.splitlines()) == 1 and not model.exists()


def test_weights_keyed_by_other_than_names_are_not_a_state_dict(trained, tmp_path, capsys):
    src, _ = trained
    odd = tmp_path / "intkey.pt"
    torch.save({1: torch.zeros(1)}, odd)
    capsys.readouterr()
    for argv in (["export", str(src), "--weights", str(odd), "-o", str(tmp_path / "m.onnx")],
                 ["convert-weights", "--from", "cadene", str(odd), "--network", str(src), "-o", str(tmp_path / "w.pt")],
                 ["convert-weights", "--from", "nni", str(odd), "--network", str(src), "-o", str(tmp_path / "w.pt")]):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert "state_dict" in err and "internal error" not in err, err


def test_a_crop_that_infer_would_refuse_is_refused_at_export(trained, tmp_path, capsys):
    """--crop-pct 0.001 makes the resize 16,000 pixels: export wrote it, infer refused the model."""
    src, _ = trained
    model = tmp_path / "m.onnx"
    capsys.readouterr()
    assert main(["export", str(src), "--exporter", "torchscript", "--crop-pct", "0.001", "-o", str(model)]) == 2
    assert "--crop-pct" in capsys.readouterr().err and not model.exists()


def test_a_plain_pickle_is_one_line_without_torchs_warning(trained, tmp_path, capsys):
    """torch warned about the pickle protocol before the refusal, on stderr, in both commands."""
    import pickle
    import warnings

    src, _ = trained
    plain = tmp_path / "plain.pkl"
    plain.write_bytes(pickle.dumps({"a": 1}, protocol=4))
    capsys.readouterr()
    for argv in (["export", str(src), "--weights", str(plain), "-o", str(tmp_path / "m.onnx")],
                 ["convert-weights", "--from", "cadene", str(plain), "--network", str(src), "-o", str(tmp_path / "w.pt")]):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            assert main(argv) == 2
        assert not [w for w in seen if "pickle protocol" in str(w.message)], argv
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1, err
