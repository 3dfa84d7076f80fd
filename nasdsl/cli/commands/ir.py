"""`nasdsl ir FILE|NAME [--cell C] [--passes a,b] [--network N]`: print cells' IR after passes.

Without a network the plain IR is printed (passes that need shapes say so). With a network
context (`--network`, or implied by a pipeline with shape or by `--at`), each cell is shaped where
it first sits in that network, or at `--at ATTR` (e.g. reduction_cell_1), and prints with its
metadata. The network is chosen as `nasdsl compile` chooses it: the named one, the file's (or the
zoo name's) network, else the CIFAR network a file of cells compiles to.
"""
from __future__ import annotations

import argparse

from ...errors import NasError
from ...ir.cost import resolve
from ...ir.graph import cell_graph, print_graph
from ...ir.passes.manager import parse_pipeline, passes, run_pipeline
from ...lang.load import Program, load, target_cells
from ...lang.ops import known_list, suggest
from ...lang.resolve import kind_of
from ...lang.spec import NetworkSpec


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("target", nargs="?", metavar="FILE|NAME", help="a .nas file or a zoo name")
    p.add_argument("--cell", action="append", metavar="C", help="only this cell (repeatable)")
    p.add_argument("--passes", default="", metavar="a,b",
                   help="pipeline to run first, e.g. shape,cse,fold-identity,dead-block,cost")
    p.add_argument("--network", metavar="N", help="shape the cells where they sit in this network")
    p.add_argument("--at", metavar="ATTR", help="the cell instance to shape (e.g. cell_0, reduction_cell_1)")
    p.add_argument("--dump", action="store_true", help="print the IR after every pass, not just the last")
    p.add_argument("--no-meta", action="store_true", help="leave out the analysis metadata")
    p.add_argument("--list-passes", action="store_true", help="list the registered passes and exit")


def run(args) -> int:
    if args.list_passes:
        for name, ps in sorted(passes().items()):
            print(f"{name:<14} {ps.doc}")
        return 0
    if args.target is None:
        raise NasError("the following arguments are required: FILE|NAME (or --list-passes)")
    program = load(args.target)
    names = parse_pipeline(args.passes)
    cells = _cells(program, args.cell) if args.cell else target_cells(program, args.target, "to print")
    spec = None
    if args.network is not None or "shape" in names or args.at:
        _need_network_for_a_cell(program, args)
        program, spec = resolve(args.target, args.network, command="nasdsl ir (with shape)")
        if "shape" not in names:
            names = ["shape", *names]
    chunks = []
    for name in cells:
        g = cell_graph(program.cells[name])
        ctx, where = (None, "")
        if spec is not None:
            ctx, where = instance_context(program, spec, name, args.at)
        result = run_pipeline(g, names, ctx, dump=args.dump)
        head = f"# {name}" + (f" at {where}" if where else "") + "\n"
        if names:
            head += "# passes: " + ", ".join(f"{n} ({'changed' if c else 'unchanged'})"
                                             for n, c in result.changed.items()) + "\n"
        body = result.dump_text(not args.no_meta) if args.dump else print_graph(result.graph, not args.no_meta)
        chunks.append(head + body)
    print("\n".join(chunks), end="")
    return 0


def _need_network_for_a_cell(program: Program, args) -> None:
    """A cell named alone is shaped in a network the user names: say which ones hold it."""
    if args.network is None and kind_of(program, args.target) == "cell":
        using = [n for n, net in program.networks.items()
                 if args.target in (str(net.get("normal")), str(net.get("reduction")))]
        raise NasError(f"shaping the cell {args.target!r} needs a network it sits in: add --network N"
                       + (f" (it sits in {', '.join(sorted(using))})" if using else ""))


def _cells(program: Program, wanted: list[str]) -> list[str]:
    for c in wanted:
        if c not in program.cells:
            raise NasError(f"no cell {c!r}" + _hint(c, program.cells))
    return wanted


def _hint(name: str, known) -> str:
    hint = suggest(name, known)
    return (f"; {hint}" if hint else "") + f" (known: {known_list(known) or 'none'})"


def instance_context(program: Program, spec: NetworkSpec, cell: str, at: str | None = None):
    """(CellContext, description) of where `cell` sits in the network: its first instance, or `at`."""
    from ...skeletons import plan

    network = spec.name
    layout = plan(program, spec)
    if at is not None:
        found = [i for i in layout.cells if i.attr == at]
        if not found:
            raise NasError(f"network {network} has no cell instance {at!r}"
                           + _hint(at, [i.attr for i in layout.cells]))
        if found[0].cell != cell:
            raise NasError(f"{at} of network {network} is the cell {found[0].cell!r}, not {cell!r}")
    else:
        found = [i for i in layout.cells if i.cell == cell]
        if not found:
            used = sorted({i.cell for i in layout.cells})
            raise NasError(f"cell {cell!r} is not used by network {network} (it uses {', '.join(used)}); "
                           f"pick one with --cell")
    inst, ctx = found[0], found[0].ctx
    prev = "itself" if ctx.prev_channels is None else f"{ctx.prev_channels}ch {_hw(ctx.prev_hw)}"
    where = (f"{inst.attr} of {network}: input {ctx.in_channels}ch {_hw(ctx.in_hw)}, previous {prev}, "
             f"F={ctx.filters}{', reduction' if ctx.reduction else ''}")
    return ctx, where


def _hw(hw) -> str:
    return f"{hw[0]}x{hw[1]}" if hw else "?"
