"""`nasdsl export NAME|FILE -o model.onnx`: compile a network and write a self-describing .onnx."""
from __future__ import annotations

import argparse
import os
import sys

from ...errors import fail


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
    p.add_argument("--graph-passes", metavar="LIST", default=None,
                   help="export-time graph passes, comma-separated, or 'none' (default: "
                   "slice-into-conv,pad-channels: same outputs, faster under onnxruntime)")
    p.add_argument("-o", "--output", required=True, metavar="model.onnx", help="where to write")
    p.add_argument("--verify", action="store_true",
                   help="compare onnxruntime with PyTorch on random inputs (max abs diff <= 1e-4); with "
                   "--quantize also the int8 model with the float one on held-out images of --calibrate")
    q = p.add_argument_group("int8 (onnxruntime static QDQ quantization, per-channel weights)")
    q.add_argument("--quantize", choices=("int8",), help="write an int8 model to -o (needs --calibrate)")
    q.add_argument("--calibrate", metavar="DATASET", help="calibration images: any data set `train` and "
                   "`search` accept (digits, npz:PATH, cifar10:PATH, cifar100:PATH, imagefolder:PATH)")
    q.add_argument("--calibrate-size", type=int, default=200, metavar="N",
                   help="calibration images, from the data set's training split (default: 200)")
    q.add_argument("--calibrate-method", choices=("minmax", "entropy", "percentile"), default="minmax",
                   help="activation range estimation (default: minmax)")


def run(args) -> int:
    from ...lang.load import input_files
    from ...lang.source import check_output

    # npz:PATH, cifar10:PATH, ...: the file, or the folder -o may not lie in (~ expanded, as data sets do)
    calibration = os.path.expanduser(args.calibrate.partition(":")[2]) if args.calibrate else None
    check_output(args.output, inputs=[*input_files(args.target), args.weights, args.labels, calibration],
                 folders=[calibration])  # first
    try:
        import onnx  # export needs onnx; onnxruntime only for --verify
    except ImportError:
        raise fail("nasdsl", "exporting needs the onnx package: pip install 'nasdsl[cpu]'") from None
    from ...deploy.export import export_onnx, prepare, verify

    args.graph_passes = _graph_passes(args.graph_passes)
    newest = onnx.defs.onnx_opset_version()
    if args.opset > newest:
        raise fail("nasdsl", f"opset {args.opset} is newer than this onnx package knows (up to {newest})")
    if args.quantize or args.calibrate:
        return _run_quantized(args)
    module, card = prepare(args.target, network=args.network, weights=args.weights, image=args.image,
                           classes=args.classes, labels=args.labels, crop_pct=args.crop_pct)
    _note_repeated_labels(args.labels, card.labels)
    path = export_onnx(module, card, args.output, opset=args.opset, exporter=args.exporter,
                       graph_passes=args.graph_passes)
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


def _graph_passes(text: str | None) -> tuple[str, ...]:
    """--graph-passes: None -> the default list; 'none' -> (); else the named passes, checked."""
    from ...deploy.export import DEFAULT_GRAPH_PASSES
    from ...deploy.graph_passes import GRAPH_PASSES, unknown_pass

    if text is None:
        return DEFAULT_GRAPH_PASSES
    if text.strip() == "none":
        return ()
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = unknown_pass(names)
    if unknown:
        raise fail("nasdsl", f"--graph-passes: unknown pass {unknown!r} (known: {', '.join(GRAPH_PASSES)}, or none)")
    if not names:
        raise fail("nasdsl", "--graph-passes is empty (name passes, or 'none')")
    return names


def _note_repeated_labels(path: str | None, names) -> None:
    """--labels naming several classes alike: allowed (ImageNet's own list repeats two), but said."""
    from ...deploy.labels import repeated

    twice = repeated(list(names)) if path else {}
    if twice:
        shown = ", ".join(f"{n!r} x{c}" for n, c in list(twice.items())[:5]) + (" ..." if len(twice) > 5 else "")
        print(f"{path}: note: names given to several classes ({shown}); their predictions will read alike",
              file=sys.stderr)


VERIFY_IMAGES = 256  # held-out images on which --verify compares the int8 model with the float one


def _run_quantized(args) -> int:
    """--quantize int8: export the float model to a temporary file, calibrate on --calibrate's
    training images (preprocessed as the card says), write the int8 model to -o; --verify also
    compares the two on held-out images of the same data set."""
    import tempfile
    from pathlib import Path

    from ...deploy.export import export_onnx, prepare, verify
    from ...deploy.quantize import compare, quantize_int8
    from .calibration import dataset_images

    if not args.quantize:
        raise fail("nasdsl", "--calibrate is for --quantize int8")
    if not args.calibrate:
        raise fail("nasdsl", "--quantize int8 needs --calibrate DATASET (e.g. digits, cifar10:PATH)")
    if args.calibrate_size < 1:
        raise fail("nasdsl", f"--calibrate-size must be positive, got {args.calibrate_size}")
    module, card = prepare(args.target, network=args.network, weights=args.weights, image=args.image,
                           classes=args.classes, labels=args.labels, crop_pct=args.crop_pct)
    _note_repeated_labels(args.labels, card.labels)
    calib, _, _ = dataset_images(args.calibrate, card.preprocess, args.calibrate_size, split="train")
    with tempfile.TemporaryDirectory(prefix="nasdsl-export-") as tmp:
        float_path = export_onnx(module, card, Path(tmp) / "float.onnx", opset=args.opset, exporter=args.exporter,
                                 graph_passes=args.graph_passes)
        record = quantize_int8(float_path, args.output, calib, dataset=args.calibrate, method=args.calibrate_method)
        path = Path(args.output)
        s = card.preprocess.image
        used = record["calibration"]["images"]  # the histogram methods take whole batches only
        of = f"{used} of {len(calib)}" if used != len(calib) else f"{used}"
        print(f"wrote {path} ({card.network}, {s}x{s}, {card.classes} classes, int8 QDQ, per-channel weights, "
              f"calibrated on {of} {args.calibrate} images, {path.stat().st_size / 1e6:.1f} MB; "
              f"float32: {float_path.stat().st_size / 1e6:.1f} MB)")
        if not args.verify:
            return 0
        result = verify(module, float_path)
        print(result.summary().replace("verify:", "verify float32:", 1))
        held, labels, names = dataset_images(args.calibrate, card.preprocess, VERIFY_IMAGES, split="val")
        same_classes = len(names) == card.classes
        agreement = compare(float_path, path, held, labels if same_classes else None)
        print(agreement.summary())
        return 0 if result.ok and agreement.ok else 1
