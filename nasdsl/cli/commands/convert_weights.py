"""`nasdsl convert-weights --from cadene|timm SRC.pth --network NAME -o OUT.pt`: reference weights -> ours."""
from __future__ import annotations

import argparse

from ...errors import Diagnostic, NasError
from ...lang.load import input_files
from ...lang.source import check_output
from ...weights.reference import SOURCES


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("src", metavar="SRC.pth", help="the reference state_dict (torch.save of model.state_dict())")
    p.add_argument("--from", dest="source", choices=SOURCES, required=True, help="where the weights come from")
    p.add_argument("--network", required=True, metavar="NAME|FILE",
                   help="zoo network name, or a .nas file (with --name to pick a network in it)")
    p.add_argument("--name", default=None, help="the network inside FILE (default: its first)")
    p.add_argument("-o", "--output", required=True, metavar="OUT.pt", help="where to write our state_dict")


def run(args) -> int:
    import torch

    from ...codegen.generate import compile as compile_network
    from ...weights.files import non_finite, read_state_dict
    from ...weights.reference import convert

    check_output(args.output, inputs=[args.src, *input_files(args.network)])
    reference, _ = read_state_dict(args.src)  # a training checkpoint's card is not carried over
    ours = compile_network(args.network, args.name, aux_head=False).state_dict()
    try:
        converted = convert(reference, ours, args.source)
    except (KeyError, ValueError, IndexError, TypeError) as e:  # names that do not follow the source's scheme
        raise NasError(Diagnostic(f"these do not look like {args.source} weights ({type(e).__name__}: {e}); "
                                  "check --from", args.src)) from None
    if problem := non_finite(converted):
        raise NasError(Diagnostic(problem, args.src))
    torch.save(converted, args.output)
    n = sum(v.numel() for k, v in converted.items() if not k.endswith("num_batches_tracked"))
    print(f"{args.output}: {len(converted)} tensors ({n:,} values) from {args.source} {args.src}")
    return 0
