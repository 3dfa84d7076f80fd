"""ONNX export of a compiled network: eval-mode graph, dynamic batch, self-describing metadata.

Exporter choice (torch 2.14): the torch.export-based ("dynamo") exporter is the default. It is
torch's supported path since 2.9; the TorchScript-based exporter still works but warns that it is
deprecated and will be removed. Both give the same numbers (max abs diff ~6e-8 on NASNet-A Mobile)
and, after onnxruntime's own graph optimizations, the same speed (see benchmarks/bench_onnx.py).
The dynamo exporter is slower to run (about 17 s vs 2 s for NASNet-A Mobile on 2 CPU cores) and
emits opset 18 or later, so `exporter="torchscript"` stays available for opset 17 and quick tests.
"""
from __future__ import annotations

import contextlib
import copy
import io
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..errors import fail
from ..weights.files import non_finite, read_state_dict
from .labels import default_labels, read_labels
from .modelcard import ModelCard, Preprocess, default_preprocess, save_model, training_card_problem

EXPORTERS = ("dynamo", "torchscript")
DEFAULT_OPSET = 18
MIN_OPSET = 17
INPUT_NAME = "image"
OUTPUT_NAME = "logits"
TOLERANCE = 1e-4
# Export-time graph passes run by default, in order (nasdsl/deploy/graph_passes.py)
DEFAULT_GRAPH_PASSES = ("slice-into-conv", "pad-channels")


@dataclass(frozen=True)
class Verification:
    """onnxruntime vs PyTorch on the same random batch."""

    batch: int
    max_abs_diff: float
    top1_agreement: float  # fraction of rows whose argmax matches
    tolerance: float = TOLERANCE

    @property
    def ok(self) -> bool:
        return self.max_abs_diff <= self.tolerance

    def summary(self) -> str:
        verdict = "ok" if self.ok else f"FAILED (tolerance {self.tolerance:g})"
        return (f"verify: batch {self.batch}, max abs diff {self.max_abs_diff:.3g}, "
                f"top-1 agreement {self.top1_agreement:.0%} -> {verdict}")


def prepare(target: str, network: str | None = None, weights: str | Path | None = None,
            image: int | None = None, classes: int | None = None, labels: str | Path | None = None,
            crop_pct: float | None = None, overrides: dict | None = None) -> tuple[nn.Module, ModelCard]:
    """Compile a network from a .nas file or zoo name for export: eval mode, no aux head, no drop
    path, static TF 'SAME' padding for `image`. Optionally load weights; describe it in a ModelCard.
    A zoo network name picks that network; a file of cells alone gets the CIFAR network.
    `overrides`: further NetworkSpec fields to replace (e.g. n=1 for quick tests)."""
    from ..codegen.generate import compile as compile_network
    from ..lang.resolve import resolve

    program, spec = resolve(target, network, command="nasdsl export")
    network = spec.name if spec.name in program.networks else None
    state, trained = read_weights(weights) if weights is not None else (None, None)
    # a `nasdsl train` weights file says what training saw: image size, classes, normalization, labels
    size = image if image is not None else int(trained["image"]) if trained else spec.image
    num_classes = classes if classes is not None else len(trained["labels"]) if trained else spec.classes
    if size < 1 or num_classes < 1:
        raise fail("nasdsl", f"image size and classes must be positive (got {size}, {num_classes})")
    fixed = {"image": size, "classes": num_classes, "aux_head": False, "drop_path_keep": 1.0}
    module = compile_network(program, network, overrides={**(overrides or {}), **fixed})
    if state is not None:
        _load_state(module, state, weights)
    module.eval()
    sources = []  # the modules defining the network and its cells, each once
    for item in (spec.name, spec.normal, spec.reduction, spec.stem_cell):
        text = program.source_of(item) if item in program.origin else None
        if text is not None and text not in sources:
            sources.append(text)
    if labels:
        names = read_labels(labels, num_classes)
    elif trained and len(trained["labels"]) == num_classes:
        names = list(trained["labels"])
    else:
        names = default_labels(num_classes)
    preprocess = default_preprocess(spec.stem, size, crop_pct)
    if trained:
        preprocess = trained_preprocess(trained, size, crop_pct, preprocess)
    card = ModelCard(
        network=spec.name, source="\n".join(sources), classes=num_classes, labels=tuple(names),
        preprocess=preprocess, weights=describe_weights(weights, trained),
    )
    return module, card


