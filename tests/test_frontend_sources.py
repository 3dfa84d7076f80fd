"""Source text as the front end reads it: file names, line ends, import chains, names."""
from __future__ import annotations

import pytest

from nasdsl.cli.dispatch import main as cli
from nasdsl.errors import NasError, diag_at
from nasdsl.lang.fmt import format_text
from nasdsl.lang.load import MAX_IMPORT_DEPTH, load_text
from nasdsl.lang.resolve import load_program

CELL = "cell c { b0 = id(h0) out = concat(b0) }\n"


def test_a_file_whose_name_looks_like_text_is_read_as_a_file(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a{b}.nas").write_text(CELL)
    (tmp_path / "x\ny.nas").write_text(CELL)
    assert set(load_program("a{b}.nas").cells) == {"c"}
    assert set(load_program("x\ny.nas").cells) == {"c"}
    assert cli(["compile", "a{b}.nas", "-o", "out.py"]) == 0, capsys.readouterr().err
    assert load_program(CELL).main.file == "<input>"  # text is still text


@pytest.mark.parametrize("brk", ["\f", "\v", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"])
def test_diagnostics_count_lines_by_newline_only(brk):
    text = f"# note{brk}page 2\ncell c {{ b0 = idd(h0) out = concat(b0) }}\n"
    with pytest.raises(NasError) as e:
        load_text(text, "ff.nas")
    d = e.value.diagnostics[0]
    assert (d.line, d.source_line) == (2, "cell c { b0 = idd(h0) out = concat(b0) }")
    assert d.source_line[d.col - 1:].startswith("idd")


def test_diag_at_drops_the_carriage_return_of_a_crlf_line():
    d = diag_at("x", "a\r\nbb\r\n", "f", 2, 1)
    assert d.source_line == "bb"


def test_a_lone_carriage_return_ends_a_line(capsys):
    text = "# my cells\rcell c {\r b0 = id(h0)\r out = concat(b0)\r}\r"
    program = load_text(text, "cr.nas")
    assert set(program.cells) == {"c"} and program.cells["c"].blocks[0].pos.line == 3
    with pytest.raises(NasError) as e:
        load_text(text.replace("id(h0)", "idd(h0)"), "cr.nas")
    d = e.value.diagnostics[0]
    assert (d.line, d.source_line) == (3, " b0 = idd(h0)")
    assert format_text(text) == "# my cells\ncell c {\n    b0 = id(h0)\n    out = concat(b0)\n}\n"


def test_fmt_check_does_not_write_a_cr_file(tmp_path, capsys):
    path = tmp_path / "cr.nas"
    data = b"# my cells\rcell c {\r b0 = id(h0)\r out = concat(b0)\r}\r"
    path.write_bytes(data)
    assert cli(["check", str(path)]) == 0
    assert "ok (1 item)" in capsys.readouterr().out
    assert cli(["fmt", "--check", str(path)]) == 1
    assert path.read_bytes() == data


def _chain(tmp_path, depth: int) -> None:
    for i in range(depth):
        (tmp_path / f"f{i}.nas").write_text(f'import "f{i + 1}.nas"\n')
    (tmp_path / f"f{depth}.nas").write_text(CELL)


def test_a_deep_import_chain_is_a_located_error(tmp_path, capsys):
    _chain(tmp_path, 500)
    assert cli(["check", str(tmp_path / "f0.nas")]) == 2
    err = capsys.readouterr().err
    assert f"import chain too deep: more than {MAX_IMPORT_DEPTH} files" in err
    assert f"f{MAX_IMPORT_DEPTH - 1}.nas:1:1: error" in err and "Traceback" not in err


def test_an_import_chain_at_the_limit_loads(tmp_path):
    _chain(tmp_path, MAX_IMPORT_DEPTH - 1)
    assert set(load_program(str(tmp_path / "f0.nas")).cells) == {"c"}


NET = "network n {\n    normal = c\n    reduction = c\n    cells = 1\n    filters = 8\n}\n"


def test_standard_input_is_read_once_for_all_its_uses(tmp_path):
    """`ir -` and `convert ... --reduce R -` load the text twice; the second read found stdin empty."""
    from proc_helpers import run_cli

    r = run_cli("ir", "-", "--passes", "shape", input=CELL + NET)
    assert r.returncode == 0 and "b0" in r.stdout, r.stderr
    r = run_cli("check", "-", input=CELL)  # named as its errors name it ("-: ok" before)
    assert r.returncode == 0 and r.stdout.startswith("<stdin>: ok"), r.stdout


def test_the_files_standard_input_imports_are_inputs_not_outputs(tmp_path):
    """`compile - -o F`, `viz - -o F` and `stats - --plot F` refuse an F the text on stdin imports, as
    they refuse one a file imports: they overwrote it."""
    from proc_helpers import run_cli, user_error

    for lib, argv in (("lib.py", ["compile", "-", "-o", "lib.py"]), ("lib.svg", ["viz", "-", "--cell", "c", "-o", "lib.svg"]),
                      ("lib.svg", ["stats", "-", "--plot", "lib.svg"])):
        (tmp_path / lib).write_text(CELL)
        r = run_cli(*argv, input=f'import "{lib}"\n' + NET, cwd=tmp_path)
        user_error(r, "names the input file", one_line=True)
        assert (tmp_path / lib).read_text() == CELL, argv


def test_a_pipe_given_by_name_is_read(tmp_path):
    """/dev/stdin and process substitution (/dev/fd/N) are pipes, not regular files: they were
    refused as missing files."""
    from proc_helpers import run_cli

    for argv in (["check", "/dev/stdin"], ["fmt", "/dev/stdin"]):
        r = run_cli(*argv, input=CELL)
        assert r.returncode == 0, (argv, r.stderr)
    r = run_cli("convert", "/dev/stdin", input="Genotype(normal=[('sep_conv_3x3', 0), ('none', 1)])")
    assert r.returncode == 0 and "darts_normal" in r.stdout, r.stderr
