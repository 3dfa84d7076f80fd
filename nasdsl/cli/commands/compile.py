"""`nasdsl compile NAME|FILE [--network N] -o model.py`: write the generated PyTorch module file
(`--supernet`: a space's supernet)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ...errors import NasError
from ...lang.load import input_files
from ...lang.source import check_output


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("target", metavar="NAME|FILE", help="a zoo network name or a .nas file")
    p.add_argument("--network", default=None, help="the network to compile (default: the file's first; "
                                                    "a file of cells alone gives a CIFAR network)")
    p.add_argument("--passes", default=None, metavar="A,B", help="optimization passes after shape, e.g. cse")
    p.add_argument("--supernet", action="store_true",
                   help="TARGET is a space: write its supernet (every child of the space, for one-shot search)")
    for flag, default, what in (("cells", 1, "proxy normal cells per stage"), ("filters", 8, "proxy F"),
                                ("image", 8, "input size"), ("classes", 10, "classes")):
        p.add_argument(f"--{flag}", type=int, help=f"--supernet: {what} (default {default})")
    p.add_argument("-o", "--output", default="-", metavar="model.py", help="output file ('-': stdout)")


SUPERNET_PROXY = ("cells", "filters", "image", "classes")  # --supernet's flags (codegen.supernet.Proxy's fields)


def _check_flags(args) -> None:
    """A flag of the other kind of compile is refused, not ignored."""
    given = [f"--{f}" for f in (("network", "passes") if args.supernet else SUPERNET_PROXY)
             if getattr(args, f) is not None]
    if given:
        raise NasError(f"{', '.join(given)}: {'not' if args.supernet else 'only'} for --supernet")


def run(args) -> int:
    from ...codegen.generate import generate_source

    _check_flags(args)
    if args.output != "-":
        if Path(args.output).suffix != ".py":
            raise NasError(f"{args.output}: the output must be a .py file")
        check_output(args.output, inputs=input_files(args.target))
    if args.supernet:
        from ...codegen.supernet import Proxy, supernet_source

        given = {f: getattr(args, f) for f in SUPERNET_PROXY if getattr(args, f) is not None}
        source = supernet_source(args.target, Proxy(**given))
    else:
        source = generate_source(args.target, args.network, passes=args.passes)
    if args.output == "-":
        sys.stdout.write(source)
        return 0
    out = Path(args.output)
    try:
        out.write_text(source, encoding="utf-8")
    except OSError as e:
        raise NasError(f"{args.output}: cannot write ({e.strerror})") from None
    print(f"wrote {out} ({len(source.splitlines())} lines)", file=sys.stderr)
    return 0
