"""Golden pass tests: each tests/golden/passes/CASE.in holds a printed IR (with a `# pipeline:`
line and, for shape, a `# context:` line); CASE.out is the printed IR after the pipeline.
Regenerate with NASDSL_UPDATE_GOLDEN=1 after checking the difference by eye."""
import os
import re
from pathlib import Path

import pytest

from nasdsl.ir.graph import print_graph
from nasdsl.ir.passes import run_pipeline
from nasdsl.ir.passes.irtext import parse_graph
from nasdsl.ir.passes.shape import CellContext

GOLDEN = Path(__file__).parent / "golden" / "passes"
CASES = sorted(p.stem for p in GOLDEN.glob("*.in"))


def _header(text: str, key: str) -> str | None:
    m = re.search(rf"^# {key}: (.*)$", text, re.MULTILINE)
    return m.group(1).strip() if m else None


def _context(line: str | None) -> CellContext | None:
    if line is None:
        return None
    kv = dict(w.split("=", 1) for w in line.split())
    def hw(s: str) -> tuple[int, ...]:
        return tuple(int(x) for x in s.split("x"))

    return CellContext(int(kv["in_channels"]), hw(kv["in_hw"]),
                       int(kv["prev_channels"]) if "prev_channels" in kv else None,
                       hw(kv["prev_hw"]) if "prev_hw" in kv else None,
                       int(kv["filters"]), kv["reduction"] == "True", kv["family"])


def test_there_are_cases():
    assert len(CASES) >= 10


@pytest.mark.parametrize("case", CASES)
def test_golden(case):
    text = (GOLDEN / f"{case}.in").read_text()
    pipeline = _header(text, "pipeline")
    g = parse_graph(text, f"{case}.in")
    before = print_graph(g)
    result = run_pipeline(g, pipeline, _context(_header(text, "context")))
    got = print_graph(result.graph)
    assert print_graph(g) == before, "a pass mutated its input"
    out = GOLDEN / f"{case}.out"
    if os.environ.get("NASDSL_UPDATE_GOLDEN"):
        out.write_text(got)
    assert got == out.read_text()
    assert print_graph(parse_graph(got)) == got  # the printed form reads back
