"""`nasdsl fmt [--check | --write] FILE...`: print (or check, or rewrite) the canonical form."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ...errors import NasError, print_error
from ...lang.fmt import format_item, format_module
from ...lang.load import zoo_index
from ...lang.parse import parse
from ...lang.source import BOM, check_output, is_user_file, read_text, replace_file


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", metavar="FILE|NAME",
                   help=".nas files, or zoo names (their own definition); - reads standard input")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true",
                      help="print nothing but the files that would change; exit 1 if any")
    mode.add_argument("--write", action="store_true", help="rewrite files in place")


def _source(target: str) -> tuple[str, Path | None]:
    """The text to format and the file it came from (None for a zoo entry or stdin)."""
    if target == "-":
        return read_text("-"), None
    path = Path(target)
    if is_user_file(path) or path.is_dir():
        return read_text(path), path
    if target in zoo_index():
        return zoo_index()[target].read_text(encoding="utf-8"), None
    raise NasError(f"{target}: no such file or zoo entry")


def _rewrite(path: Path, formatted: str) -> None:
    """Replace the file with its canonical form, whole or not at all; a BOM is kept (the formatter does
    not own it)."""
    check_output(path, "--write")
    bom = BOM if path.read_bytes().startswith(BOM) else b""
    replace_file(path, bom + formatted.encode("utf-8"))


def run(args) -> int:
    bad, changed = False, []
    for target in args.files:
        try:
            text, path = _source(target)
            module = parse(text, target)
            formatted = format_module(module)
            shown = formatted if path or target == "-" else format_item(module, target)
        except NasError as e:
            print_error(e, args.debug)
            bad = True
            continue
        if args.check:
            if formatted != text:
                changed.append(target)
                print(f"would reformat {target}")
        elif args.write:
            if path is None:
                print(f"{target}: {'standard input' if target == '-' else 'a zoo entry'}; not rewritten",
                      file=sys.stderr)
                bad = True
            elif formatted != text:
                try:
                    _rewrite(path, formatted)
                except NasError as e:
                    print_error(e, args.debug)
                    bad = True
                    continue
                print(f"reformatted {target}")
        else:
            sys.stdout.write(shown)  # a zoo name: its own definition, not its whole file
    if bad:
        return 2
    return 1 if changed else 0
