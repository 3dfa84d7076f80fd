"""`nasdsl train NAME|FILE --network N --dataset D --epochs E -o weights.pt`: train a compiled
network with its auxiliary head (loss weight 0.4) and ScheduledDropPath, and save a state_dict that
`nasdsl export --weights` loads (export it with the same --image and --classes).

Digits are 8x8; by default they are upsampled to 16x16 so that the aux head (which needs at least
5x5 after stage 2) fits the CIFAR skeleton.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from nasdsl.errors import NasError

from .trainer import TrainConfig, evaluate, train


def configure(parser: argparse.ArgumentParser) -> None:
    t = TrainConfig()
    parser.add_argument("target", metavar="NAME|FILE", help="a zoo name or a .nas file (e.g. a run's best.nas)")
    parser.add_argument("--network", help="the network to train (default: the file's first network)")
    parser.add_argument("--dataset", default="digits", help="digits (default) or cifar10:PATH")
    parser.add_argument("--image", type=int, help="resize images to this size (default: 16 for digits, else native)")
    parser.add_argument("--epochs", type=int, default=10, help="default 10")
    parser.add_argument("--batch-size", type=int, default=t.batch_size, help=f"default {t.batch_size}")
    parser.add_argument("--lr", type=float, default=t.lr, help=f"SGD, cosine schedule (default {t.lr})")
    parser.add_argument("--momentum", type=float, default=t.momentum, help=f"default {t.momentum}")
    parser.add_argument("--weight-decay", type=float, default=t.weight_decay, help=f"default {t.weight_decay}")
    parser.add_argument("--aux-weight", type=float, default=0.4, help="aux head loss weight (default 0.4)")
    parser.add_argument("--no-aux-head", action="store_true", help="train without the auxiliary head")
    parser.add_argument("--drop-path-keep", type=float, default=0.6,
                        help="ScheduledDropPath keep probability at the end of training (default 0.6)")
    parser.add_argument("--val-size", type=int, help="held-out images (default 500 digits, 5000 cifar10)")
    parser.add_argument("--train-size", type=int, help="use only this many training images")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, help="torch threads (default: all cores)")
    parser.add_argument("-o", "--output", required=True, metavar="weights.pt", help="where to save the state_dict")


def resize(x: np.ndarray, image: int) -> np.ndarray:
    """Bilinear resize of [N, C, H, W] float images to image x image."""
    import torch
    import torch.nn.functional as F

    if x.shape[-1] == image:
        return x
    return F.interpolate(torch.from_numpy(x), size=(image, image), mode="bilinear", align_corners=False).numpy()


def run(args: argparse.Namespace) -> int:
    if args.epochs < 1 or args.batch_size < 1 or args.lr <= 0:
        raise NasError("--epochs, --batch-size and --lr must be positive")
    if not 0 < args.drop_path_keep <= 1:
        raise NasError(f"--drop-path-keep must be in (0, 1], got {args.drop_path_keep}")
    out = Path(args.output)
    if out.parent and not out.parent.exists():
        raise NasError(f"{out.parent}: no such folder for -o")
    import torch

    from nasdsl.codegen import compile as compile_network
    from nasdsl.load import load

    from .data import load_dataset

    if args.threads:
        torch.set_num_threads(args.threads)
    data = load_dataset(args.dataset, args.val_size, args.train_size)
    image = args.image or (16 if args.dataset == "digits" else data.image)
    if image < 1:
        raise NasError(f"--image must be positive, got {image}")
    program = load(args.target)
    network = args.network
    if network is None and args.target in program.networks:
        network = args.target
    aux = not args.no_aux_head
    overrides = {"image": image, "classes": data.classes, "aux_head": aux, "drop_path_keep": args.drop_path_keep}
    torch.manual_seed(args.seed)
    try:
        model = compile_network(program, network, overrides=overrides)
    except NasError as e:
        if aux and "aux head" in str(e):
            raise NasError(f"{e}\n  (or train at a larger --image, or with --no-aux-head)") from None
        raise
    name = network or program.default_network()
    params = sum(p.numel() for p in model.parameters())
    x_train, x_val = resize(data.x_train, image), resize(data.x_val, image)
    print(f"training {name} ({params:,} parameters, aux head {'on' if aux else 'off'}, drop path keep "
          f"{args.drop_path_keep}) on {args.dataset} at {image}x{image}: {len(x_train)} train, {len(x_val)} held out")
    cfg = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, momentum=args.momentum,
                      weight_decay=args.weight_decay, aux_weight=args.aux_weight)
    start = time.perf_counter()

    def on_epoch(epoch: int, loss: float, seconds: float) -> None:
        left = seconds / (epoch + 1) * (args.epochs - epoch - 1)
        print(f"  epoch {epoch + 1}/{args.epochs}  loss {loss:.4f}  {seconds:.1f} s  (about {left:.0f} s left)",
              flush=True)

    result = train(model, x_train, data.y_train, x_val, data.y_val, cfg, seed=args.seed, on_epoch=on_epoch)
    print(f"held-out accuracy {result.accuracy:.4f} after {result.steps} steps ({time.perf_counter() - start:.1f} s)")
    if data.x_test is not None:
        print(f"test accuracy {evaluate(model, resize(data.x_test, image), data.y_test):.4f}")
    torch.save(model.state_dict(), out)
    print(f"wrote {out}: export it with  nasdsl export {args.target}"
          + (f" --network {name}" if args.network else "")
          + f" --weights {out} --image {image} --classes {data.classes} -o model.onnx")
    return 0
