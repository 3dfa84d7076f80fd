"""Recipes by name with every value overridable, and the transfer step on a real image folder:
PNG files decoded by DataLoader workers, the nasnet-imagenet recipe (RMSProp, exponential decay,
label smoothing, EMA), the folder's class names in the weights and the exported model card."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from nasdsl.cli.dispatch import main
from nasdsl_search.recipes import RECIPES
from nasdsl_search.train_cli import train_config
from nasdsl_search.trainer import TrainConfig
from tests.test_train_cli import NAS
from tests.test_train_export_card import card_of


def test_recipes_and_overrides():
    cifar = train_config({"recipe": None})
    assert cifar == TrainConfig(epochs=10)  # what `nasdsl train` always did, and children's defaults
    imnet = train_config({"recipe": "nasnet-imagenet"})
    assert (imnet.optimizer, imnet.rmsprop_decay, imnet.rmsprop_eps, imnet.momentum) == ("rmsprop", 0.9, 1.0, 0.9)
    assert (imnet.schedule, imnet.lr_decay, imnet.lr_decay_epochs) == ("exponential", 0.97, 2.4)
    assert imnet.lr == pytest.approx(0.04 / 32 * imnet.batch_size)  # TF-slim's Mobile notes: 0.04 per 32 images
    assert (imnet.label_smoothing, imnet.aux_weight, imnet.ema_decay, imnet.grad_clip) == (0.1, 0.4, 0.9999, 10.0)
    assert (imnet.weight_decay, imnet.weight_decay_on, cifar.weight_decay_on) == (4e-5, "weights", "all")
    assert imnet.bn_momentum == pytest.approx(1 - 0.9997) and cifar.bn_momentum == 0  # TF-slim's batch_norm_decay
    assert RECIPES["nasnet-imagenet"].network["dropout_keep"] == 0.5
    assert RECIPES["cifar"].network == {"aux_head": True, "drop_path_keep": 0.6, "dropout_keep": 1.0}
    mixed = train_config({"recipe": "nasnet-imagenet", "lr_decay": 0.5, "optimizer": "sgd", "ema_decay": 0.0})
    assert (mixed.lr_decay, mixed.optimizer, mixed.ema_decay, mixed.label_smoothing) == (0.5, "sgd", 0.0, 0.1)


@pytest.mark.parametrize("declared, recipe, flag, want", [
    ("drop_path_keep = 0.8", None, None, 0.8),  # the network's own (a zoo network's: as published)
    ("", None, None, 0.6),  # the recipe's, where the network says nothing
    ("drop_path_keep = 0.8", None, 0.5, 0.5),  # the flag over both
    ("", "nasnet-imagenet", None, None),  # this recipe leaves it to the network: its skeleton's default
])
def test_drop_path_is_the_flags_else_the_networks_else_the_recipes(tmp_path, declared, recipe, flag, want):
    """The cifar recipe's keep 0.6 and dropout 1.0 overrode what a network declares (darts_v2_cifar
    trained at 0.6, not DARTS's 0.8), while its own aux_head won: now all three are the network's own
    unless a flag says otherwise."""
    from nasdsl_search.train_cli import _build, resolve

    src = tmp_path / "net.nas"
    src.write_text(NAS.replace("drop_path_keep = 0.8", declared))
    settings = {"target": str(src), "dataset": "digits", "recipe": recipe, "drop_path_keep": flag}
    overrides = _build({**settings, "resolved": resolve(settings)})[5]
    assert overrides.get("drop_path_keep") == want
    assert overrides.get("dropout_keep") == (0.5 if recipe else 1.0)


def _folder(root):
    """train/ and val/ with two classes of 40x40 PNGs that differ in colour."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for split, n in (("train", 12), ("val", 4)):
        for label, colour in (("cat", (200, 60, 60)), ("dog", (60, 60, 200))):
            d = root / split / label
            d.mkdir(parents=True)
            for i in range(n):
                px = np.clip(np.array(colour) + rng.normal(0, 30, (40, 40, 3)), 0, 255).astype(np.uint8)
                Image.fromarray(px).save(d / f"{i}.png")


@pytest.mark.slow
def test_transfer_to_a_streamed_image_folder_with_the_nasnet_imagenet_recipe(tmp_path, capsys):
    _folder(tmp_path / "pets")
    src = tmp_path / "small.nas"
    src.write_text(NAS)
    weights = tmp_path / "pets.pt"
    assert main(["train", str(src), "--dataset", f"imagefolder:{tmp_path / 'pets'}", "--image", "32", "--stream",
                 "--workers", "1", "--recipe", "nasnet-imagenet", "--epochs", "2", "--batch-size", "8",
                 "--threads", "1", "--device", "cpu", "--out", str(tmp_path / "run"), "-o", str(weights)]) == 0
    out = capsys.readouterr().out
    assert "recipe nasnet-imagenet (rmsprop, exponential" in out and "24 train, 8 held out" in out
    assert "epoch 2/2" in out and "with the EMA weights" in out
    saved = torch.load(weights, weights_only=True)
    assert saved["ema"] is True and saved["card"]["labels"] == ["cat", "dog"] and saved["card"]["image"] == 32
    ckpt = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    assert ckpt["trainer"]["ema"] is not None and ckpt["trainer"]["config"]["optimizer"] == "rmsprop"
    model = tmp_path / "pets.onnx"
    assert main(["export", str(src), "--weights", str(weights), "--exporter", "torchscript", "-o", str(model)]) == 0
    card = card_of(model)
    assert card.labels == ("cat", "dog") and card.preprocess.image == 32
