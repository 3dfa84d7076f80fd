"""`nasdsl export NAME|FILE -o model.onnx`: compile a network and write a self-describing .onnx."""
from __future__ import annotations

import argparse

from ..modelcard import fail


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("target", metavar="NAME|FILE", help="a zoo name or a .nas file")
    p.add_argument("--network", help="the network to export (default: the file's first network)")
    p.add_argument("--weights", metavar="W.pt", help="a state_dict to load (from `nasdsl train`, whose file also "
                   "sets image size, classes, normalization and labels, or from convert-weights); "
                   "without it the weights are random")
    p.add_argument("--image", type=int, help="input image size (default: the network's `image`)")
    p.add_argument("--classes", type=int, help="number of classes (default: the network's `classes`)")
    p.add_argument("--labels", metavar="FILE", help="class names, one per line (default: ImageNet-1k "
                   "for 1000/1001 classes, CIFAR-10 for 10)")
    p.add_argument("--crop-pct", type=float, help="center-crop fraction at inference (default: 0.875 "
                   "for ImageNet stems, 1.0 for CIFAR)")
    p.add_argument("--opset", type=int, default=18, help="ONNX opset, 17 or later (default: 18)")
    p.add_argument("--exporter", choices=("dynamo", "torchscript"), default="dynamo",
                   help="torch.onnx exporter (default: dynamo; torchscript is needed for opset 17)")
    p.add_argument("-o", "--output", required=True, metavar="model.onnx", help="where to write")
    p.add_argument("--verify", action="store_true",
                   help="compare onnxruntime with PyTorch on random inputs (max abs diff <= 1e-4)")


def run(args) -> int:
    try:
        import onnx  # noqa: F401  (export needs onnx; onnxruntime only for --verify)
    except ImportError:
        raise fail("nasdsl", "exporting needs the onnx package: pip install 'nasdsl[cpu]'") from None
    from ..export import export_onnx, prepare, verify

    module, card = prepare(args.target, network=args.network, weights=args.weights, image=args.image,
                           classes=args.classes, labels=args.labels, crop_pct=args.crop_pct)
    path = export_onnx(module, card, args.output, opset=args.opset, exporter=args.exporter)
    size_mb = path.stat().st_size / 1e6
    s = card.preprocess.image
    print(f"wrote {path} ({card.network}, {s}x{s}, {card.classes} classes, opset {args.opset}, "
          f"{args.exporter} exporter, {size_mb:.1f} MB)")
    print(f"weights: {card.weights}")
    if args.verify:
        result = verify(module, path)
        print(result.summary())
        return 0 if result.ok else 1
    return 0
