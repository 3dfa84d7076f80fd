"""`nasdsl infer model.onnx IMAGE|FOLDER...`: top-K classes per image with onnxruntime (no torch
import). A file that cannot be read is reported and skipped, the others are answered, and the
exit status is 2 at the end; `--format json` prints {"predictions": [...], "errors": [...]}."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ...deploy.infer import PROVIDERS, Classifier, quiet_image_warnings
from ...errors import NasError, print_error

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pbm", ".ico"}


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", metavar="model.onnx", help="a model written by `nasdsl export`")
    p.add_argument("images", nargs="+", metavar="IMAGE|FOLDER",
                   help="image files (anything Pillow reads), or folders: their image files, sorted")
    p.add_argument("--top", type=int, default=5, help="classes to print per image (default: 5)")
    p.add_argument("--provider", choices=PROVIDERS, default="auto",
                   help="auto: CUDA when onnxruntime-gpu and a GPU are present, else CPU")
    p.add_argument("--batch", type=int, default=8, help="images per onnxruntime call (default: 8)")
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="text (default) or json: {\"predictions\": [{image, top: [{index, label, probability}]}], "
                        "\"errors\": [{image, error}]}")


def expand(targets: list[str]) -> list[str]:
    """Files as given; a folder becomes its image files (by suffix, recursively, sorted)."""
    out: list[str] = []
    for t in targets:
        p = Path(t)
        if p.is_dir():
            found = sorted(str(f) for f in p.rglob("*") if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                raise NasError(f"{t}: a folder with no image files ({', '.join(sorted(IMAGE_SUFFIXES))})")
            out += found
        else:
            out.append(t)
    return out


def run(args) -> int:
    quiet_image_warnings()
    images = expand(args.images)
    clf = Classifier(args.model, provider=args.provider)
    errors: list[dict] = []

    def skip(image: str, e: NasError) -> None:
        errors.append({"image": image, "error": e.render()})
        if args.format == "text":
            print_error(e, args.debug)

    predictions = []
    for pred in clf.classify(images, top=args.top, batch=args.batch, on_error=skip):
        if args.format == "json":
            predictions.append({"image": pred.image, "top": [{"index": i, "label": label, "probability": prob}
                                                             for i, label, prob in pred.top]})
            continue
        print(f"{pred.image}:")
        for index, label, prob in pred.top:
            print(f"  {prob:8.4f}  {label}  [{index}]")
        sys.stdout.flush()
    if args.format == "json":
        json.dump({"predictions": predictions, "errors": errors}, sys.stdout, indent=1, allow_nan=False)
        sys.stdout.write("\n")
    if errors:
        if len(images) > 1 and args.format == "text":
            print(f"nasdsl infer: {len(errors)} of {len(images)} images could not be read", file=sys.stderr)
        return 2
    return 0
