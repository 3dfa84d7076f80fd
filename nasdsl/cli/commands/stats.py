"""`nasdsl stats NAME|FILE [--network N] [--plot out.png]`: parameters and mult-adds per stage.

Counted from the IR and the skeleton alone (no torch): stem, each stage of normal cells, each
reduction, the aux head (training only, shown when the network has one) and the classifier.
"""
from __future__ import annotations

import argparse

from ...ir.cost import DEFAULT_PIPELINE, cost, resolve
from ...lang.load import input_files
from ...lang.source import check_output


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("target", metavar="NAME|FILE", help="a zoo network name or a .nas file")
    p.add_argument("--network", metavar="N", help="which network of the file (default: its first)")
    p.add_argument("--plot", metavar="OUT", help="also draw the per-stage bars into OUT (.png, .svg, .pdf)")
    aux = p.add_mutually_exclusive_group()
    aux.add_argument("--aux-head", dest="aux", action="store_true", default=None,
                     help="count the aux head (default: when the network has one)")
    aux.add_argument("--no-aux-head", dest="aux", action="store_false", help="leave the aux head out")
    p.add_argument("--cells", action="store_true", help="also list every cell instance")
    p.add_argument("--passes", default=DEFAULT_PIPELINE, metavar="a,b",
                   help=f"pipeline for every cell instance (default: {DEFAULT_PIPELINE})")


def run(args) -> int:
    if args.plot:
        from ...viz.draw import check_plot_name

        check_plot_name(args.plot)  # before any output, as every check of --plot
        check_output(args.plot, "--plot", inputs=input_files(args.target))
    program, spec = resolve(args.target, args.network)
    aux = spec.aux_head if args.aux is None else args.aux
    report = cost(program, spec.name if spec.name in program.networks else None, aux_head=aux,
                  pipeline=args.passes)
    print(f"network {report.network}: {spec.image}x{spec.image} input, {report.classes} classes, "
          f"skeleton {spec.skeleton}, {spec.n} cells per stage, F={spec.filters}")
    print(report.table())
    if aux:
        aux_row = [r for r in report.rows if r.stage == "aux head"]
        if aux_row:
            print(f"inference (no aux head): {_human(report.params - aux_row[0].params)} params, "
                  f"{_human(report.madds - aux_row[0].madds)} mult-adds")
    print(f"total: {_human(report.params)} params, {_human(report.madds)} mult-adds")
    if args.cells:
        print()
        width = max(len(i.attr) for i in report.instances)
        for i in report.instances:
            print(f"{i.attr:<{width}}  {i.cell:<20} {i.stage:<12} {i.params:>12,} {i.madds:>16,}")
    if args.plot:
        from ...viz.draw import plot_stage_costs

        path = plot_stage_costs([(r.stage, r.params, r.madds) for r in report.rows], args.plot)
        print(f"wrote {path}")
    return 0


def _human(n: float) -> str:
    for scale, unit in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(n) >= scale:
            return f"{n / scale:.2f}{unit}"
    return str(int(n))
