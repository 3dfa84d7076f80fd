"""Training recipes by name (`nasdsl train --recipe NAME`); every value can be overridden by a flag.

- cifar: what `nasdsl train` and search children have always done, a mix of sources: SGD momentum
  0.9 with lr 0.05 at batch 64 (TF-slim's NASNet-CIFAR 0.025 per 32), cosine to 0 per step, weight
  decay 3e-4 on every parameter and gradient-norm clip 5 (DARTS's; TF-slim's decay is 5e-4), aux
  head weight 0.4, ScheduledDropPath keep 0.6 where the network declares none (NASNet-A CIFAR's).
- nasnet-imagenet: the paper's ImageNet setting (REFERENCE.md, SEARCH_REFERENCE.md): RMSProp
  decay 0.9 / epsilon 1.0 with TensorFlow's semantics (momentum 0.9), the learning rate x0.97 every
  2.4 epochs, label smoothing 0.1, aux weight 0.4, dropout 0.5 before the classifier (keep 0.5),
  parameter EMA 0.9999 for evaluation, gradient-norm clip 10; weight decay 4e-5 as TF-slim's
  NASNet-Mobile arg scope, on the conv and linear weights alone as its l2 regularizer (not batch
  norm nor biases; added after the clipping here, inside it in TF); batch-norm decay 0.9997 as that
  arg scope (PyTorch momentum 0.0003; the layers' own is 0.1). The initial learning rate is
  TF-slim's training notes for NASNet-Mobile (nasnet.py: 0.04 per replica of 32 images, 50
  replicas): 0.16 at batch 128; scale it with the batch (--lr). (Large's notes, 0.015 per 16, give 0.12.) With epsilon 1.0 the RMSProp denominator
  is at least 1, so this behaves like momentum SGD: the 0.016-per-256 of epsilon-1e-3 recipes
  (MnasNet/EfficientNet), which this recipe used before 2026-12-06, was 20x too small. Drop path:
  the network's own setting.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .trainer import TrainConfig


@dataclass(frozen=True)
class Recipe:
    about: str
    train: TrainConfig
    # NetworkSpec values where the network declares none and no flag is given: aux_head,
    # drop_path_keep, dropout_keep
    network: dict = field(default_factory=dict)


RECIPES: dict[str, Recipe] = {
    "cifar": Recipe(
        "SGD momentum 0.9, cosine, wd 3e-4, aux 0.4, drop path keep 0.6, clip 5",
        TrainConfig(epochs=10, batch_size=64, lr=0.05, momentum=0.9, weight_decay=3e-4, grad_clip=5.0,
                    aux_weight=0.4),
        {"aux_head": True, "drop_path_keep": 0.6, "dropout_keep": 1.0}),
    "nasnet-imagenet": Recipe(
        "RMSProp 0.9/eps 1, lr x0.97 every 2.4 epochs, label smoothing 0.1, aux 0.4, dropout 0.5, EMA 0.9999, clip 10",
        TrainConfig(epochs=300, batch_size=128, lr=0.16, momentum=0.9, weight_decay=4e-5, weight_decay_on="weights",
                    grad_clip=10.0,
                    aux_weight=0.4, optimizer="rmsprop", rmsprop_decay=0.9, rmsprop_eps=1.0,
                    schedule="exponential", lr_decay=0.97, lr_decay_epochs=2.4, label_smoothing=0.1,
                    ema_decay=0.9999, bn_momentum=0.0003),
        {"aux_head": True, "drop_path_keep": None, "dropout_keep": 0.5}),
}
