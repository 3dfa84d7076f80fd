"""`nasdsl infer model.onnx IMAGE...`: top-K classes per image with onnxruntime (no torch import)."""
from __future__ import annotations

import argparse

from ..infer import PROVIDERS, Classifier


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", metavar="model.onnx", help="a model written by `nasdsl export`")
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image files (anything Pillow reads)")
    p.add_argument("--top", type=int, default=5, help="classes to print per image (default: 5)")
    p.add_argument("--provider", choices=PROVIDERS, default="auto",
                   help="auto: CUDA when onnxruntime-gpu and a GPU are present, else CPU")
    p.add_argument("--batch", type=int, default=8, help="images per onnxruntime call (default: 8)")


def run(args) -> int:
    clf = Classifier(args.model, provider=args.provider)
    for pred in clf.classify(args.images, top=args.top, batch=args.batch):
        print(f"{pred.image}:")
        for index, label, prob in pred.top:
            print(f"  {prob:8.4f}  {label}  [{index}]")
    return 0
