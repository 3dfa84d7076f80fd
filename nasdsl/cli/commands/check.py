"""`nasdsl check FILE|NAME...`: parse and validate; every problem of every file is reported."""
from __future__ import annotations

import argparse

from ...errors import NasError, print_error
from ...lang.load import load


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", metavar="FILE|NAME", help=".nas files or zoo names; - reads standard input")


def run(args) -> int:
    failed: list[NasError] = []
    for target in args.files:
        try:
            program = load(target)
        except NasError as e:
            failed.append(e)
            print_error(e, args.debug)
            continue
        n = len(program.main.items)
        print(f"{target}: ok ({n} item{'s' if n != 1 else ''})")
    return 2 if failed else 0
