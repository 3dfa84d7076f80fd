"""Golden error messages (tests/golden/errors/*.nas -> *.expected) and the CLI's exit codes.

Regenerate the expected files after a deliberate message change with
`NASDSL_UPDATE_GOLDEN=1 pytest tests/test_frontend_errors.py`, then read the diff.
"""
import os
from pathlib import Path

import pytest
from proc_helpers import run_cli, user_error

from nasdsl.errors import NasError
from nasdsl.lang.load import load_text

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "errors"
CASES = sorted(p.stem for p in GOLDEN.glob("*.nas"))


def _render(name: str) -> str:
    text = (GOLDEN / f"{name}.nas").read_text()
    with pytest.raises(NasError) as e:
        load_text(text, f"{name}.nas")
    return e.value.render() + "\n"


@pytest.mark.parametrize("name", CASES)
def test_golden_error(name):
    got = _render(name)
    expected = GOLDEN / f"{name}.expected"
    if os.environ.get("NASDSL_UPDATE_GOLDEN"):
        expected.write_text(got)
    assert expected.is_file(), f"missing {expected.name}; run with NASDSL_UPDATE_GOLDEN=1"
    assert got == expected.read_text()


def test_every_error_has_position_and_caret():
    for name in CASES:
        text = (GOLDEN / f"{name}.nas").read_text()
        with pytest.raises(NasError) as e:
            load_text(text, f"{name}.nas")
        for d in e.value.diagnostics:
            assert d.line >= 1 and d.col >= 1, (name, d)
            assert d.source_line == text.splitlines()[d.line - 1], (name, d)


def test_all_errors_reported_at_once():
    text = (GOLDEN / "many_errors.nas").read_text()
    with pytest.raises(NasError) as e:
        load_text(text, "many_errors.nas")
    lines = [d.line for d in e.value.diagnostics]
    assert len(lines) >= 9 and lines == sorted(lines)
    assert {2, 3, 5, 11, 12, 15, 16} <= set(lines)


def test_unknown_op_lists_known_and_suggests():
    with pytest.raises(NasError) as e:
        load_text("cell c {\n  b0 = sep3x4(h0) + id(h1)\n  out = concat(unused)\n}\n")
    (d,) = e.value.diagnostics
    assert "did you mean 'sep3x3'?" in d.hint and "known ops: avg3x3, conv1x1" in d.hint
    assert (d.line, d.col) == (2, 8)


def test_end_of_input_points_at_last_line():
    text = (GOLDEN / "syntax_end_of_input.nas").read_text()
    with pytest.raises(NasError) as e:
        load_text(text, "x.nas")
    (d,) = e.value.diagnostics
    assert d.line == 3 and d.source_line.strip() == "out = concat(unused)"
    assert d.message == "missing '}'"


@pytest.mark.parametrize("text,label", [
    ("cell c : normal { b0 = id(h0) }", "a cell ends with `out = concat(...)`"),
    ("cell c { b0 = id(h0) }", "a cell ends with `out = concat(...)`"),
    ("cell c { b0 = id(h0) + }", "nothing follows '+'"),
    ("cell c { b0 = concat(id(h0) id(h1)) out = concat(b0) }", "missing ',' between branches"),
    ("cell { out = concat(h0) }", "a cell, network or space needs a name"),
    ("network n { image: 224 }", "missing '=' after the name"),
    ("network n { cells = 4 @ }", "`N @ P` takes two numbers, e.g. `cells = 4 @ 1056`"),
    ("import", "`import` takes a zoo name or a quoted path"),
    ("cell c { out = concat(h0) } }", "expected `cell`, `network`, `space` or `import`"),
    ("cell c { out = concat() }", "concat(...) needs at least one state (or `unused`, `blocks`)"),
])
def test_syntax_labels(text, label):
    with pytest.raises(NasError) as e:
        load_text(text)
    assert e.value.diagnostics[0].message == label


def test_cli_check_exit_2_without_traceback():
    files = [str(GOLDEN / f"{n}.nas") for n in CASES]
    r = run_cli("check", *files)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout
    for n in CASES:  # every file's errors are printed, with its own path
        assert f"{n}.nas:" in r.stderr, n


@pytest.mark.parametrize("name", ["unknown_op", "syntax_end_of_input", "unknown_import"])
def test_cli_check_each_golden(name):
    r = run_cli("check", str(GOLDEN / f"{name}.nas"))
    assert r.returncode == 2 and "Traceback" not in r.stderr and "error:" in r.stderr


def test_cli_check_ok_and_missing_file():
    r = run_cli("check", "nasdsl/zoo/nasnet.nas", "darts_v2_normal")
    assert r.returncode == 0, r.stderr
    r = run_cli("check", "no/such.nas")
    assert r.returncode == 2 and "no such file" in r.stderr and "Traceback" not in r.stderr


SHAPES = """import nasnet_a_normal
import nasnet_a_reduce

network tiny {{
    normal = nasnet_a_normal
    reduction = nasnet_a_reduce
    cells = 1
    filters = 8
    {extra}
}}
"""


@pytest.mark.parametrize("extra, message", [
    ("stem_multiplier = 0.01", "network tiny: the stem has 0 filters"),
    ("aux_head = true\n    image = 8", "network tiny: the aux head needs at least 5x5 where it reads (cell_1), got 4x4"),
    ("stem = imagenet\n    image = 2", "network tiny: image 2 is smaller than the 3x3 stem conv"),
])
@pytest.mark.parametrize("command", [["check"], ["stats"], ["compile", "-o", "out.py"]])
def test_shapes_the_validator_cannot_see_are_located_at_the_network(tmp_path, extra, message, command):
    """A network whose layout fails (stem of 0 filters, aux head or stem bigger than the image):
    `check` said ok and `stats`/`compile` said so without a file or line."""
    path = tmp_path / "tiny.nas"
    path.write_text(SHAPES.format(extra=extra))
    r = run_cli(*command, str(path), cwd=tmp_path)
    err = user_error(r, f"{path}:4:1: error: {message}")
    assert "network tiny {" in err and "ok" not in r.stdout
    assert not (tmp_path / "out.py").exists()
