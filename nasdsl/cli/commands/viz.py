"""`nasdsl viz NAME|FILE [--cell C] -o OUT.svg|png|dot`: draw cells like the NASNet paper's figures."""
from __future__ import annotations

import argparse

from ...errors import Diagnostic, NasError
from ...lang import ast
from ...lang.load import Program, input_files, load, network_cells, target_cells
from ...lang.ops import known_list, suggest
from ...lang.source import check_output


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", metavar="NAME|FILE", help="a .nas file or a zoo entry (cell or network)")
    parser.add_argument("--cell", action="append", metavar="C",
                        help="the cell to draw (repeatable; a network name draws its cells). "
                             "Default: every cell the file defines, side by side")
    parser.add_argument("-o", "--output", required=True, metavar="OUT",
                        help="output file: .svg, .png or .dot (format from the suffix)")


def select_cells(program: Program, target: str, wanted: list[str] | None) -> list[ast.Cell]:
    """The cells to draw: `wanted` by name, else what `target` names or defines."""
    names: list[str] = []
    if wanted:
        for w in wanted:
            if w in program.cells:
                names.append(w)
            elif w in program.networks:
                names += network_cells(program.networks[w])
            else:
                hint = suggest(w, list(program.cells) + list(program.networks))
                raise NasError(Diagnostic(f"no cell or network named {w!r}" + (f"; {hint}" if hint else "")
                                          + f" (cells: {known_list(program.cells) or 'none'})", target))
    else:
        names = target_cells(program, target, "to draw")
    return [program.cells[n] for n in dict.fromkeys(names)]


def run(args: argparse.Namespace) -> int:
    from ...viz.draw import write

    check_output(args.output, inputs=input_files(args.target))
    program = load(args.target)
    cells = select_cells(program, args.target, args.cell)
    out = write(cells, args.output)
    print(f"wrote {out} ({', '.join(c.name for c in cells)})")
    return 0
