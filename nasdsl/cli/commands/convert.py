"""`nasdsl convert`: DARTS / TF-slim genotypes to .nas, and .nas cells to TF-slim or DARTS."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ...errors import Diagnostic, NasError
from ...lang import ast
from ...lang.convert import from_darts, from_tfslim, to_darts, to_tfslim
from ...lang.fmt import format_module
from ...lang.load import Program, load, target_cells
from ...lang.resolve import NAME
from ...lang.source import is_user_file, looks_like_path, read_text
from ...lang.validate import RESERVED


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", metavar="TEXT|FILE|-|NAME",
                   help="genotype text, a file holding it, '-' for stdin; with --from nas a .nas "
                        "file or zoo name")
    p.add_argument("--from", dest="src", choices=("darts", "tfslim", "nas"), default="darts",
                   help="input format (default darts)")
    p.add_argument("--to", dest="dst", choices=("nas", "tfslim", "darts"), default="nas",
                   help="output format (default nas)")
    p.add_argument("--name", default=None,
                   help="cell name (tfslim; default 'cell') or name prefix of an unassigned DARTS "
                        "genotype (default 'darts')")
    p.add_argument("--kind", choices=("normal", "reduction", "any"), default=None,
                   help="kind of the cell read from TF-slim lists (default any)")
    p.add_argument("--cell", action="append", default=None,
                   help="with --from nas: the cell(s) to convert (default: every cell of the file)")
    p.add_argument("--reduce", default=None,
                   help="with --to darts: the reduction cell (default: the network's, or none)")


def _text(source: str) -> tuple[str, str]:
    """(text, file name for messages): stdin for `-`, a file's text, or the argument itself when it
    is genotype text (it has brackets); a name that is neither is a missing file."""
    if source == "-":
        return read_text("-"), "<stdin>"
    try:
        path = Path(source)
        if "\n" not in source and len(source) < 4096 and (is_user_file(path) or path.is_dir()):
            return read_text(path), source
    except (OSError, ValueError):
        pass
    if not any(c in source for c in "([") and looks_like_path(source):
        raise NasError(Diagnostic("no such file (and not genotype text)", source))
    return source, ""


def _module(args) -> tuple[ast.Module, Program | None]:
    """The cells to convert, and the program they come from (--from nas; loaded once: `-` is
    standard input, which reads once)."""
    if args.src == "darts":
        text, file = _text(args.source)
        return from_darts(text, args.name or "darts", *([file] if file else [])), None
    if args.src == "tfslim":
        text, file = _text(args.source)
        return from_tfslim(text, args.name or "cell", args.kind or "any", *([file] if file else [])), None
    program = load(args.source)
    names = args.cell or target_cells(program, args.source, "to convert")
    missing = [n for n in names if n not in program.cells]
    if missing:
        raise NasError(f"{args.source}: no cell named {', '.join(missing)}")
    if not names:
        raise NasError(f"{args.source}: no cells")
    return ast.Module(tuple(program.cells[n] for n in names), args.source), program


# flag -> the formats it is for ((--from, --to) values); given with others it would do nothing
FLAG_FORMATS = {"name": ("--from", ("darts", "tfslim")), "kind": ("--from", ("tfslim",)),
                "cell": ("--from", ("nas",)), "reduce": ("--to", ("darts",))}


def run(args) -> int:
    for flag, (side, formats) in FLAG_FORMATS.items():
        given = args.src if side == "--from" else args.dst
        if getattr(args, flag) is not None and given not in formats:
            raise NasError(f"--{flag} is for {side} {' or '.join(formats)}; it does nothing with {side} {given}")
    if args.name is not None and (not NAME.match(args.name) or args.name in RESERVED):
        raise NasError(f"--name {args.name!r} is not a .nas name (a letter or _, then letters, digits or _; "
                       "not a keyword)")
    module, program = _module(args)
    cells = list(module.cells.values())
    if args.dst == "nas":
        sys.stdout.write(format_module(module))
    elif args.dst == "tfslim":
        for i, cell in enumerate(cells):
            sys.stdout.write(("\n" if i else "") + f"# {cell.name}\n" + to_tfslim(cell))
    else:
        sys.stdout.write(to_darts(*_darts_pair(args, program, module, cells)) + "\n")
    return 0


def _darts_pair(args, program: Program | None, module: ast.Module,
                cells: list[ast.Cell]) -> tuple[ast.Cell, ast.Cell | None]:
    """(normal, reduce) for a DARTS Genotype: a network's pair; else the one normal-or-any cell and
    the one reduction cell (or --reduce); more than one of either is a mistake, not a guess."""
    if program is not None and args.source in program.networks and not args.cell and args.reduce is None:
        spec = program.network_spec(args.source)
        return program.cells[spec.normal], program.cells[spec.reduction]
    if args.reduce is not None:
        table = program.cells if program else module.cells
        if args.reduce not in table:
            raise NasError(f"no cell named {args.reduce}")
        reduces = [table[args.reduce]]
    else:
        reduces = [c for c in cells if c.kind == "reduction"]
    normals = [c for c in cells if c not in reduces and c.kind != "reduction"]
    if not normals:
        raise NasError("--to darts needs a normal cell")
    for role, found in (("normal", normals), ("reduction", reduces)):
        if len(found) > 1:
            names = ", ".join(c.name for c in found)
            raise NasError(f"{args.source}: {len(found)} {role} cells ({names}); a Genotype holds one pair: "
                           "name it with --cell NORMAL --reduce REDUCTION, or give a network")
    return normals[0], (reduces or [None])[0]