RANDOM_WEIGHTS = "random (exported without --weights: untrained, predictions are meaningless)"


def describe_weights(path: str | Path | None, trained: dict | None) -> str:
    """The model card's `weights` entry: random, trained by `nasdsl train` (on what), or a file."""
    if path is None:
        return RANDOM_WEIGHTS
    if trained:
        return f"trained on {trained.get('dataset', '?')} at {trained['image']}x{trained['image']} ({Path(path).name})"
    return f"loaded from {Path(path).name}"


def trained_preprocess(trained: dict, size: int, crop_pct: float | None, fallback: Preprocess) -> Preprocess:
    """The eval preprocessing training used (its normalization always; its resize when the size is
    the trained one and no --crop-pct overrides it)."""
    mean, std = tuple(float(v) for v in trained["mean"]), tuple(float(v) for v in trained["std"])
    if size == int(trained["image"]) and crop_pct is None:
        resize = int(trained.get("resize") or size)
        interpolation = trained.get("interpolation") or fallback.interpolation
        return Preprocess(image=size, resize=resize, mean=mean, std=std, interpolation=interpolation)
    return replace(fallback, mean=mean, std=std)


def read_weights(path: str | Path) -> tuple[dict, dict | None]:
    """(state_dict, the training card or None) from a weights file: a bare state_dict (torch.save,
    `nasdsl convert-weights`) or a checkpoint with "state_dict" and "card" (`nasdsl train`)."""
    state, rest = read_state_dict(path)
    card = rest.get("card")
    if card is not None and (problem := training_card_problem(card)):
        raise fail(path, f"its training card is damaged: {problem}")
    return state, card


def load_weights(module: nn.Module, path: str | Path) -> None:
    """Load a saved state_dict (as written by `torch.save`, `nasdsl convert-weights` or
    `nasdsl train`) strictly. Auxiliary-head tensors are skipped: the exported graph has no aux head."""
    _load_state(module, read_weights(path)[0], path)


def _load_state(module: nn.Module, state: dict, path: str | Path) -> None:
    own = module.state_dict()
    state = {k: v for k, v in state.items() if k in own or "aux" not in k}
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    shapes = [f"{k} {tuple(state[k].shape)} vs ours {tuple(own[k].shape)}"
              for k in own if k in state and state[k].shape != own[k].shape]
    problems = []
    for what, keys in (("missing", missing), ("unexpected", unexpected), ("shape mismatch", shapes)):
        if keys:
            more = f" (+{len(keys) - 5} more)" if len(keys) > 5 else ""
            problems.append(f"{what}: {', '.join(keys[:5])}{more}")
    if problems:
        hint = " (a different class count? try --classes)" if shapes and len(shapes) <= 2 else ""
        raise fail(path, "weights do not fit this network; " + "; ".join(problems) + hint)
    if problem := non_finite({k: state[k] for k in own}):
        raise fail(path, problem)
    module.load_state_dict(state, strict=True)


