"""Reference oracle for the DARTS skeleton: build a network with NNI 3.0's hub and save its outputs.

Runs inside .venv-nni (scripts/nni_env.sh), never in the project's test venv, and downloads nothing.

    python scripts/nni_reference.py darts-v2 OUT.pt [SPEC.json OUT.pt ...]

`darts-v2` builds `nni.nas.hub.pytorch.DARTS.load_searched_model('darts-v2', pretrained=False)`.
A SPEC.json gives a genotype in DARTS' numbering (input 0 = the cell input two back, 1 = the
previous cell's output, k >= 2 = node k) and NNI op names, built with NNI's NDS model space:
    {"normal": [["sep_conv_3x3", 0], ...], "reduce": [...], "merge_op": "all" | "loose_end",
     "width": 36, "num_cells": 20, "dataset": "cifar" | "imagenet", "image": 32, "auxiliary": false}
Several (model, OUT) pairs may be given, to pay NNI's import time once. Every BatchNorm gets
random affine parameters and statistics measured on random batches (seed 0), so that a comparison
notices a misplaced BN; the model then runs in eval mode on a fixed random batch (seed 1).
OUT.pt holds state_dict, input, logits, params (all) and params_no_aux.
"""
import json
import sys
import warnings

import torch

warnings.filterwarnings("ignore")


def _arch(spec: dict) -> dict:
    """NNI's frozen-sample dict for a genotype: '<label>/op_<node>_<k>' and '<label>/input_<node>_<k>'."""
    arch = {}
    for label, key in (("normal", "normal"), ("reduce", "reduce")):
        pairs = spec[key]
        for j, (op, inp) in enumerate(pairs):
            node, k = 2 + j // 2, j % 2
            arch[f"{label}/op_{node}_{k}"] = op
            arch[f"{label}/input_{node}_{k}"] = [int(inp)]
    return arch


def build(which: str) -> tuple[torch.nn.Module, int]:
    """The NNI module and its input image size."""
    from nni.nas.hub.pytorch import DARTS
    from nni.nas.hub.pytorch.nasnet import NDS

    if which == "darts-v2":
        return DARTS.load_searched_model("darts-v2", pretrained=False), 32
    with open(which) as f:
        spec = json.load(f)
    ops = sorted({op for key in ("normal", "reduce") for op, _ in spec[key]})
    nodes = len(spec["normal"]) // 2
    factory = NDS.frozen_factory(_arch(spec))
    model = factory(op_candidates=ops, merge_op=spec["merge_op"], num_nodes_per_cell=nodes,
                    width=spec["width"], num_cells=spec["num_cells"], dataset=spec["dataset"],
                    auxiliary_loss=bool(spec.get("auxiliary", False)), drop_path_prob=0.0)
    return model, int(spec.get("image", 32 if spec["dataset"] == "cifar" else 224))


def randomize_bn(model: torch.nn.Module, image: int, seed: int = 0) -> None:
    """Random BN affine parameters, then running statistics measured on random batches (so that
    activations keep their scale through 20 cells and the logits depend on the input)."""
    g = torch.Generator().manual_seed(seed)
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    for m in bns:
        n = m.num_features
        if m.affine:
            m.weight.data.copy_(torch.rand(n, generator=g) * 0.5 + 0.75)
            m.bias.data.copy_(torch.rand(n, generator=g) * 0.2 - 0.1)
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the calibration batches
    model.train()
    with torch.no_grad():
        for _ in range(2):
            model(torch.randn(8, 3, image, image, generator=g))
    for m in bns:
        m.momentum = 0.1


def main(which: str, out: str) -> None:
    torch.manual_seed(0)
    model, image = build(which)
    randomize_bn(model, image)
    model.eval()
    x = torch.randn(2, 3, image, image, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        logits = model(x)
    params = sum(p.numel() for p in model.parameters())
    no_aux = sum(p.numel() for k, p in model.named_parameters() if not k.startswith("auxiliary_head."))
    torch.save({"state_dict": model.state_dict(), "input": x, "logits": logits,
                "params": params, "params_no_aux": no_aux}, out)
    print(json.dumps({"params": params, "params_no_aux": no_aux, "logits_shape": list(logits.shape)}))


if __name__ == "__main__":
    args = sys.argv[1:]
    if not args or len(args) % 2:
        sys.exit(__doc__)
    for which, out in zip(args[::2], args[1::2]):
        main(which, out)
