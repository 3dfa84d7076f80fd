"""`nasdsl check FILE|NAME...`: parse, validate and lay out each network (the shapes compiling it
would meet); every problem of every file is reported."""
from __future__ import annotations

import argparse

from ...errors import NasError, print_error
from ...lang import ast
from ...lang.load import load
from ...skeletons import check_shapes


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", metavar="FILE|NAME", help=".nas files or zoo names; - reads standard input")


def run(args) -> int:
    failed: list[NasError] = []
    for target in args.files:
        try:
            program = load(target)
            for item in program.main.items:
                if isinstance(item, ast.Network):
                    check_shapes(program, item.name)
        except NasError as e:
            failed.append(e)
            print_error(e, args.debug)
            continue
        n = len(program.main.items)
        print(f"{'<stdin>' if target == '-' else target}: ok ({n} item{'s' if n != 1 else ''})")  # as its errors say
    return 2 if failed else 0