def export_onnx(module: nn.Module, card: ModelCard, out: str | Path, opset: int = DEFAULT_OPSET,
                exporter: str = "dynamo", graph_passes: tuple[str, ...] = DEFAULT_GRAPH_PASSES) -> Path:
    """Export `module` (eval mode) to `out` with a dynamic batch axis and the card as
    metadata_props, after the export-time `graph_passes` (see graph_passes.py; the card's exporter
    line names those that changed the graph); the file passes onnx.checker. Returns the path."""
    from .graph_passes import GRAPH_PASSES, run_passes, unknown_pass

    unknown = unknown_pass(graph_passes)
    if unknown:
        raise fail("nasdsl", f"unknown graph pass {unknown!r} (known: {', '.join(GRAPH_PASSES)})")

    if exporter not in EXPORTERS:
        raise fail("nasdsl", f"unknown exporter {exporter!r} (known: {', '.join(EXPORTERS)})")
    if opset < MIN_OPSET:
        raise fail("nasdsl", f"opset {opset} is too old; use {MIN_OPSET} or later")
    if exporter == "dynamo" and opset < 18:
        raise fail("nasdsl", f"the dynamo exporter emits opset 18 or later; for opset {opset} "
                       "use --exporter torchscript")
    module.eval()
    s = card.preprocess.image
    example = torch.randn(2, 3, s, s)  # batch 2: a batch of 1 could be specialized away
    _check_forward(module, example, card)
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")  # exporter chatter (deprecations, version notes)
        try:
            proto = onnx_proto(fused(module), example, opset, exporter)
        except Exception as e:  # noqa: BLE001 (torch.export raises many types; name the first line)
            reason = (str(e).strip().splitlines() or [e.__class__.__name__])[0]
            raise fail(card.network, f"ONNX export ({exporter}) failed: {reason}") from None
    version = next(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx"))
    if version != opset:
        raise fail("nasdsl", f"asked for opset {opset}, the {exporter} exporter produced {version}")
    applied = run_passes(proto, graph_passes)
    card = replace(card, exporter=_exporter_name(exporter, opset) +
                   (f"; graph passes: {', '.join(applied)}" if applied else ""))
    return save_model(proto, card.to_props(), f"nasdsl network {card.network}", out, check=True)


def fused(module: nn.Module) -> nn.Module:
    """A copy of a compiled network with every BN folded into its convolution (`fuse()`), which
    the graph optimizers cannot always do themselves (a BN after the concat of a factorized
    reduction); `module` itself stays as it was, so `verify` compares against the unfused one.
    The copy runs on one thread (`lanes(False)`, for networks compiled with the lanes pass): an
    exporter traces one forward."""
    if not callable(getattr(module, "fuse", None)):
        return module
    out = copy.deepcopy(module).fuse()
    if callable(getattr(out, "lanes", None)):
        out.lanes(False)
    return out


def _exporter_name(kind: str, opset: int) -> str:
    return f"torch {torch.__version__} {kind} exporter, opset {opset}"


def onnx_proto(module: nn.Module, example: torch.Tensor, opset: int, exporter: str = "dynamo",
               optimize: bool = True):
    """The bare ModelProto from torch.onnx (batch axis dynamic, no metadata). `optimize` runs the
    dynamo exporter's onnxscript optimizer (constant folding, dead code); the TorchScript exporter
    always folds constants, BN into the preceding conv included."""
    import onnx

    if exporter == "dynamo":
        program = torch.onnx.export(
            module, (example,), dynamo=True, opset_version=opset, input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME], dynamic_shapes=({0: torch.export.Dim("batch")},),
            external_data=False, optimize=optimize, verbose=False)
        return program.model_proto
    buf = io.BytesIO()
    torch.onnx.export(
        module, (example,), buf, dynamo=False, opset_version=opset, input_names=[INPUT_NAME],
        output_names=[OUTPUT_NAME], dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
        do_constant_folding=True)
    return onnx.load_from_string(buf.getvalue())


def _check_forward(module: nn.Module, example: torch.Tensor, card: ModelCard) -> None:
    """Run the network once so that a bad image size or class count is a clear error, not an
    exporter traceback."""
    try:
        with torch.no_grad():
            y = module(example)
    except RuntimeError as e:
        reason = (str(e).strip().splitlines() or ["error"])[0]
        raise fail("nasdsl", f"{card.network} cannot take a {card.preprocess.image}x{card.preprocess.image} "
                       f"input: {reason}") from None
    if not isinstance(y, torch.Tensor) or tuple(y.shape) != (example.shape[0], card.classes):
        shape = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
        raise fail(card.network, f"expected logits of shape (N, {card.classes}) in eval mode, "
                       f"got {shape}")


def verify(module: nn.Module, model: str | Path, batch: int = 3, seed: int = 0,
           provider: str = "cpu", tolerance: float = TOLERANCE) -> Verification:
    """Compare onnxruntime (reading the exported file, metadata included) with PyTorch eager on a
    random normal batch; batch 3 differs from the export example, so the dynamic axis is exercised."""
    from .infer import Classifier

    clf = Classifier(model, provider=provider)
    s = clf.card.preprocess.image
    x = torch.randn(batch, 3, s, s, generator=torch.Generator().manual_seed(seed))
    module.eval()
    with torch.no_grad():
        ref = module(x).numpy()
    got = clf.logits(x.numpy())
    diff = float(np.abs(got - ref).max())
    agree = float(np.mean(got.argmax(1) == ref.argmax(1)))
    return Verification(batch=batch, max_abs_diff=diff, top1_agreement=agree, tolerance=tolerance)
