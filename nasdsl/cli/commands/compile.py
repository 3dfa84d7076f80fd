"""`nasdsl compile NAME|FILE [--network N] -o model.py`: write the generated PyTorch module file
(`--supernet`: a space's supernet)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ...errors import NasError


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("target", metavar="NAME|FILE", help="a zoo network name or a .nas file")
    p.add_argument("--network", default=None, help="the network to compile (default: the file's first; "
                                                    "a file of cells alone gives a CIFAR network)")
    p.add_argument("--passes", default=None, metavar="A,B", help="optimization passes after shape, e.g. cse")
    p.add_argument("--supernet", action="store_true",
                   help="TARGET is a space: write its supernet (every child of the space, for one-shot search)")
    p.add_argument("--cells", type=int, default=1, help="--supernet: proxy normal cells per stage (default 1)")
    p.add_argument("--filters", type=int, default=8, help="--supernet: proxy F (default 8)")
    p.add_argument("--image", type=int, default=8, help="--supernet: input size (default 8)")
    p.add_argument("--classes", type=int, default=10, help="--supernet: classes (default 10)")
    p.add_argument("-o", "--output", default="-", metavar="model.py", help="output file ('-': stdout)")


def run(args) -> int:
    from ...codegen.generate import generate_source

    if args.supernet:
        from ...codegen.supernet import Proxy, supernet_source

        source = supernet_source(args.target, Proxy(args.cells, args.filters, args.image, args.classes))
    else:
        source = generate_source(args.target, args.network, passes=args.passes)
    if args.output == "-":
        sys.stdout.write(source)
        return 0
    out = Path(args.output)
    if out.suffix != ".py":
        raise NasError(f"{args.output}: the output must be a .py file")
    try:
        out.write_text(source, encoding="utf-8")
    except OSError as e:
        raise NasError(f"{args.output}: cannot write ({e.strerror})") from None
    print(f"wrote {out} ({len(source.splitlines())} lines)", file=sys.stderr)
    return 0
