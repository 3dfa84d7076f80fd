"""Front-end timing: parse, parse + imports + validation (load_text) and format of every zoo file.

Prints the median of --repeats runs per file and for the whole zoo, and, as a reference point, our
eval-free genotype reader against CPython's own parser (`ast.literal_eval`, C code) on DARTS'
genotypes. Exits 1 if the whole zoo's parse + validate median exceeds --budget-ms (100: about 5x
the 21 ms measured on the idle machine, so a slip to quadratic work shows), or if our reader takes
more than --max-ratio (3) times ast.literal_eval's time.

    python benchmarks/bench_frontend.py [--repeats 30] [--budget-ms 100] [--max-ratio 3]
"""
from __future__ import annotations

import argparse
import ast as pyast
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nasdsl.lang.convert import from_darts  # noqa: E402
from nasdsl.lang.fmt import format_module  # noqa: E402
from nasdsl.lang.load import load_text  # noqa: E402
from nasdsl.lang.parse import parse  # noqa: E402
from nasdsl.resources import zoo_dir  # noqa: E402

GENOTYPES = [  # DARTS cnn/genotypes.py's DARTS_V2, four times over with other names
    f"G{i} = Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), "
    "('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), "
    "('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), "
    "('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), "
    "('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])"
    for i in range(4)
]


def median_ms(fn, repeats: int) -> float:
    fn()  # warm: grammar and parser tables are built once per process
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def literal_eval_genotypes(text: str) -> list:
    """The reference: CPython's parser reads each Genotype(...) call's arguments as literals."""
    out = []
    for stmt in pyast.parse(text).body:
        call = stmt.value
        out.append({kw.arg: pyast.literal_eval(kw.value) for kw in call.keywords})
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=30)
    p.add_argument("--budget-ms", type=float, default=100.0,
                   help="fail if the zoo's parse + validate median exceeds this")
    p.add_argument("--max-ratio", type=float, default=3.0,
                   help="fail if our genotype reader takes more than this times ast.literal_eval")
    args = p.parse_args(argv)

    files = sorted(zoo_dir().glob("*.nas"))
    texts = {f.name: f.read_text() for f in files}
    print(f"front end, median of {args.repeats} runs (ms)")
    print(f"{'file':<16}{'lines':>6}{'parse':>9}{'parse+validate':>16}{'format':>9}")
    for name, text in texts.items():
        module = parse(text, name)
        t_parse = median_ms(lambda text=text, name=name: parse(text, name), args.repeats)
        t_load = median_ms(lambda text=text, name=name: load_text(text, name), args.repeats)
        t_fmt = median_ms(lambda module=module: format_module(module), args.repeats)
        print(f"{name:<16}{text.count(chr(10)):>6}{t_parse:>9.2f}{t_load:>16.2f}{t_fmt:>9.2f}")

    def whole_zoo_parse():
        for name, text in texts.items():
            parse(text, name)

    def whole_zoo_load():
        for name, text in texts.items():
            load_text(text, name)

    total_parse = median_ms(whole_zoo_parse, args.repeats)
    total_load = median_ms(whole_zoo_load, args.repeats)
    n_lines = sum(t.count("\n") for t in texts.values())
    print(f"{'whole zoo':<16}{n_lines:>6}{total_parse:>9.2f}{total_load:>16.2f}")
    print(f"  = {n_lines / total_load * 1e3:,.0f} lines/s parsed and validated")

    text = "\n".join(GENOTYPES)
    ours = median_ms(lambda: from_darts(text), args.repeats)
    ref = median_ms(lambda: literal_eval_genotypes(text), args.repeats)
    print(f"\nDARTS genotype reading, 4 genotypes: ours (no eval) {ours:.3f} ms, "
          f"CPython ast.literal_eval {ref:.3f} ms, ratio ours/ref {ours / ref:.2f}")

    failed = []
    if total_load > args.budget_ms:
        failed.append(f"whole zoo parse + validate {total_load:.1f} ms > budget {args.budget_ms:g} ms")
    if ours / ref > args.max_ratio:
        failed.append(f"genotype reader {ours / ref:.2f}x ast.literal_eval > {args.max_ratio:g}x")
    print(f"targets: zoo <= {args.budget_ms:g} ms, reader <= {args.max_ratio:g}x ast.literal_eval: "
          + ("met" if not failed else "MISSED"))
    for f in failed:
        print(f"FAIL: {f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
